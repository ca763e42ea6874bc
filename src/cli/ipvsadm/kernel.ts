// The kernel side of lbctl's ipvsadm commands: reads (info, services with their real servers, one
// service, timeouts, daemons) and writes (a batch of Operations) over the IPVS generic netlink family,
// through the addon's GenlSocket (socket I/O on libuv's thread pool). Reading the real servers of a
// big table is sharded over a few sockets, so the per-service dumps run in parallel.
import type {
  Daemon,
  DaemonState,
  DestinationEntry,
  ExactStats,
  Forward,
  Operation,
  Protocol,
  ServiceKey,
  Timeouts,
  Tunnel,
  VirtualServiceEntry,
  Netmask,
} from '../../ipvs/types';
import type { FwMark, IpAddress, Port } from '../../ipvs/address';
import {
  decodeDestinationAttrs,
  decodeServiceAttrs,
  destinationNumbers,
  eachMessage,
  exactStatsOf,
  flagsOf,
  ipv4MaskText,
  IpvsEncoder,
  RawDestination,
  RawService,
} from '../../ipvs/codec';
import { AF_INET, AF_INET6, CmdAttr, DaemonAttr, InfoAttr, SVC_F_HASHED } from '../../ipvs/constants';
import { Attrs, cString, MessageWriter } from '../../ipvs/netlink';
import { formatIpv4, inetNtop6 } from './resolve';

const FWD_NAME = ['masq', 'local', 'tunnel', 'route', 'bypass'] as const;

/** Counters as the kernel's 64-bit values, without loss (the model's Stats are numbers). */
export type Stats = ExactStats;

/** A service read from the kernel: the model's entry with exact counters, plus the facts that
 * listings need and the model does not carry. */
export interface KernelServiceEntry extends Omit<VirtualServiceEntry, 'stats' | 'destinations'> {
  readonly stats: Stats;
  readonly destinations: readonly KernelDestinationEntry[];
  /** Raw kernel flags (all bits, as printed by ipvsadm). */
  readonly rawFlags: number;
  readonly family: 'inet' | 'inet6';
  /** Address as big-endian 32-bit words (one for IPv4, four for IPv6; zeros for a fwmark service), for
   * ipvsadm's sort and /proc/net/ip_vs keys: numbers, not a Buffer per entry (a Buffer is made by
   * several of node's JavaScript functions, which a one-shot dump of thousands runs cold). */
  readonly addrWords: readonly number[];
  readonly fwmarkValue: number;
  readonly protoNum: number;
  readonly portValue: number;
  /** Netmask as the kernel reports it (IPv4 mask as a number, IPv6 prefix length). */
  readonly rawNetmask: number;
}

export interface KernelDestinationEntry extends Omit<DestinationEntry, 'stats'> {
  readonly stats: Stats;
  readonly family: 'inet' | 'inet6';
  /** As KernelServiceEntry's. */
  readonly addrWords: readonly number[];
  /** Forwarding method number (0-4; others possible from a newer kernel). */
  readonly fwdNum: number;
  readonly tunType: number;
  readonly tunPort: number;
  readonly tunFlags: number;
}

export interface KernelInfo {
  readonly version: string;
  readonly versionCode: number;
  readonly connTableSize: number;
}

export class KernelError extends Error {
  constructor(
    readonly errno: number,
    message: string,
  ) {
    super(message);
    this.name = 'KernelError';
  }
}

export interface ExchangeReply {
  data: Buffer;
  offsets: Uint32Array;
  lengths: Uint32Array;
  errors: Int32Array;
  messages: string[];
}
export interface BatchReply {
  errors: Int32Array;
  messages: string[];
}
/** The addon's GenlSocket (see native/src/ipvs_addon.cc). */
export interface NativeGenlSocket {
  resolveFamily(name: string): Promise<{ error: number; message: string; id: number }>;
  exchange(buf: Buffer): Promise<ExchangeReply>;
  batch(buf: Buffer, window?: number): Promise<BatchReply>;
  close(): void;
}
export type GenlSocketCtor = new (timeoutMs?: number) => NativeGenlSocket;

