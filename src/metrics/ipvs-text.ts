// The IPVS part of /metrics: per virtual service and per real server, from one kernel dump. With
// 10,000 services x 8 real servers this is over a million series, so it is written directly in the
// exposition format (Prometheus text 0.0.4 or OpenMetrics 1.0) rather than through prom-client's
// per-series label maps: one label string per service and per real server, reused by every family.
import type { Config } from '../config/model';
import { serviceKeys } from '../daemon/desired-table';
import { serverId } from '../health';
import { serviceId, type DestinationEntry, type ServiceKey, type VirtualServiceEntry } from '../ipvs';

type Kind = 'counter' | 'gauge';

interface Family<T> {
  /** Full sample name (counters end in _total). */
  readonly name: string;
  readonly kind: Kind;
  readonly help: string;
  readonly value: (x: T, configured?: number) => number | undefined;
}

const SERVICE_FAMILIES: Family<VirtualServiceEntry>[] = [
  c(
    'lbd_ipvs_service_connections_total',
    'Connections scheduled to the virtual service (kernel counter).',
    (s) => s.stats.conns,
  ),
  c(
    'lbd_ipvs_service_in_packets_total',
    'Packets received by the virtual service (client to server).',
    (s) => s.stats.inPackets,
  ),
  c(
    'lbd_ipvs_service_out_packets_total',
    'Packets sent by the virtual service (server to client).',
    (s) => s.stats.outPackets,
  ),
  c(
    'lbd_ipvs_service_in_bytes_total',
    'Bytes received by the virtual service (client to server).',
    (s) => s.stats.inBytes,
  ),
  c(
    'lbd_ipvs_service_out_bytes_total',
    'Bytes sent by the virtual service (server to client).',
    (s) => s.stats.outBytes,
  ),
  g(
    'lbd_ipvs_service_connections_per_second',
    "The kernel's estimate of new connections per second.",
    (s) => s.stats.cps,
  ),
  g(
    'lbd_ipvs_service_in_packets_per_second',
    "The kernel's estimate of incoming packets per second.",
    (s) => s.stats.inPps,
  ),
  g(
    'lbd_ipvs_service_out_packets_per_second',
    "The kernel's estimate of outgoing packets per second.",
    (s) => s.stats.outPps,
  ),
  g(
    'lbd_ipvs_service_in_bytes_per_second',
    "The kernel's estimate of incoming bytes per second.",
    (s) => s.stats.inBps,
  ),
  g(
    'lbd_ipvs_service_out_bytes_per_second',
    "The kernel's estimate of outgoing bytes per second.",
    (s) => s.stats.outBps,
  ),
];

const SERVER_FAMILIES: Family<DestinationEntry>[] = [
  c(
    'lbd_ipvs_server_connections_total',
    'Connections scheduled to the real server (kernel counter).',
    (d) => d.stats.conns,
  ),
  c('lbd_ipvs_server_in_packets_total', 'Packets forwarded to the real server.', (d) => d.stats.inPackets),
  c('lbd_ipvs_server_out_packets_total', 'Packets from the real server.', (d) => d.stats.outPackets),
  c('lbd_ipvs_server_in_bytes_total', 'Bytes forwarded to the real server.', (d) => d.stats.inBytes),
  c('lbd_ipvs_server_out_bytes_total', 'Bytes from the real server.', (d) => d.stats.outBytes),
  g(
    'lbd_ipvs_server_connections_per_second',
    "The kernel's estimate of new connections per second.",
    (d) => d.stats.cps,
  ),
  g(
    'lbd_ipvs_server_in_packets_per_second',
    "The kernel's estimate of packets per second to the server.",
    (d) => d.stats.inPps,
  ),
  g(
    'lbd_ipvs_server_out_packets_per_second',
    "The kernel's estimate of packets per second from the server.",
    (d) => d.stats.outPps,
  ),
  g(
    'lbd_ipvs_server_in_bytes_per_second',
    "The kernel's estimate of bytes per second to the server.",
    (d) => d.stats.inBps,
  ),
  g(
    'lbd_ipvs_server_out_bytes_per_second',
    "The kernel's estimate of bytes per second from the server.",
    (d) => d.stats.outBps,
  ),
  g('lbd_ipvs_server_active_connections', 'Active connections (ESTABLISHED for TCP).', (d) => d.activeConns),
  g(
    'lbd_ipvs_server_inactive_connections',
    'Inactive connections (other TCP states, UDP).',
    (d) => d.inactiveConns,
  ),
  g(
    'lbd_ipvs_server_weight',
    'Effective weight: the weight in the kernel now (0 = quiesced).',
    (d) => d.weight,
  ),
  g(
    'lbd_ipvs_server_configured_weight',
    'Weight in the configuration (real servers lbd manages).',
    (_d, w) => w,
  ),
];

function c<T>(name: string, help: string, value: (x: T) => number): Family<T> {
  return { name, kind: 'counter', help, value };
}
function g<T>(name: string, help: string, value: (x: T, w?: number) => number | undefined): Family<T> {
  return { name, kind: 'gauge', help, value };
}

/** Every IPVS family: name, type and help (for the README and the dashboard). */
export const IPVS_FAMILIES: readonly { name: string; kind: Kind; help: string; labels: string }[] = [
  ...SERVICE_FAMILIES.map((f) => ({ ...f, labels: 'protocol, address, port | fwmark, family' })),
  ...SERVER_FAMILIES.map((f) => ({ ...f, labels: 'protocol, address, port | fwmark, family, server' })),
];

