// The IPVS part of /metrics: per virtual service and per real server, from one kernel dump. With
// 10,000 services x 8 real servers this is over a million series, so it is written directly in the
// exposition format rather than through prom-client's per-series label maps: one label string per
// service and per real server, built once and kept across renders while the table keeps that service
// and real server (only the values are written anew), reused by every family.
import type { Config } from '../config/model';
import { serviceKeys } from '../daemon/desired-table';
import { serverId } from '../health';
import { serviceId, type DestinationEntry, type ServiceKey, type VirtualServiceEntry } from '../ipvs';
import { Arena, rendered, Writer, type FamilyInfo, type Kind, type RenderedFamily } from './exposition';

interface Family<T> extends FamilyInfo {
  readonly value: (x: T, configured?: number) => number | undefined;
  /** One of the kernel's per-real-server rate estimates (left out unless asked for). */
  readonly serverRate?: boolean;
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
  rate(
    'lbd_ipvs_server_connections_per_second',
    "The kernel's estimate of new connections per second.",
    (d) => d.stats.cps,
  ),
  rate(
    'lbd_ipvs_server_in_packets_per_second',
    "The kernel's estimate of packets per second to the server.",
    (d) => d.stats.inPps,
  ),
  rate(
    'lbd_ipvs_server_out_packets_per_second',
    "The kernel's estimate of packets per second from the server.",
    (d) => d.stats.outPps,
  ),
  rate(
    'lbd_ipvs_server_in_bytes_per_second',
    "The kernel's estimate of bytes per second to the server.",
    (d) => d.stats.inBps,
  ),
  rate(
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
function rate(name: string, help: string, value: (d: DestinationEntry) => number): Family<DestinationEntry> {
  return { name, kind: 'gauge', help, value, serverRate: true };
}

/** Every IPVS family: name, type and help (for the README and the dashboard). */
export const IPVS_FAMILIES: readonly {
  name: string;
  kind: Kind;
  help: string;
  labels: string;
  serverRate: boolean;
}[] = [
  ...SERVICE_FAMILIES.map((f) => ({
    ...f,
    labels: 'protocol, address, port | fwmark, family',
    serverRate: false,
  })),
  ...SERVER_FAMILIES.map((f) => ({
    ...f,
    labels: 'protocol, address, port | fwmark, family, server',
    serverRate: f.serverRate === true,
  })),
];

/** The label set of a virtual service, without braces. */
export function serviceLabelText(key: ServiceKey): string {
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

/** A service's label buffers, kept across renders while the dump shows it with the same real servers. */
interface CachedService {
  /** `{labels} ` of the service. */
  readonly labels: Buffer;
  readonly text: string;
  addresses: string[];
  ports: number[];
  /** `{labels,server="ip:port"} ` of each real server, in the dump's order. */
  servers: Buffer[];
  /** The configured weights the `weights` array was read from. */
  weightsOf: ConfiguredWeights | undefined;
  weights: (number | undefined)[];
}

/** One dump, ready to render: every object's label buffer and configured weight. */
export interface PreparedTable {
  readonly table: readonly VirtualServiceEntry[];
  readonly serviceLabels: Buffer[];
  readonly serverLabels: Buffer[];
  readonly servers: DestinationEntry[];
  readonly configured: (number | undefined)[];
  readonly serviceLabelBytes: number;
  readonly serverLabelBytes: number;
}

/** Renders IPVS tables; keeps the label buffers of the last table for the next one. */
export class IpvsRenderer {
  private cache = new Map<string, CachedService>();

  /** The label buffers of a dump: from the previous render's where the service and real servers match. */
  prepare(table: readonly VirtualServiceEntry[], weights: ConfiguredWeights | undefined): PreparedTable {
    const next = new Map<string, CachedService>();
    const serviceLabels: Buffer[] = new Array(table.length);
    const serverLabels: Buffer[] = [];
    const servers: DestinationEntry[] = [];
    const configured: (number | undefined)[] = [];
    let serviceLabelBytes = 0;
    let serverLabelBytes = 0;
    for (let i = 0; i < table.length; i++) {
      const s = table[i];
      const id = serviceId(s.key);
      let c = this.cache.get(id) ?? next.get(id);
      if (!c) {
        const text = serviceLabelText(s.key);
        c = {
          labels: Buffer.from(`{${text}} `, 'latin1'),
          text,
          addresses: [],
          ports: [],
          servers: [],
          weightsOf: undefined,
          weights: [],
        };
      }
      next.set(id, c);
      const dests = s.destinations;
      if (!sameServers(c, dests)) {
        c.addresses = dests.map((d) => d.address);
        c.ports = dests.map((d) => d.port);
        c.servers = dests.map((d) =>
          Buffer.from(`{${c.text},server="${serverId(d.address, d.port)}"} `, 'latin1'),
        );
        c.weightsOf = undefined;
      }
      if (c.weightsOf !== weights || c.weights.length !== dests.length) {
        const w = weights?.get(id);
        c.weights = dests.map((d) => w?.get(serverId(d.address, d.port)));
        c.weightsOf = weights;
      }
      serviceLabels[i] = c.labels;
      serviceLabelBytes += c.labels.length;
      for (let j = 0; j < dests.length; j++) {
        serverLabels.push(c.servers[j]);
        serverLabelBytes += c.servers[j].length;
        servers.push(dests[j]);
        configured.push(c.weights[j]);
      }
    }
    this.cache = next;
    return { table, serviceLabels, serverLabels, servers, configured, serviceLabelBytes, serverLabelBytes };
  }

  /** The families of a prepared table: all but the per-server rate estimates, or only those (rates);
   * written into `arena`, by default one of their own. */
  render(t: PreparedTable, rates: boolean, arena = new Arena(estimate(t, rates))): RenderedFamily[] {
    return this.steps(t, rates, arena).map((step) => step());
  }

  /** The same, one family per step (the collector lets the event loop run between steps). */
  steps(t: PreparedTable, rates: boolean, arena: Arena): (() => RenderedFamily)[] {
    const out: (() => RenderedFamily)[] = [];
    if (!rates) for (const f of SERVICE_FAMILIES) out.push(() => renderServiceFamily(t, f, arena));
    for (const f of SERVER_FAMILIES)
      if ((f.serverRate === true) === rates) out.push(() => renderServerFamily(t, f, arena));
    return out;
  }
}

/** Bytes the families of a prepared table take, about (names and values at most 72 bytes a line). */
export function estimate(t: PreparedTable, rates: boolean): number {
  const server = SERVER_FAMILIES.filter((f) => (f.serverRate === true) === rates).length;
  const service = rates ? 0 : SERVICE_FAMILIES.length;
  return (
    service * (t.serviceLabelBytes + t.table.length * 72) +
    server * (t.serverLabelBytes + t.servers.length * 72)
  );
}

function renderServiceFamily(t: PreparedTable, f: Family<VirtualServiceEntry>, arena: Arena): RenderedFamily {
  const name = Buffer.from(f.name, 'latin1');
  const w = new Writer(arena, t.serviceLabelBytes + t.table.length * (name.length + 22));
  for (let i = 0; i < t.table.length; i++) {
    w.sample(name, t.serviceLabels[i]);
    w.value(f.value(t.table[i]) as number);
  }
  return rendered(f, w.take(), t.table.length);
}

function renderServerFamily(t: PreparedTable, f: Family<DestinationEntry>, arena: Arena): RenderedFamily {
  const name = Buffer.from(f.name, 'latin1');
  const w = new Writer(arena, t.serverLabelBytes + t.servers.length * (name.length + 22));
  let series = 0;
  for (let j = 0; j < t.servers.length; j++) {
    const v = f.value(t.servers[j], t.configured[j]);
    if (v === undefined) continue;
    w.sample(name, t.serverLabels[j]);
    w.value(v);
    series++;
  }
  return rendered(f, w.take(), series);
}

function sameServers(c: CachedService, dests: readonly DestinationEntry[]): boolean {
  if (c.addresses.length !== dests.length) return false;
  for (let j = 0; j < dests.length; j++)
    if (c.addresses[j] !== dests[j].address || c.ports[j] !== dests[j].port) return false;
  return true;
}

/** Renders a table in one go (no label cache): every family, per-server rate estimates included. */
export function renderIpvs(
  table: readonly VirtualServiceEntry[],
  weights: ConfiguredWeights | undefined,
): RenderedFamily[] {
  const r = new IpvsRenderer();
  const t = r.prepare(table, weights);
  return [...r.render(t, false), ...r.render(t, true)];
}