function socketClass(): GenlSocketCtor {
  // Loaded lazily: the addon is only needed when lbctl talks to the kernel. The build's own file
  // first (saves node-gyp-build's directory scans at start-up), else the usual loader.
  try {
    const file = require('node:path').resolve(
      __dirname,
      '..',
      '..',
      '..',
      '..',
      'native',
      'build',
      'Release',
      'lbd_native.node',
    );
    // process.dlopen: require() would resolve the path again (a stat and a realpath of each directory)
    const mod = { exports: {} as { ipvs?: { GenlSocket: GenlSocketCtor } } };
    process.dlopen(mod, file);
    if (mod.exports.ipvs !== undefined) return mod.exports.ipvs.GenlSocket;
  } catch {
    // not built there: fall through
  }
  const { nativeModule } = require('../../net/native') as typeof import('../../net/native');
  return nativeModule<{ GenlSocket: GenlSocketCtor }>('ipvs').GenlSocket;
}

// ---- reading -------------------------------------------------------------------------------------
// The attributes are parsed by the shared raw decoder (src/ipvs/codec.ts); what ipvsadm's listings need
// is built here: lenient defaults for what is missing, glibc's IPv6 text, latin1 strings, exact counters.

const ZERO_STATS: Stats = {
  conns: 0n,
  inPackets: 0n,
  outPackets: 0n,
  inBytes: 0n,
  outBytes: 0n,
  cps: 0n,
  inPps: 0n,
  outPps: 0n,
  inBps: 0n,
  outBps: 0n,
};

/** The big-endian 32-bit word at b[at]. */
const word = (b: Uint8Array, at: number): number =>
  ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;

/** The words of an address the kernel left out (and of a fwmark service). */
const noAddress = (af: number): readonly number[] => (af === AF_INET6 ? [0, 0, 0, 0] : [0]);

function addrText(family: number, b: Buffer, at: number): { text: string; words: readonly number[] } {
  if (family === AF_INET6) {
    return {
      text: inetNtop6(b, at),
      words: [word(b, at), word(b, at + 4), word(b, at + 8), word(b, at + 12)],
    };
  }
  return { text: `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`, words: [word(b, at)] };
}

const rawService = new RawService();
const rawDestination = new RawDestination();

/** A service nest [start, end) of b (the hot path of a big listing); `withStats` false: counters not read. */
function decodeService(b: Buffer, start: number, end: number, withStats = true): KernelServiceEntry {
  const r = decodeServiceAttrs(b, start, end, rawService);
  const af = r.af < 0 ? 0 : r.af;
  const protoNum = r.protocol < 0 ? 0 : r.protocol;
  const portValue = r.port < 0 ? 0 : r.port;
  const rawNetmask = r.netmask < 0 ? 0 : r.netmask;
  const { fwmark, flags: rawFlags } = r;
  const family = af === AF_INET6 ? 'inet6' : 'inet';
  let key: ServiceKey;
  let addrWords: readonly number[];
  if (fwmark !== 0) {
    addrWords = noAddress(af);
    key = { protocol: 'fwmark', family, fwmark: fwmark as FwMark };
  } else {
    const a =
      r.addrAt >= 0 && r.addrLen >= 4 ? addrText(af, b, r.addrAt) : { text: '0.0.0.0', words: noAddress(af) };
    addrWords = a.words;
    const protocol: Protocol = protoNum === 17 ? 'udp' : protoNum === 132 ? 'sctp' : 'tcp';
    key = { protocol, address: a.text as IpAddress, port: portValue as Port };
  }
  const netmask: Netmask =
    family === 'inet6'
      ? { family: 'inet6', prefix: rawNetmask }
      : { family: 'inet', mask: ipv4MaskText(rawNetmask) };
  const pe = r.peAt >= 0 ? cString(b, r.peAt, r.peEnd, 'latin1') : '';
  return {
    key,
    scheduler: r.schedAt >= 0 ? cString(b, r.schedAt, r.schedEnd, 'latin1') : '',
    flags: flagsOf(rawFlags),
    hashed: (rawFlags & SVC_F_HASHED) !== 0,
    timeout: r.timeout,
    netmask,
    pe: pe === '' ? null : pe,
    stats: withStats && r.statsAt >= 0 ? exactStatsOf(b, r.statsAt, r.statsEnd) : ZERO_STATS,
    destinations: [],
    rawFlags,
    family,
    addrWords,
    fwmarkValue: fwmark,
    protoNum,
    portValue,
    rawNetmask,
  };
}