/** The label set of a virtual service, without braces. */
export function serviceLabels(key: ServiceKey): string {
  return key.protocol === 'fwmark'
    ? `protocol="fwmark",family="${key.family}",fwmark="${key.fwmark}"`
    : `protocol="${key.protocol}",address="${key.address}",port="${key.port}"`;
}

/** Configured weights by service id, then by real server (ip:port), for the services of a config. */
export type ConfiguredWeights = Map<string, Map<string, number>>;

const weightCache = new WeakMap<Config, ConfiguredWeights>();

export function configuredWeights(config: Config): ConfiguredWeights {
  let m = weightCache.get(config);
  if (m) return m;
  m = new Map();
  for (const vs of config.virtual_servers) {
    const keys = serviceKeys(config, vs);
    for (const key of keys) {
      const servers = new Map<string, number>();
      const defaultPort = key.protocol === 'fwmark' ? 0 : key.port;
      for (const rs of vs.real_servers) servers.set(serverId(rs.address, rs.port ?? defaultPort), rs.weight);
      m.set(serviceId(key), servers);
    }
  }
  weightCache.set(config, m);
  return m;
}

export interface IpvsText {
  /** Exposition text, one buffer per family. */
  readonly chunks: Buffer[];
  readonly bytes: number;
  readonly series: number;
}

/** An append-only byte buffer for ASCII exposition text. */
export class Writer {
  buf: Buffer;
  off = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(Math.max(size, 1024));
  }
  ensure(n: number): void {
    if (this.off + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.off + n));
    this.buf.copy(next, 0, 0, this.off);
    this.buf = next;
  }
  bytes(b: Buffer): void {
    const n = b.length;
    this.ensure(n);
    this.buf.set(b, this.off); // TypedArray.set: a V8 builtin, no call into C++
    this.off += n;
  }
  text(s: string): void {
    this.ensure(s.length * 3);
    this.off += this.buf.write(s, this.off, 'utf8');
  }
  /** A value and the newline: 31-bit non-negative integers digit by digit, anything else through String. */
  value(v: number): void {
    this.ensure(32);
    const buf = this.buf;
    if (v >= 0 && v < 2147483648 && (v | 0) === v) {
      // 31-bit integers (connections, weights, rates, most counters): integer division.
      let digits = 1;
      for (let x = v; x >= 10; x = (x / 10) | 0) digits++;
      let at = this.off + digits;
      this.off = at;
      let x = v;
      do {
        const q = (x / 10) | 0;
        buf[--at] = 48 + x - q * 10;
        x = q;
      } while (x > 0);
    } else {
      this.off += buf.write(num(v), this.off, 'latin1');
    }
    buf[this.off++] = 10;
  }
  take(): Buffer {
    return this.buf.subarray(0, this.off);
  }
}

function num(v: number): string {
  return Number.isFinite(v) ? String(v) : v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN';
}

/** Renders the table. openMetrics: OpenMetrics 1.0 family headers (no # EOF; the caller ends the body). */
export function renderIpvs(
  table: readonly VirtualServiceEntry[],
  weights: ConfiguredWeights | undefined,
  openMetrics: boolean,
): IpvsText {
  // One label buffer per service and per real server ('{...} '), shared by every family.
  const svcLabels: Buffer[] = new Array(table.length);
  let nDest = 0;
  let svcBytes = 0;
  let destBytes = 0;
  for (const s of table) nDest += s.destinations.length;
  const destLabels: Buffer[] = new Array(nDest);
  const destWeight: (number | undefined)[] = new Array(nDest);
  const dests: DestinationEntry[] = new Array(nDest);
  let k = 0;
  for (let i = 0; i < table.length; i++) {
    const s = table[i];
    const labels = serviceLabels(s.key);
    svcLabels[i] = Buffer.from(`{${labels}} `, 'latin1');
    svcBytes += svcLabels[i].length;
    const w = weights?.get(serviceId(s.key));
    for (const d of s.destinations) {
      const id = serverId(d.address, d.port);
      destLabels[k] = Buffer.from(`{${labels},server="${id}"} `, 'latin1');
      destBytes += destLabels[k].length;
      destWeight[k] = w?.get(id);
      dests[k++] = d;
    }
  }
  const chunks: Buffer[] = [];
  let series = 0;
  let bytes = 0;
  const header = (f: Family<unknown>): string => {
    const base = openMetrics && f.kind === 'counter' ? f.name.slice(0, -'_total'.length) : f.name;
    return `# HELP ${base} ${f.help}\n# TYPE ${base} ${f.kind}\n`;
  };
  for (const f of SERVICE_FAMILIES) {
    const name = Buffer.from(f.name, 'latin1');
    const out = new Writer(svcBytes + table.length * (name.length + 24) + 256);
    out.text(header(f as Family<unknown>));
    for (let i = 0; i < table.length; i++) {
      out.bytes(name);
      out.bytes(svcLabels[i]);
      out.value(f.value(table[i]) as number);
    }
    series += table.length;
    const b = out.take();
    bytes += b.length;
    chunks.push(b);
  }
  for (const f of SERVER_FAMILIES) {
    const name = Buffer.from(f.name, 'latin1');
    const out = new Writer(destBytes + nDest * (name.length + 24) + 256);
    out.text(header(f as Family<unknown>));
    for (let j = 0; j < nDest; j++) {
      const v = f.value(dests[j], destWeight[j]);
      if (v === undefined) continue;
      out.bytes(name);
      out.bytes(destLabels[j]);
      out.value(v);
      series++;
    }
    const b = out.take();
    bytes += b.length;
    chunks.push(b);
  }
  return { chunks, bytes, series };
}
