// The kernel side of lbctl's ipvsadm commands: reads (info, services with their real servers, one
// service, timeouts, daemons) and writes (a batch of Operations) over the IPVS generic netlink family,
// through the addon's GenlSocket (socket I/O on libuv's thread pool). Reading the real servers of a
// big table is sharded over a few sockets, so the per-service dumps run in parallel.
import type {
  Daemon,
  DaemonState,
  DestinationEntry,
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
import { IpvsEncoder } from '../../ipvs/codec';
import { MessageWriter } from '../../ipvs/netlink';
import { formatIpv4, inetNtop6 } from './resolve';

// Numbers of include/uapi/linux/ip_vs.h that the reading below uses. Requests are written by the shared
// encoder (src/ipvs/codec.ts).
const A_SERVICE = 1;
const A_DEST = 2;
const A_DAEMON = 3;
const A_TIMEOUT_TCP = 4;
const A_TIMEOUT_TCP_FIN = 5;
const A_TIMEOUT_UDP = 6;
const S_AF = 1,
  S_PROTOCOL = 2,
  S_ADDR = 3,
  S_PORT = 4,
  S_FWMARK = 5,
  S_SCHED_NAME = 6,
  S_FLAGS = 7,
  S_TIMEOUT = 8,
  S_NETMASK = 9,
  S_STATS = 10,
  S_PE_NAME = 11,
  S_STATS64 = 12;
const D_ADDR = 1,
  D_PORT = 2,
  D_FWD_METHOD = 3,
  D_WEIGHT = 4,
  D_U_THRESH = 5,
  D_L_THRESH = 6,
  D_ACTIVE_CONNS = 7,
  D_INACT_CONNS = 8,
  D_PERSIST_CONNS = 9,
  D_STATS = 10,
  D_ADDR_FAMILY = 11,
  D_STATS64 = 12,
  D_TUN_TYPE = 13,
  D_TUN_PORT = 14,
  D_TUN_FLAGS = 15;
const DM_STATE = 1,
  DM_MCAST_IFN = 2,
  DM_SYNC_ID = 3,
  DM_SYNC_MAXLEN = 4,
  DM_MCAST_GROUP = 5,
  DM_MCAST_GROUP6 = 6,
  DM_MCAST_PORT = 7,
  DM_MCAST_TTL = 8;
const I_VERSION = 1,
  I_CONN_TAB_SIZE = 2;
const AF_INET = 2;
const AF_INET6 = 10;
const FWD_NAME = ['masq', 'local', 'tunnel', 'route', 'bypass'] as const;
const SVC_F_PERSISTENT = 0x1,
  SVC_F_HASHED = 0x2,
  SVC_F_ONEPACKET = 0x4,
  SVC_F_SCHED1 = 0x8,
  SVC_F_SCHED2 = 0x10,
  SVC_F_SCHED3 = 0x20;

/** Counters as the kernel's 64-bit values, without loss (the model's Stats are numbers). */
export interface Stats {
  readonly conns: bigint;
  readonly inPackets: bigint;
  readonly outPackets: bigint;
  readonly inBytes: bigint;
  readonly outBytes: bigint;
  readonly cps: bigint;
  readonly inPps: bigint;
  readonly outPps: bigint;
  readonly inBps: bigint;
  readonly outBps: bigint;
}

/** A service read from the kernel: the model's entry with exact counters, plus the facts that
 * listings need and the model does not carry. */
export interface KernelServiceEntry extends Omit<VirtualServiceEntry, 'stats' | 'destinations'> {
  readonly stats: Stats;
  readonly destinations: readonly KernelDestinationEntry[];
  /** Raw kernel flags (all bits, as printed by ipvsadm). */
  readonly rawFlags: number;
  readonly family: 'inet' | 'inet6';
  /** Address as 4 (IPv4) or 16 bytes, for sorting. */
  readonly addrBytes: Buffer;
  readonly fwmarkValue: number;
  readonly protoNum: number;
  readonly portValue: number;
  /** Netmask as the kernel reports it (IPv4 mask as a number, IPv6 prefix length). */
  readonly rawNetmask: number;
}

export interface KernelDestinationEntry extends Omit<DestinationEntry, 'stats'> {
  readonly stats: Stats;
  readonly family: 'inet' | 'inet6';
  readonly addrBytes: Buffer;
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

interface ExchangeReply {
  data: Buffer;
  offsets: Uint32Array;
  lengths: Uint32Array;
  errors: Int32Array;
  messages: string[];
}
interface BatchReply {
  errors: Int32Array;
  messages: string[];
}
interface NativeGenlSocket {
  resolveFamily(name: string): Promise<{ error: number; message: string; id: number }>;
  exchange(buf: Buffer): Promise<ExchangeReply>;
  batch(buf: Buffer, window?: number): Promise<BatchReply>;
  close(): void;
}
type GenlSocketCtor = new (timeoutMs?: number) => NativeGenlSocket;

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

/** A NUL-terminated string in [at, end) of b. */
function cString(b: Buffer, at: number, end: number): string {
  let z = at;
  while (z < end && b[z] !== 0) z++;
  return b.toString('latin1', at, z);
}

/** Attribute offsets of one nest: pos[type] = payload offset, len[type] = payload length (-1 absent). */
class Nest {
  readonly pos: number[];
  readonly len: number[];
  constructor(
    readonly b: Buffer,
    start: number,
    end: number,
    max: number,
  ) {
    const pos = new Array<number>(max + 1).fill(-1);
    const len = new Array<number>(max + 1).fill(-1);
    let off = start;
    while (off + 4 <= end) {
      const l = b[off] | (b[off + 1] << 8);
      const t = (b[off + 2] | (b[off + 3] << 8)) & 0x3fff;
      if (l < 4 || off + l > end) break;
      if (t <= max) {
        pos[t] = off + 4;
        len[t] = l - 4;
      }
      off += (l + 3) & ~3;
    }
    this.pos = pos;
    this.len = len;
  }
  has(t: number, size = 0): boolean {
    return this.pos[t] >= 0 && this.len[t] >= size;
  }
  u8(t: number, d = 0): number {
    return this.has(t, 1) ? this.b[this.pos[t]] : d;
  }
  u16(t: number, d = 0): number {
    return this.has(t, 2) ? this.b.readUInt16LE(this.pos[t]) : d;
  }
  be16(t: number, d = 0): number {
    return this.has(t, 2) ? this.b.readUInt16BE(this.pos[t]) : d;
  }
  u32(t: number, d = 0): number {
    return this.has(t, 4) ? this.b.readUInt32LE(this.pos[t]) : d;
  }
  u64(t: number): bigint {
    return this.has(t, 8) ? this.b.readBigUInt64LE(this.pos[t]) : this.has(t, 4) ? BigInt(this.u32(t)) : 0n;
  }
  str(t: number): string {
    return this.has(t) ? cString(this.b, this.pos[t], this.pos[t] + this.len[t]) : '';
  }
  nest(t: number, max: number): Nest | null {
    return this.has(t) ? new Nest(this.b, this.pos[t], this.pos[t] + this.len[t], max) : null;
  }
}

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

function readStats(n: Nest, t64: number, t32: number): Stats {
  const s = n.nest(t64, 10) ?? n.nest(t32, 10);
  return s === null ? ZERO_STATS : statsOfNest(s);
}

function statsOfNest(s: Nest): Stats {
  return {
    conns: s.u64(1),
    inPackets: s.u64(2),
    outPackets: s.u64(3),
    inBytes: s.u64(4),
    outBytes: s.u64(5),
    cps: s.u64(6),
    inPps: s.u64(7),
    outPps: s.u64(8),
    inBps: s.u64(9),
    outBps: s.u64(10),
  };
}

function addrText(family: number, b: Buffer, at: number): { text: string; bytes: Buffer<ArrayBufferLike> } {
  // a view into the reply (kept alive by the entries, which is what a listing wants anyway)
  if (family === AF_INET6) {
    const bytes = b.subarray(at, at + 16);
    return { text: inetNtop6(bytes), bytes };
  }
  return { text: `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`, bytes: b.subarray(at, at + 4) };
}

/** A service nest [start, end) of b, read in one pass over its attributes (the hot path of a big
 * listing: no per-attribute tables). The last of a repeated attribute wins. */
function decodeService(b: Buffer, start: number, end: number, withStats = true): KernelServiceEntry {
  let af = 0,
    fwmark = 0,
    protoNum = 0,
    portValue = 0,
    addrAt = -1,
    rawFlags = 0,
    timeout = 0,
    rawNetmask = 0,
    schedAt = -1,
    schedEnd = -1,
    peAt = -1,
    peEnd = -1,
    statsNest: Nest | null = null,
    stats64Nest: Nest | null = null;
  let off = start;
  while (off + 4 <= end) {
    const l = b[off] | (b[off + 1] << 8);
    if (l < 4 || off + l > end) break;
    const at = off + 4;
    const n = l - 4;
    switch ((b[off + 2] | (b[off + 3] << 8)) & 0x3fff) {
      case S_AF:
        if (n >= 2) af = b[at] | (b[at + 1] << 8);
        break;
      case S_PROTOCOL:
        if (n >= 2) protoNum = b[at] | (b[at + 1] << 8);
        break;
      case S_ADDR:
        if (n >= 4) addrAt = at;
        break;
      case S_PORT:
        if (n >= 2) portValue = (b[at] << 8) | b[at + 1];
        break;
      case S_FWMARK:
        if (n >= 4) fwmark = b.readUInt32LE(at);
        break;
      case S_SCHED_NAME:
        schedAt = at;
        schedEnd = at + n;
        break;
      case S_FLAGS:
        if (n >= 4) rawFlags = b.readUInt32LE(at);
        break;
      case S_TIMEOUT:
        if (n >= 4) timeout = b.readUInt32LE(at);
        break;
      case S_NETMASK:
        if (n >= 4) rawNetmask = b.readUInt32LE(at);
        break;
      case S_PE_NAME:
        peAt = at;
        peEnd = at + n;
        break;
      case S_STATS:
        if (withStats) statsNest = new Nest(b, at, at + n, 10);
        break;
      case S_STATS64:
        if (withStats) stats64Nest = new Nest(b, at, at + n, 10);
        break;
    }
    off += (l + 3) & ~3;
  }
  const family = af === AF_INET6 ? 'inet6' : 'inet';
  let key: ServiceKey;
  let addrBytes: Buffer<ArrayBufferLike>;
  if (fwmark !== 0) {
    addrBytes = Buffer.alloc(af === AF_INET6 ? 16 : 4);
    key = { protocol: 'fwmark', family, fwmark: fwmark as FwMark };
  } else {
    const a =
      addrAt >= 0
        ? addrText(af, b, addrAt)
        : { text: '0.0.0.0', bytes: Buffer.alloc(af === AF_INET6 ? 16 : 4) };
    addrBytes = a.bytes;
    const protocol: Protocol = protoNum === 17 ? 'udp' : protoNum === 132 ? 'sctp' : 'tcp';
    key = { protocol, address: a.text as IpAddress, port: portValue as Port };
  }
  const netmask: Netmask =
    family === 'inet6'
      ? { family: 'inet6', prefix: rawNetmask }
      : {
          family: 'inet',
          // the kernel's big-endian mask read as a little-endian u32: its bytes low to high
          mask: `${rawNetmask & 255}.${(rawNetmask >>> 8) & 255}.${(rawNetmask >>> 16) & 255}.${rawNetmask >>> 24}` as never,
        };
  const pe = peAt >= 0 ? cString(b, peAt, peEnd) : '';
  const statsOf = stats64Nest ?? statsNest;
  return {
    key,
    scheduler: schedAt >= 0 ? cString(b, schedAt, schedEnd) : '',
    flags: {
      persistent: (rawFlags & SVC_F_PERSISTENT) !== 0,
      onePacket: (rawFlags & SVC_F_ONEPACKET) !== 0,
      sched1: (rawFlags & SVC_F_SCHED1) !== 0,
      sched2: (rawFlags & SVC_F_SCHED2) !== 0,
      sched3: (rawFlags & SVC_F_SCHED3) !== 0,
    },
    hashed: (rawFlags & SVC_F_HASHED) !== 0,
    timeout,
    netmask,
    pe: pe === '' ? null : pe,
    stats: statsOf !== null ? statsOfNest(statsOf) : ZERO_STATS,
    destinations: [],
    rawFlags,
    family,
    addrBytes,
    fwmarkValue: fwmark,
    protoNum,
    portValue,
    rawNetmask,
  };
}

function decodeDest(n: Nest, svcAf: number): KernelDestinationEntry {
  const af = n.u16(D_ADDR_FAMILY, svcAf);
  const a = n.has(D_ADDR, 4)
    ? addrText(af, n.b, n.pos[D_ADDR])
    : { text: '0.0.0.0', bytes: Buffer.alloc(af === AF_INET6 ? 16 : 4) };
  const fwdNum = n.u32(D_FWD_METHOD) & 7;
  const tunType = n.u8(D_TUN_TYPE);
  const tunPort = n.be16(D_TUN_PORT);
  const tunFlags = n.u16(D_TUN_FLAGS);
  let forward: Forward;
  if (fwdNum === 2) {
    const checksum = tunFlags & 2 ? 'remcsum' : tunFlags & 1 ? 'csum' : 'nocsum';
    let tunnel: Tunnel;
    if (tunType === 1) tunnel = { type: 'gue', port: tunPort as Port, checksum };
    else if (tunType === 2) tunnel = { type: 'gre', checksum: checksum === 'remcsum' ? 'csum' : checksum };
    else tunnel = { type: 'ipip' };
    forward = { method: 'tunnel', tunnel };
  } else {
    forward = { method: (FWD_NAME[fwdNum] ?? 'route') as Exclude<Forward['method'], 'tunnel'> } as Forward;
  }
  return {
    address: a.text as IpAddress,
    port: n.be16(D_PORT) as Port,
    forward,
    weight: n.u32(D_WEIGHT) | 0,
    upperThreshold: n.u32(D_U_THRESH),
    lowerThreshold: n.u32(D_L_THRESH),
    activeConns: n.u32(D_ACTIVE_CONNS),
    inactiveConns: n.u32(D_INACT_CONNS),
    persistentConns: n.u32(D_PERSIST_CONNS),
    stats: readStats(n, D_STATS64, D_STATS),
    family: af === AF_INET6 ? 'inet6' : 'inet',
    addrBytes: a.bytes,
    fwdNum: n.u32(D_FWD_METHOD),
    tunType,
    tunPort,
    tunFlags,
  };
}

/** Calls fn(b, start, end) with the top-level attribute `attr` of each genl message in [start, end). */
function eachMessage(
  b: Buffer,
  start: number,
  end: number,
  attr: number,
  fn: (b: Buffer, start: number, end: number) => void,
): void {
  let off = start;
  while (off + 20 <= end) {
    const len = b.readUInt32LE(off);
    if (len < 20 || off + len > end) break;
    // the first top-level attribute `attr` (the only one in IPVS replies)
    const msgEnd = off + len;
    let a = off + 20;
    while (a + 4 <= msgEnd) {
      const l = b[a] | (b[a + 1] << 8);
      if (l < 4 || a + l > msgEnd) break;
      if (((b[a + 2] | (b[a + 3] << 8)) & 0x3fff) === attr) {
        fn(b, a + 4, a + l);
        break;
      }
      a += (l + 3) & ~3;
    }
    off += (len + 3) & ~3;
  }
}

// ---- /proc/net/ip_vs -------------------------------------------------------------------------

const PROC_FWD: Record<string, number> = { Masq: 0, Local: 1, Tunnel: 2, Route: 3 };

/** The key of a service as /proc/net/ip_vs writes it ("TCP 0A000001:0050", "FWM 00000011"). */
export function procKey(s: KernelServiceEntry): string {
  if (s.fwmarkValue !== 0) return `FWM ${s.fwmarkValue.toString(16).toUpperCase().padStart(8, '0')}`;
  const p = s.protoNum === 6 ? 'TCP' : s.protoNum === 17 ? 'UDP' : s.protoNum === 132 ? 'SCTP' : '?';
  const port = s.portValue.toString(16).toUpperCase().padStart(4, '0');
  if (s.family === 'inet6') return `${p} [${procIpv6(s.addrBytes)}]:${port}`;
  return `${p} ${s.addrBytes.toString('hex').toUpperCase()}:${port}`;
}

/** %pI6: eight 4-digit groups. */
function procIpv6(b: Buffer): string {
  const hex = b.toString('hex');
  let out = '';
  for (let i = 0; i < 32; i += 4) out += (i ? ':' : '') + hex.slice(i, i + 4);
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
  let bytes: Buffer;
  if (m[1] !== undefined) {
    bytes = Buffer.from(m[1].replace(/:/g, ''), 'hex');
    if (bytes.length !== 16) return null;
    address = inetNtop6(bytes);
  } else {
    const v = parseInt(m[2], 16);
    bytes = Buffer.allocUnsafe(4);
    bytes.writeUInt32BE(v, 0);
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
    addrBytes: bytes,
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

  /** Opens a socket and resolves the IPVS family; KernelError(errno) when that fails. */
  static async open(): Promise<Kernel> {
    const Ctor = socketClass();
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
      const n = new Nest(r.data, r.start + 20, r.start + len, 2);
      code = n.u32(I_VERSION);
      size = n.u32(I_CONN_TAB_SIZE);
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
    const n = new Nest(r.data, r.start + 20, r.start + len, 6);
    return { tcp: n.u32(A_TIMEOUT_TCP), tcpFin: n.u32(A_TIMEOUT_TCP_FIN), udp: n.u32(A_TIMEOUT_UDP) };
  }

  async daemons(): Promise<Daemon[]> {
    const r = await this.one(this.request((w, enc) => enc.dumpDaemons(w)));
    const out: Daemon[] = [];
    eachMessage(r.data, r.start, r.end, A_DAEMON, (b, start, end) => {
      const n = new Nest(b, start, end, 8);
      const state: DaemonState = n.u32(DM_STATE) & 1 ? 'master' : 'backup';
      let group: IpAddress | undefined;
      if (n.has(DM_MCAST_GROUP6, 16)) group = inetNtop6(n.b, n.pos[DM_MCAST_GROUP6]) as IpAddress;
      else if (n.has(DM_MCAST_GROUP, 4))
        group = formatIpv4(n.b.readUInt32BE(n.pos[DM_MCAST_GROUP])) as IpAddress;
      out.push({
        state,
        interface: n.str(DM_MCAST_IFN),
        syncId: n.u32(DM_SYNC_ID),
        ...(n.has(DM_SYNC_MAXLEN, 2) ? { maxLength: n.u16(DM_SYNC_MAXLEN) } : {}),
        ...(group !== undefined ? { group } : {}),
        ...(n.has(DM_MCAST_PORT, 2) ? { port: n.u16(DM_MCAST_PORT) as Port } : {}),
        ...(n.has(DM_MCAST_TTL, 1) ? { ttl: n.u8(DM_MCAST_TTL) } : {}),
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
    eachMessage(r.data, r.start, r.end, A_SERVICE, (b, start, end) =>
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
    eachMessage(r.data, r.offsets[0], r.offsets[0] + r.lengths[0], A_SERVICE, (b, start, end) =>
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
      eachMessage(r.data, r.offsets[i], r.offsets[i] + r.lengths[i], A_DEST, (b, start, end) =>
        dests.push(decodeDest(new Nest(b, start, end, D_TUN_FLAGS), af)),
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