/** A real server nest [start, end) of b; `svcAf` when it has no address family. */
function decodeDest(b: Buffer, start: number, end: number, svcAf: number): KernelDestinationEntry {
  const r = decodeDestinationAttrs(b, start, end, rawDestination);
  const af = r.af < 0 ? svcAf : r.af;
  const a =
    r.addrAt >= 0 && r.addrLen >= 4 ? addrText(af, b, r.addrAt) : { text: '0.0.0.0', words: noAddress(af) };
  const fwdNum = r.fwd < 0 ? 0 : r.fwd;
  const { tunType, tunPort, tunFlags } = r;
  let forward: Forward;
  if ((fwdNum & 7) === 2) {
    const checksum = tunFlags & 2 ? 'remcsum' : tunFlags & 1 ? 'csum' : 'nocsum';
    let tunnel: Tunnel;
    if (tunType === 1) tunnel = { type: 'gue', port: tunPort as Port, checksum };
    else if (tunType === 2) tunnel = { type: 'gre', checksum: checksum === 'remcsum' ? 'csum' : checksum };
    else tunnel = { type: 'ipip' };
    forward = { method: 'tunnel', tunnel };
  } else {
    forward = {
      method: (FWD_NAME[fwdNum & 7] ?? 'route') as Exclude<Forward['method'], 'tunnel'>,
    } as Forward;
  }
  return {
    address: a.text as IpAddress,
    port: (r.port < 0 ? 0 : r.port) as Port,
    forward,
    ...destinationNumbers(r),
    stats: r.statsAt >= 0 ? exactStatsOf(b, r.statsAt, r.statsEnd) : ZERO_STATS,
    family: af === AF_INET6 ? 'inet6' : 'inet',
    addrWords: a.words,
    fwdNum,
    tunType,
    tunPort,
    tunFlags,
  };
}

// ---- /proc/net/ip_vs -------------------------------------------------------------------------

const PROC_FWD: Record<string, number> = { Masq: 0, Local: 1, Tunnel: 2, Route: 3 };

/** The key of a service as /proc/net/ip_vs writes it ("TCP 0A000001:0050", "FWM 00000011"). */
export function procKey(s: KernelServiceEntry): string {
  if (s.fwmarkValue !== 0) return `FWM ${s.fwmarkValue.toString(16).toUpperCase().padStart(8, '0')}`;
  const p = s.protoNum === 6 ? 'TCP' : s.protoNum === 17 ? 'UDP' : s.protoNum === 132 ? 'SCTP' : '?';
  const port = s.portValue.toString(16).toUpperCase().padStart(4, '0');
  if (s.family === 'inet6') return `${p} [${procIpv6(s.addrWords)}]:${port}`;
  return `${p} ${hex8(s.addrWords[0] ?? 0).toUpperCase()}:${port}`;
}

const hex8 = (v: number): string => v.toString(16).padStart(8, '0');

/** %pI6: eight 4-digit groups. */
function procIpv6(words: readonly number[]): string {
  let out = '';
  for (let i = 0; i < 4; i++) {
    const h = hex8(words[i] ?? 0);
    out += `${i ? ':' : ''}${h.slice(0, 4)}:${h.slice(4)}`;
  }
  return out;
}

function procDest(line: string): KernelDestinationEntry | null {
  const m = /^ {2}-> (?:\[([0-9a-f:]+)\]|([0-9A-F]{8})):([0-9A-F]{4}) +(\S+) +(-?\d+) +(-?\d+) +(-?\d+)/.exec(
    line,
  );
  if (!m) return null;
  const fwdNum = PROC_FWD[m[4]];
  if (fwdNum === undefined || fwdNum === 2) return null;
  let address: string;
  let words: readonly number[];
  if (m[1] !== undefined) {
    const bytes = Buffer.from(m[1].replace(/:/g, ''), 'hex');
    if (bytes.length !== 16) return null;
    address = inetNtop6(bytes);
    words = [word(bytes, 0), word(bytes, 4), word(bytes, 8), word(bytes, 12)];
  } else {
    const v = parseInt(m[2], 16);
    words = [v];
    address = formatIpv4(v);
  }
  return {
    address: address as IpAddress,
    port: parseInt(m[3], 16) as Port,
    forward: { method: FWD_NAME[fwdNum] as 'masq' },
    weight: Number(m[5]) | 0,
    upperThreshold: 0,
    lowerThreshold: 0,
    activeConns: Number(m[6]) >>> 0,
    inactiveConns: Number(m[7]) >>> 0,
    persistentConns: 0,
    stats: ZERO_STATS,
    family: m[1] !== undefined ? 'inet6' : 'inet',
    addrWords: words,
    fwdNum,
    tunType: 0,
    tunPort: 0,
    tunFlags: 0,
  };
}

/** /proc/net/ip_vs read and parsed (null when it cannot be read). */
function readProcTable(): Map<string, KernelDestinationEntry[] | null> | null {
  try {
    // as big as a large table's file at once (pages untouched cost nothing): one walk of the kernel's table
    return procTable(readProcFile('/proc/net/ip_vs', 1 << 23));
  } catch {
    return null;
  }
}

/** Fills the real servers of the services that /proc/net/ip_vs shows unambiguously (none tunnelling);
 * returns the others. */
function fillFromProc(
  svcs: KernelServiceEntry[],
  table: Map<string, KernelDestinationEntry[] | null> | null,
): KernelServiceEntry[] {
  if (table === null) return svcs;
  const rest: KernelServiceEntry[] = [];
  for (const s of svcs) {
    const dests = table.get(procKey(s));
    if (dests === undefined || dests === null) rest.push(s);
    else (s as { destinations: readonly KernelDestinationEntry[] }).destinations = dests;
  }
  return rest;
}

/** Reads a /proc file with as few read() calls as possible: the kernel walks its table from the
 * start for every read() of a seq_file, so small chunks make the read quadratic. */
export function readProcFile(file: string, sizeHint: number): string {
  const fs = require('node:fs') as typeof import('node:fs');
  const fd = fs.openSync(file, 'r');
  try {
    let buf = Buffer.allocUnsafe(Math.max(1 << 16, sizeHint));
    let len = 0;
    for (;;) {
      if (len === buf.length) {
        const next = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(next, 0, 0, len);
        buf = next;
      }
      const n = fs.readSync(fd, buf, len, buf.length - len, null);
      if (n === 0) break;
      len += n;
    }
    return buf.toString('latin1', 0, len);
  } finally {
    fs.closeSync(fd);
  }
}

/** /proc/net/ip_vs as service key -> real servers (null: not usable, read the service over netlink). */
export function procTable(text: string): Map<string, KernelDestinationEntry[] | null> {
  const table = new Map<string, KernelDestinationEntry[] | null>();
  let cur: KernelDestinationEntry[] | null = null;
  let curKey = '';
  const lines = text.split('\n');
  for (let i = 3; i < lines.length; i++) {
    const line = lines[i];
    if (line === '') continue;
    if (line.startsWith('  -> ')) {
      if (cur === null) continue;
      const d = procDest(line);
      if (d === null) {
        cur = null;
        table.set(curKey, null);
      } else cur.push(d);
      continue;
    }
    const sp = line.indexOf(' ');
    const rest = line.slice(sp).trimStart();
    curKey = `${line.slice(0, sp)} ${rest.slice(0, rest.indexOf(' '))}`;
    if (table.has(curKey)) {
      // two services the file cannot tell apart (a fwmark in both families): netlink for both
      table.set(curKey, null);
      cur = null;
      continue;
    }
    cur = [];
    table.set(curKey, cur);
  }
  return table;
}

export class Kernel {
  private constructor(
    private readonly Ctor: GenlSocketCtor,
    private readonly sock: NativeGenlSocket,
    private readonly enc: IpvsEncoder,
  ) {}

  /** Opens a socket (of the addon's class, or `Ctor`) and resolves the IPVS family; KernelError(errno)
   * when that fails. */
  static async open(Ctor: GenlSocketCtor = socketClass()): Promise<Kernel> {
    let sock: NativeGenlSocket;
    try {
      sock = new Ctor();
    } catch (e) {
      throw new KernelError((e as { errno?: number }).errno ?? 1, (e as Error).message);
    }
    const fam = await sock.resolveFamily('IPVS');
    if (fam.error !== 0) {
      sock.close();
      throw new KernelError(fam.error, fam.message);
    }
    return new Kernel(Ctor, sock, new IpvsEncoder(fam.id));
  }

  close(): void {
    this.sock.close();
  }

  /** The requests that `build` writes, as one buffer. */
  private request(build: (w: MessageWriter, enc: IpvsEncoder) => void, size = 256): Buffer {
    const w = new MessageWriter(size);
    build(w, this.enc);
    return w.take();
  }

  private async one(
    req: Buffer,
    meanwhile?: () => void,
  ): Promise<{ data: Buffer; start: number; end: number }> {
    const pending = this.sock.exchange(req);
    meanwhile?.();
    const r = await pending;
    if (r.errors[0] !== 0) throw new KernelError(r.errors[0], r.messages[0]);
    return { data: r.data, start: r.offsets[0], end: r.offsets[0] + r.lengths[0] };
  }

  async info(): Promise<KernelInfo> {
    const r = await this.one(this.request((w, enc) => enc.getInfo(w)));
    let code = 0,
      size = 0;
    if (r.start + 20 <= r.end) {
      const len = r.data.readUInt32LE(r.start);
      const a = new Attrs(r.data, r.start + 20, r.start + len, InfoAttr.CONN_TAB_SIZE);
      code = a.optU32(InfoAttr.VERSION, 0);
      size = a.optU32(InfoAttr.CONN_TAB_SIZE, 0);
    }
    return {
      version: `${(code >> 16) & 0xff}.${(code >> 8) & 0xff}.${code & 0xff}`,
      versionCode: code,
      connTableSize: size,
    };
  }

  async timeouts(): Promise<Timeouts> {
    const r = await this.one(this.request((w, enc) => enc.getTimeouts(w)));
    const len = r.data.readUInt32LE(r.start);
    const a = new Attrs(r.data, r.start + 20, r.start + len, CmdAttr.TIMEOUT_UDP);
    return {
      tcp: a.optU32(CmdAttr.TIMEOUT_TCP, 0),
      tcpFin: a.optU32(CmdAttr.TIMEOUT_TCP_FIN, 0),
      udp: a.optU32(CmdAttr.TIMEOUT_UDP, 0),
    };
  }

  async daemons(): Promise<Daemon[]> {
    const r = await this.one(this.request((w, enc) => enc.dumpDaemons(w)));
    const out: Daemon[] = [];
    eachMessage(r.data, r.start, r.end, CmdAttr.DAEMON, (b, start, end) => {
      const a = new Attrs(b, start, end, DaemonAttr.MCAST_TTL);
      const state: DaemonState = a.optU32(DaemonAttr.STATE, 0) & 1 ? 'master' : 'backup';
      let group: IpAddress | undefined;
      if (a.has(DaemonAttr.MCAST_GROUP6, 16))
        group = inetNtop6(b, a.offset(DaemonAttr.MCAST_GROUP6)) as IpAddress;
      else if (a.has(DaemonAttr.MCAST_GROUP, 4))
        group = formatIpv4(b.readUInt32BE(a.offset(DaemonAttr.MCAST_GROUP))) as IpAddress;
      out.push({
        state,
        interface: a.has(DaemonAttr.MCAST_IFN) ? a.string(DaemonAttr.MCAST_IFN, 'interface', 'latin1') : '',
        syncId: a.optU32(DaemonAttr.SYNC_ID, 0),
        ...(a.has(DaemonAttr.SYNC_MAXLEN, 2) ? { maxLength: a.optU16(DaemonAttr.SYNC_MAXLEN, 0) } : {}),
        ...(group !== undefined ? { group } : {}),
        ...(a.has(DaemonAttr.MCAST_PORT, 2) ? { port: a.optU16(DaemonAttr.MCAST_PORT, 0) as Port } : {}),
        ...(a.has(DaemonAttr.MCAST_TTL, 1) ? { ttl: a.optU8(DaemonAttr.MCAST_TTL, 0) } : {}),
      });
    });
    return out;
  }

  /** Every service (kernel order) with its real servers (kernel order). `basic`: only what plain
   * listings and rules print is needed (address, port, forwarding, weight, active and inactive
   * connections, tunnel parameters): the real servers then come from one read of /proc/net/ip_vs
   * (one pass over the kernel's table instead of a netlink dump per service), except for services
   * with tunnelling servers or that the file does not show unambiguously, read over netlink. */
  async services(basic = false): Promise<KernelServiceEntry[]> {
    // the kernel dumps the services (on the addon's I/O thread) while /proc/net/ip_vs is read here
    let table: Map<string, KernelDestinationEntry[] | null> | null = null;
    const r = await this.one(
      this.request((w, enc) => enc.dumpServices(w)),
      () => {
        if (basic) table = readProcTable();
      },
    );
    const svcs: KernelServiceEntry[] = [];
    eachMessage(r.data, r.start, r.end, CmdAttr.SERVICE, (b, start, end) =>
      svcs.push(decodeService(b, start, end, !basic)),
    );
    const rest = basic ? fillFromProc(svcs, table) : svcs;
    if (process.env.LBCTL_TRACE === '1') {
      process.stderr.write(
        `lbctl trace: services dumped, ${rest.length} need netlink at ${performance.now().toFixed(1)} ms\n`,
      );
    }
    await this.fillDestinations(rest);
    return svcs;
  }

  /** One service by key, or null when the kernel has none. */
  async service(key: ServiceKey): Promise<KernelServiceEntry | null> {
    const r = await this.sock.exchange(this.request((w, enc) => enc.getService(w, key)));
    if (r.errors[0] !== 0) {
      if (r.errors[0] === 3) return null; // ESRCH
      throw new KernelError(r.errors[0], r.messages[0]);
    }
    const svcs: KernelServiceEntry[] = [];
    eachMessage(r.data, r.offsets[0], r.offsets[0] + r.lengths[0], CmdAttr.SERVICE, (b, start, end) =>
      svcs.push(decodeService(b, start, end)),
    );
    if (svcs.length === 0) return null;
    await this.fillDestinations(svcs);
    return svcs[0];
  }

  private async fillDestinations(svcs: KernelServiceEntry[]): Promise<void> {
    if (svcs.length === 0) return;
    const shards = Math.max(1, Math.min(4, Math.ceil(svcs.length / 1000)));
    const per = Math.ceil(svcs.length / shards);
    const jobs: Promise<void>[] = [];
    for (let s = 0; s < shards; s++) {
      const part = svcs.slice(s * per, (s + 1) * per);
      if (part.length === 0) continue;
      const sock = s === 0 ? this.sock : new this.Ctor();
      jobs.push(
        this.destinationsOf(sock, part).finally(() => {
          if (sock !== this.sock) sock.close();
        }),
      );
    }
    await Promise.all(jobs);
  }

  private async destinationsOf(sock: NativeGenlSocket, svcs: KernelServiceEntry[]): Promise<void> {
    const req = this.request((w, enc) => {
      for (const s of svcs) enc.dumpDestinations(w, s.key);
    }, svcs.length * 72);
    const r = await sock.exchange(req);
    for (let i = 0; i < svcs.length; i++) {
      if (r.errors[i] !== 0) throw new KernelError(r.errors[i], r.messages[i]);
      const svc = svcs[i];
      const af = svc.family === 'inet6' ? AF_INET6 : AF_INET;
      const dests: KernelDestinationEntry[] = [];
      eachMessage(r.data, r.offsets[i], r.offsets[i] + r.lengths[i], CmdAttr.DEST, (b, start, end) =>
        dests.push(decodeDest(b, start, end, af)),
      );
      (svc as { destinations: readonly KernelDestinationEntry[] }).destinations = dests;
    }
  }

  /** Applies operations pipelined (the batch path); one {errno, message} per operation. */
  async apply(ops: readonly Operation[]): Promise<{ errno: number; message: string }[]> {
    if (ops.length === 0) return [];
    const req = this.request((w, enc) => {
      for (const op of ops) enc.operation(w, op);
    }, ops.length * 200);
    const r = await this.sock.batch(req);
    return ops.map((_, i) => ({ errno: r.errors[i], message: r.messages[i] ?? '' }));
  }
}
