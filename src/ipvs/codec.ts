// Encoding of IPVS generic netlink requests and decoding of the kernel's replies. The attribute order and
// the attributes sent follow ipvsadm's libipvs byte for byte (see test/ipvs/fixtures), so that the
// kernel sees the same requests from lbd as from ipvsadm.
import {
  addressFromBytes,
  familyOf,
  fwmark as toFwmark,
  port as toPort,
  type Family,
  type IpAddress,
  type Ipv4Address,
  type Port,
  isIpv6,
  writeIpv4Bytes,
  addressBytes,
} from './address';
import {
  AF_INET,
  AF_INET6,
  Cmd,
  CmdAttr,
  CONN_F_BYPASS,
  CONN_F_DROUTE,
  CONN_F_FWD_MASK,
  CONN_F_LOCALNODE,
  CONN_F_MASQ,
  CONN_F_TUNNEL,
  DaemonAttr,
  DestAttr,
  InfoAttr,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPVS_GENL_VERSION,
  NLA_F_NESTED,
  NLA_TYPE_MASK,
  NLM_F_ACK,
  NLM_F_DUMP,
  STATE_BACKUP,
  STATE_MASTER,
  StatsAttr,
  SvcAttr,
  SVC_F_HASHED,
  SVC_F_ONEPACKET,
  SVC_F_PERSISTENT,
  SVC_F_SCHED1,
  SVC_F_SCHED2,
  SVC_F_SCHED3,
  TUNNEL_FLAG_CSUM,
  TUNNEL_FLAG_REMCSUM,
  TUNNEL_TYPE_GRE,
  TUNNEL_TYPE_GUE,
  TUNNEL_TYPE_IPIP,
} from './constants';
import { Attrs, cString, MessageWriter, NetlinkFormatError, type Message } from './netlink';
import type {
  Daemon,
  DaemonState,
  Destination,
  DestinationEntry,
  Forward,
  Info,
  Netmask,
  Operation,
  Protocol,
  Counters,
  ExactStats,
  Service,
  ServiceEntry,
  ServiceFlags,
  ServiceKey,
  Stats,
  Timeouts,
  Tunnel,
  VirtualServiceEntry,
} from './types';

const ALL = 0xffffffff;
const af = (f: Family) => (f === 'inet' ? AF_INET : AF_INET6);
export const serviceFamily = (key: ServiceKey): Family =>
  key.protocol === 'fwmark' ? key.family : familyOf(key.address);

const PROTO_NUM: Record<Protocol, number> = { tcp: IPPROTO_TCP, udp: IPPROTO_UDP, sctp: IPPROTO_SCTP };

export function flagBits(f: ServiceFlags): number {
  return (
    (f.persistent ? SVC_F_PERSISTENT : 0) |
    (f.onePacket ? SVC_F_ONEPACKET : 0) |
    (f.sched1 ? SVC_F_SCHED1 : 0) |
    (f.sched2 ? SVC_F_SCHED2 : 0) |
    (f.sched3 ? SVC_F_SCHED3 : 0)
  );
}

/** The service flags of the kernel's flag bits (flagBits() reversed). */
export function flagsOf(bits: number): ServiceFlags {
  return {
    persistent: (bits & SVC_F_PERSISTENT) !== 0,
    onePacket: (bits & SVC_F_ONEPACKET) !== 0,
    sched1: (bits & SVC_F_SCHED1) !== 0,
    sched2: (bits & SVC_F_SCHED2) !== 0,
    sched3: (bits & SVC_F_SCHED3) !== 0,
  };
}

/** The default persistence netmask of a family (a single client address), as ipvsadm uses. */
export function defaultNetmask(family: Family): Netmask {
  return family === 'inet'
    ? { family: 'inet', mask: '255.255.255.255' as Ipv4Address }
    : { family: 'inet6', prefix: 128 };
}

/** Encodes IPVS requests for one resolved family id. */
export class IpvsEncoder {
  // The key-only service attribute is the same for every real server of a service: the last one is
  // kept for the next operation on the same key object (diff() emits a service's operations together).
  // A single entry, not a map: a big WeakMap costs the garbage collector dearly.
  private lastKey: ServiceKey | null = null;
  private lastNest: Buffer = Buffer.alloc(0);
  private readonly scratch = new MessageWriter(256);

  constructor(readonly familyId: number) {}

  private begin(w: MessageWriter, cmd: Cmd, flags = NLM_F_ACK): MessageWriter {
    return w.begin(this.familyId, flags, cmd, IPVS_GENL_VERSION);
  }

  private keyAttrs(w: MessageWriter, key: ServiceKey): void {
    w.u16(SvcAttr.AF, af(serviceFamily(key)));
    if (key.protocol === 'fwmark') {
      w.u32(SvcAttr.FWMARK, key.fwmark);
    } else {
      w.u16(SvcAttr.PROTOCOL, PROTO_NUM[key.protocol]);
      w.address(SvcAttr.ADDR, key.address);
      w.be16(SvcAttr.PORT, key.port);
    }
  }

  /** The service attribute: its key, then the settings (ipvsadm sends empty settings with key-only ops). */
  private service(w: MessageWriter, key: ServiceKey, svc: Service | null): void {
    if (svc === null) {
      if (key !== this.lastKey) {
        this.scratch.take();
        this.writeService(this.scratch, key, null);
        this.lastNest = this.scratch.slice(0);
        this.scratch.take();
        this.lastKey = key;
      }
      w.raw(this.lastNest);
      return;
    }
    this.writeService(w, key, svc);
  }

  private writeService(w: MessageWriter, key: ServiceKey, svc: Service | null): void {
    w.nestStart(CmdAttr.SERVICE);
    this.keyAttrs(w, key);
    w.string(SvcAttr.SCHED_NAME, svc ? svc.scheduler : '');
    if (svc?.pe) w.string(SvcAttr.PE_NAME, svc.pe);
    const flags = svc ? flagBits(svc.flags) : 0;
    w.flags(SvcAttr.FLAGS, flags, ALL);
    w.u32(SvcAttr.TIMEOUT, svc ? svc.timeout : 0);
    const mask = svc ? svc.netmask : defaultNetmask(serviceFamily(key));
    if (mask.family === 'inet6') w.u32(SvcAttr.NETMASK, mask.prefix);
    else w.ipv4(SvcAttr.NETMASK, mask.mask);
    w.nestEnd();
  }

  /** The destination attribute: a fixed layout of 96 bytes, written in place (the hot path of a batch). */
  private dest(w: MessageWriter, d: Destination): void {
    const f = d.forward;
    let tunType = 0;
    let tunPort = 0;
    let tunFlags = 0;
    if (f.method === 'tunnel') {
      const t = f.tunnel;
      tunType = t.type === 'ipip' ? TUNNEL_TYPE_IPIP : t.type === 'gue' ? TUNNEL_TYPE_GUE : TUNNEL_TYPE_GRE;
      if (t.type === 'gue') tunPort = t.port;
      if (t.type !== 'ipip') {
        tunFlags =
          t.checksum === 'csum' ? TUNNEL_FLAG_CSUM : t.checksum === 'remcsum' ? TUNNEL_FLAG_REMCSUM : 0;
      }
    }
    const at = w.claim(96);
    const b = w.buffer;
    for (let i = at; i < at + 96; i++) b[i] = 0;
    const attr = (o: number, len: number, type: number) => {
      b.writeUInt16LE(len, at + o);
      b.writeUInt16LE(type, at + o + 2);
    };
    b.writeUInt16LE(96, at);
    b.writeUInt16LE(CmdAttr.DEST | NLA_F_NESTED, at + 2);
    attr(4, 6, DestAttr.ADDR_FAMILY);
    b.writeUInt16LE(isIpv6(d.address) ? AF_INET6 : AF_INET, at + 8);
    attr(12, 20, DestAttr.ADDR);
    if (!writeIpv4Bytes(d.address, b, at + 16)) addressBytes(d.address, b, at + 16);
    attr(32, 6, DestAttr.PORT);
    b.writeUInt16BE(d.port, at + 36);
    attr(40, 8, DestAttr.FWD_METHOD);
    b.writeUInt32LE(forwardBits(f), at + 44);
    attr(48, 8, DestAttr.WEIGHT);
    b.writeUInt32LE(d.weight >>> 0, at + 52);
    attr(56, 5, DestAttr.TUN_TYPE);
    b[at + 60] = tunType;
    attr(64, 6, DestAttr.TUN_PORT);
    b.writeUInt16BE(tunPort, at + 68);
    attr(72, 6, DestAttr.TUN_FLAGS);
    b.writeUInt16LE(tunFlags, at + 76);
    attr(80, 8, DestAttr.U_THRESH);
    b.writeUInt32LE(d.upperThreshold >>> 0, at + 84);
    attr(88, 8, DestAttr.L_THRESH);
    b.writeUInt32LE(d.lowerThreshold >>> 0, at + 92);
  }

  addService(w: MessageWriter, s: Service): void {
    this.begin(w, Cmd.NEW_SERVICE);
    this.service(w, s.key, s);
    w.end();
  }
  editService(w: MessageWriter, s: Service): void {
    this.begin(w, Cmd.SET_SERVICE);
    this.service(w, s.key, s);
    w.end();
  }
  deleteService(w: MessageWriter, key: ServiceKey): void {
    this.begin(w, Cmd.DEL_SERVICE);
    this.service(w, key, null);
    w.end();
  }
  getService(w: MessageWriter, key: ServiceKey): void {
    this.begin(w, Cmd.GET_SERVICE);
    this.service(w, key, null);
    w.end();
  }
  dumpServices(w: MessageWriter): void {
    this.begin(w, Cmd.GET_SERVICE, NLM_F_ACK | NLM_F_DUMP).end();
  }
  addDestination(w: MessageWriter, key: ServiceKey, d: Destination): void {
    this.begin(w, Cmd.NEW_DEST);
    this.service(w, key, null);
    this.dest(w, d);
    w.end();
  }
  editDestination(w: MessageWriter, key: ServiceKey, d: Destination): void {
    this.begin(w, Cmd.SET_DEST);
    this.service(w, key, null);
    this.dest(w, d);
    w.end();
  }
  /** As ipvsadm: the other destination fields carry its defaults (route, weight 1); the kernel ignores them. */
  deleteDestination(w: MessageWriter, key: ServiceKey, address: IpAddress, p: number): void {
    this.begin(w, Cmd.DEL_DEST);
    this.service(w, key, null);
    this.dest(w, {
      address,
      port: toPort(p),
      forward: { method: 'route' },
      weight: 1,
      upperThreshold: 0,
      lowerThreshold: 0,
    });
    w.end();
  }
  dumpDestinations(w: MessageWriter, key: ServiceKey): void {
    this.begin(w, Cmd.GET_DEST, NLM_F_ACK | NLM_F_DUMP);
    w.nestStart(CmdAttr.SERVICE);
    this.keyAttrs(w, key);
    w.nestEnd();
    w.end();
  }
  zero(w: MessageWriter, key?: ServiceKey): void {
    this.begin(w, Cmd.ZERO);
    if (key) this.service(w, key, null);
    w.end();
  }
  flush(w: MessageWriter): void {
    this.begin(w, Cmd.FLUSH).end();
  }
  setTimeouts(w: MessageWriter, t: Timeouts): void {
    this.begin(w, Cmd.SET_CONFIG);
    w.u32(CmdAttr.TIMEOUT_TCP, t.tcp).u32(CmdAttr.TIMEOUT_TCP_FIN, t.tcpFin).u32(CmdAttr.TIMEOUT_UDP, t.udp);
    w.end();
  }
  getTimeouts(w: MessageWriter): void {
    this.begin(w, Cmd.GET_CONFIG).end();
  }
  getInfo(w: MessageWriter): void {
    this.begin(w, Cmd.GET_INFO).end();
  }
  startDaemon(w: MessageWriter, d: Daemon): void {
    this.begin(w, Cmd.NEW_DAEMON);
    w.nestStart(CmdAttr.DAEMON);
    w.u32(DaemonAttr.STATE, d.state === 'master' ? STATE_MASTER : STATE_BACKUP);
    w.string(DaemonAttr.MCAST_IFN, d.interface);
    w.u32(DaemonAttr.SYNC_ID, d.syncId);
    if (d.maxLength !== undefined) w.u16(DaemonAttr.SYNC_MAXLEN, d.maxLength);
    if (d.port !== undefined) w.u16(DaemonAttr.MCAST_PORT, d.port); // host order, unlike service ports
    if (d.ttl !== undefined) w.u8(DaemonAttr.MCAST_TTL, d.ttl);
    if (d.group !== undefined) {
      const g = d.group;
      if (familyOf(g) === 'inet') w.ipv4(DaemonAttr.MCAST_GROUP, g);
      else w.address(DaemonAttr.MCAST_GROUP6, g);
    }
    w.nestEnd();
    w.end();
  }
  /** As ipvsadm: state, an empty interface name and sync id 0. */
  stopDaemon(w: MessageWriter, state: DaemonState): void {
    this.begin(w, Cmd.DEL_DAEMON);
    w.nestStart(CmdAttr.DAEMON);
    w.u32(DaemonAttr.STATE, state === 'master' ? STATE_MASTER : STATE_BACKUP);
    w.string(DaemonAttr.MCAST_IFN, '');
    w.u32(DaemonAttr.SYNC_ID, 0);
    w.nestEnd();
    w.end();
  }
  dumpDaemons(w: MessageWriter): void {
    this.begin(w, Cmd.GET_DAEMON, NLM_F_ACK | NLM_F_DUMP).end();
  }

  operation(w: MessageWriter, op: Operation): void {
    switch (op.op) {
      case 'add-service':
        return this.addService(w, op.service);
      case 'edit-service':
        return this.editService(w, op.service);
      case 'delete-service':
        return this.deleteService(w, op.key);
      case 'add-destination':
        return this.addDestination(w, op.service, op.destination);
      case 'edit-destination':
        return this.editDestination(w, op.service, op.destination);
      case 'delete-destination':
        return this.deleteDestination(w, op.service, op.address, op.port);
      case 'zero':
        return this.zero(w, op.service);
      case 'flush':
        return this.flush(w);
      case 'set-timeouts':
        return this.setTimeouts(w, op.timeouts);
      case 'start-daemon':
        return this.startDaemon(w, op.daemon);
      case 'stop-daemon':
        return this.stopDaemon(w, op.state);
    }
  }
}

export function forwardBits(f: Forward): number {
  switch (f.method) {
    case 'masq':
      return CONN_F_MASQ;
    case 'local':
      return CONN_F_LOCALNODE;
    case 'tunnel':
      return CONN_F_TUNNEL;
    case 'route':
      return CONN_F_DROUTE;
    case 'bypass':
      return CONN_F_BYPASS;
  }
}

// ---- decoding ----
// One parser of the kernel's service and real server attributes: decodeServiceAttrs() and
// decodeDestinationAttrs() read a nest in one pass into raw fields (numbers as sent, -1 for an absent
// attribute, strings, addresses and counters as positions in the reply), lenient about what is missing.
// decodeService() and decodeDestination() build lbd's checked entries on them; lbctl builds ipvsadm's
// listings on them (its own address text, latin1 strings, exact 64-bit counters, counters skipped).

/** A service nest as the kernel sent it. The last well-sized occurrence of an attribute wins. */
export class RawService {
  af = -1;
  protocol = -1;
  /** Offset and length of the address (any length; -1 when absent). */
  addrAt = -1;
  addrLen = 0;
  port = -1;
  fwmark = 0;
  flags = 0;
  timeout = 0;
  /** The netmask as a little-endian u32 (an IPv4 mask's bytes low to high, an IPv6 prefix), -1 absent. */
  netmask = -1;
  /** [at, end) of the scheduler and persistence engine names (NUL-terminated), -1 absent. */
  schedAt = -1;
  schedEnd = -1;
  peAt = -1;
  peEnd = -1;
  /** [at, end) of the counters' nest: STATS64 when sent, else STATS; -1 absent. */
  statsAt = -1;
  statsEnd = -1;
}

/** A real server nest as the kernel sent it. The last well-sized occurrence of an attribute wins. */
export class RawDestination {
  /** Offset and length of the address (any length; -1 when absent). */
  addrAt = -1;
  addrLen = 0;
  af = -1;
  port = -1;
  /** The connection flags as sent (the forwarding method in the low bits), -1 absent. */
  fwd = -1;
  weight = 0;
  uThresh = 0;
  lThresh = 0;
  active = 0;
  inactive = 0;
  persist = 0;
  tunType = TUNNEL_TYPE_IPIP;
  tunPort = 0;
  tunFlags = 0;
  /** [at, end) of the counters' nest: STATS64 when sent, else STATS; -1 absent. */
  statsAt = -1;
  statsEnd = -1;
}

const u16le = (b: Buffer, at: number) => b[at] | (b[at + 1] << 8);

/** Reads the service nest [start, end) of buf into `out` (reset first), in one pass. */
export function decodeServiceAttrs(
  buf: Buffer,
  start: number,
  end: number,
  out = new RawService(),
): RawService {
  out.af = out.protocol = out.addrAt = out.port = out.netmask = -1;
  out.schedAt = out.schedEnd = out.peAt = out.peEnd = -1;
  out.addrLen = out.fwmark = out.flags = out.timeout = 0;
  let s64At = -1;
  let s64End = -1;
  let s32At = -1;
  let s32End = -1;
  let off = start;
  while (off + 4 <= end) {
    const len = u16le(buf, off);
    if (len < 4 || off + len > end) break;
    const p = off + 4;
    const n = len - 4;
    switch (u16le(buf, off + 2) & NLA_TYPE_MASK) {
      case SvcAttr.AF:
        if (n >= 2) out.af = u16le(buf, p);
        break;
      case SvcAttr.PROTOCOL:
        if (n >= 2) out.protocol = u16le(buf, p);
        break;
      case SvcAttr.ADDR:
        out.addrAt = p;
        out.addrLen = n;
        break;
      case SvcAttr.PORT:
        if (n >= 2) out.port = (buf[p] << 8) | buf[p + 1];
        break;
      case SvcAttr.FWMARK:
        if (n >= 4) out.fwmark = buf.readUInt32LE(p);
        break;
      case SvcAttr.SCHED_NAME:
        out.schedAt = p;
        out.schedEnd = p + n;
        break;
      case SvcAttr.PE_NAME:
        out.peAt = p;
        out.peEnd = p + n;
        break;
      case SvcAttr.FLAGS:
        if (n >= 4) out.flags = buf.readUInt32LE(p);
        break;
      case SvcAttr.TIMEOUT:
        if (n >= 4) out.timeout = buf.readUInt32LE(p);
        break;
      case SvcAttr.NETMASK:
        if (n >= 4) out.netmask = buf.readUInt32LE(p);
        break;
      case SvcAttr.STATS64:
        s64At = p;
        s64End = p + n;
        break;
      case SvcAttr.STATS:
        s32At = p;
        s32End = p + n;
        break;
    }
    off += (len + 3) & ~3;
  }
  out.statsAt = s64At >= 0 ? s64At : s32At;
  out.statsEnd = s64At >= 0 ? s64End : s32End;
  return out;
}

/** Reads the real server nest [start, end) of buf into `out` (reset first), in one pass. */
export function decodeDestinationAttrs(
  buf: Buffer,
  start: number,
  end: number,
  out = new RawDestination(),
): RawDestination {
  out.addrAt = out.af = out.port = out.fwd = -1;
  out.addrLen = out.weight = out.uThresh = out.lThresh = out.active = out.inactive = out.persist = 0;
  out.tunType = TUNNEL_TYPE_IPIP;
  out.tunPort = out.tunFlags = 0;
  let s64At = -1;
  let s64End = -1;
  let s32At = -1;
  let s32End = -1;
  let off = start;
  while (off + 4 <= end) {
    const len = u16le(buf, off);
    if (len < 4 || off + len > end) break;
    const p = off + 4;
    const n = len - 4;
    switch (u16le(buf, off + 2) & NLA_TYPE_MASK) {
      case DestAttr.ADDR:
        out.addrAt = p;
        out.addrLen = n;
        break;
      case DestAttr.ADDR_FAMILY:
        if (n >= 2) out.af = u16le(buf, p);
        break;
      case DestAttr.PORT:
        if (n >= 2) out.port = (buf[p] << 8) | buf[p + 1];
        break;
      case DestAttr.FWD_METHOD:
        if (n >= 4) out.fwd = buf.readUInt32LE(p);
        break;
      case DestAttr.WEIGHT:
        if (n >= 4) out.weight = buf.readInt32LE(p);
        break;
      case DestAttr.U_THRESH:
        if (n >= 4) out.uThresh = buf.readUInt32LE(p);
        break;
      case DestAttr.L_THRESH:
        if (n >= 4) out.lThresh = buf.readUInt32LE(p);
        break;
      case DestAttr.ACTIVE_CONNS:
        if (n >= 4) out.active = buf.readUInt32LE(p);
        break;
      case DestAttr.INACT_CONNS:
        if (n >= 4) out.inactive = buf.readUInt32LE(p);
        break;
      case DestAttr.PERSIST_CONNS:
        if (n >= 4) out.persist = buf.readUInt32LE(p);
        break;
      case DestAttr.TUN_TYPE:
        if (n >= 1) out.tunType = buf[p];
        break;
      case DestAttr.TUN_PORT:
        if (n >= 2) out.tunPort = (buf[p] << 8) | buf[p + 1];
        break;
      case DestAttr.TUN_FLAGS:
        if (n >= 2) out.tunFlags = u16le(buf, p);
        break;
      case DestAttr.STATS64:
        s64At = p;
        s64End = p + n;
        break;
      case DestAttr.STATS:
        s32At = p;
        s32End = p + n;
        break;
    }
    off += (len + 3) & ~3;
  }
  out.statsAt = s64At >= 0 ? s64At : s32At;
  out.statsEnd = s64At >= 0 ? s64End : s32End;
  return out;
}

// The counters of the last stats nest read: payload offset per counter (-1 absent) and whether it has 64 bits.
const counterAt = new Int32Array(StatsAttr.OUTBPS + 1);
const counterWide = new Uint8Array(StatsAttr.OUTBPS + 1);

/** The counters of a stats nest [start, end) (STATS64: u64 each, STATS: u32), each read by `read`
 * (0 when absent or shorter than 4 bytes; the last well-sized occurrence wins). */
function counters<T>(
  buf: Buffer,
  start: number,
  end: number,
  read: (buf: Buffer, at: number, wide: boolean) => T,
  zero: T,
): Counters<T> {
  counterAt.fill(-1);
  let off = start;
  while (off + 4 <= end) {
    const len = u16le(buf, off);
    if (len < 4 || off + len > end) break;
    const t = u16le(buf, off + 2) & NLA_TYPE_MASK;
    if (t >= StatsAttr.CONNS && t <= StatsAttr.OUTBPS && len >= 8) {
      counterAt[t] = off + 4;
      counterWide[t] = len >= 12 ? 1 : 0;
    }
    off += (len + 3) & ~3;
  }
  const v = (t: number) => (counterAt[t] < 0 ? zero : read(buf, counterAt[t], counterWide[t] === 1));
  return {
    conns: v(StatsAttr.CONNS),
    inPackets: v(StatsAttr.INPKTS),
    outPackets: v(StatsAttr.OUTPKTS),
    inBytes: v(StatsAttr.INBYTES),
    outBytes: v(StatsAttr.OUTBYTES),
    cps: v(StatsAttr.CPS),
    inPps: v(StatsAttr.INPPS),
    outPps: v(StatsAttr.OUTPPS),
    inBps: v(StatsAttr.INBPS),
    outBps: v(StatsAttr.OUTBPS),
  };
}

const readNumber = (b: Buffer, at: number, wide: boolean) =>
  wide ? b.readUInt32LE(at) + b.readUInt32LE(at + 4) * 0x100000000 : b.readUInt32LE(at);
const readBigint = (b: Buffer, at: number, wide: boolean) =>
  wide ? b.readBigUInt64LE(at) : BigInt(b.readUInt32LE(at));

/** A u64 (little-endian) at `at` as a number (exact below 2^53). */
const u64le = (b: Buffer, at: number) =>
  ((b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0) +
  ((b[at + 4] | (b[at + 5] << 8) | (b[at + 6] << 16) | (b[at + 7] << 24)) >>> 0) * 0x100000000;

/** The size of a STATS64 nest as the kernel writes it: the ten counters in order, 12 bytes each. */
const FIXED_STATS64 = 10 * 12;

/** Whether [start, start + FIXED_STATS64) holds the ten u64 counters CONNS..OUTBPS in that order. */
function fixedStats64(buf: Buffer, start: number): boolean {
  for (let t = StatsAttr.CONNS, at = start; t <= StatsAttr.OUTBPS; t++, at += 12)
    if (u16le(buf, at) !== 12 || (u16le(buf, at + 2) & NLA_TYPE_MASK) !== t) return false;
  return true;
}

/** The counters of a stats nest as numbers (exact below 2^53), as lbd keeps them. The kernel's own
 * layout (every real server and service of a dump has it) is read at fixed offsets; any other by the
 * attribute walk. */
export function statsOf(buf: Buffer, start: number, end: number): Stats {
  if (end - start !== FIXED_STATS64 || !fixedStats64(buf, start))
    return counters(buf, start, end, readNumber, 0);
  return {
    conns: u64le(buf, start + 4),
    inPackets: u64le(buf, start + 16),
    outPackets: u64le(buf, start + 28),
    inBytes: u64le(buf, start + 40),
    outBytes: u64le(buf, start + 52),
    cps: u64le(buf, start + 64),
    inPps: u64le(buf, start + 76),
    outPps: u64le(buf, start + 88),
    inBps: u64le(buf, start + 100),
    outBps: u64le(buf, start + 112),
  };
}

/** The counters of a stats nest as the kernel's exact 64-bit values. */
export function exactStatsOf(buf: Buffer, start: number, end: number): ExactStats {
  return counters(buf, start, end, readBigint, 0n);
}

const ZERO_STATS: Stats = Object.freeze({
  conns: 0,
  inPackets: 0,
  outPackets: 0,
  inBytes: 0,
  outBytes: 0,
  cps: 0,
  inPps: 0,
  outPps: 0,
  inBps: 0,
  outBps: 0,
});

/** An IPv4 netmask from its little-endian u32 (RawService.netmask): the dotted quad of its bytes. */
export function ipv4MaskText(v: number): Ipv4Address {
  return `${v & 255}.${(v >>> 8) & 255}.${(v >>> 16) & 255}.${v >>> 24}` as Ipv4Address;
}

function familyOfAf(n: number): Family {
  if (n === AF_INET) return 'inet';
  if (n === AF_INET6) return 'inet6';
  throw new NetlinkFormatError(`unknown address family ${n}`);
}

function protocolOf(n: number): Protocol {
  if (n === IPPROTO_TCP) return 'tcp';
  if (n === IPPROTO_UDP) return 'udp';
  if (n === IPPROTO_SCTP) return 'sctp';
  throw new NetlinkFormatError(`unknown protocol ${n}`);
}

/** The payload offset of the first attribute `type` in [start, end) of buf, or -1; its payload ends at
 * attrEnd(buf, offset). */
export function findAttr(buf: Buffer, start: number, end: number, type: number): number {
  let off = start;
  while (off + 4 <= end) {
    const len = u16le(buf, off);
    if (len < 4 || off + len > end) return -1;
    if ((u16le(buf, off + 2) & NLA_TYPE_MASK) === type) return off + 4;
    off += (len + 3) & ~3;
  }
  return -1;
}

/** The end of the payload of the attribute whose payload starts at `at`. */
export const attrEnd = (buf: Buffer, at: number): number => at - 4 + u16le(buf, at - 4);

/**
 * Calls fn(b, start, end) with the payload of the top-level attribute `attr` of each genl message in
 * [start, end) of b (the first one: the only one in IPVS replies); `missing` for a message without it.
 * A plain walk (no iterator, no message object): it runs for every object of a dump.
 */
export function eachMessage(
  b: Buffer,
  start: number,
  end: number,
  attr: number,
  fn: (b: Buffer, start: number, end: number) => void,
  missing?: () => void,
): void {
  let off = start;
  while (off + 20 <= end) {
    const len = b.readUInt32LE(off);
    if (len < 20 || off + len > end) break;
    const at = findAttr(b, off + 20, off + len, attr);
    if (at >= 0) fn(b, at, attrEnd(b, at));
    else missing?.();
    off += (len + 3) & ~3;
  }
}

/** The weight, thresholds and connection counts of a real server, as the kernel sent them. */
export function destinationNumbers(r: RawDestination) {
  return {
    weight: r.weight,
    upperThreshold: r.uThresh,
    lowerThreshold: r.lThresh,
    activeConns: r.active,
    inactiveConns: r.inactive,
    persistentConns: r.persist,
  };
}

const rawService = new RawService();
const rawDestination = new RawDestination();

/** A service from a GET_SERVICE reply (IPVS_CMD_ATTR_SERVICE), checked. Also decodes the service
 * attribute of a request (then without settings). */
export function decodeService(buf: Buffer, m: Message): ServiceEntry {
  return serviceOf(buf, m, undefined);
}

/** A service as decodeService reads it, with a list of real servers to fill (table(): no copy of the
 * service to add them). */
export function decodeVirtualService(
  buf: Buffer,
  m: Message,
): VirtualServiceEntry & { readonly destinations: DestinationEntry[] } {
  return serviceOf(buf, m, []);
}

function serviceOf(buf: Buffer, m: Message, destinations: undefined): ServiceEntry;
function serviceOf(
  buf: Buffer,
  m: Message,
  destinations: DestinationEntry[],
): VirtualServiceEntry & { readonly destinations: DestinationEntry[] };
function serviceOf(
  buf: Buffer,
  m: Message,
  destinations: DestinationEntry[] | undefined,
): ServiceEntry | VirtualServiceEntry {
  const at = findAttr(buf, m.start, m.end, CmdAttr.SERVICE);
  if (at < 0) throw new NetlinkFormatError('missing service attribute');
  const r = decodeServiceAttrs(buf, at, attrEnd(buf, at), rawService);
  if (r.af < 0) throw new NetlinkFormatError('service without address family');
  const family = familyOfAf(r.af);
  let key: ServiceKey;
  if (r.fwmark !== 0) {
    key = { protocol: 'fwmark', family, fwmark: toFwmark(r.fwmark) };
  } else {
    if (r.protocol < 0) throw new NetlinkFormatError('service without protocol');
    if (r.addrAt < 0) throw new NetlinkFormatError('service without address');
    if (r.port < 0) throw new NetlinkFormatError('service without port');
    key = {
      protocol: protocolOf(r.protocol),
      address: addressFromBytes(family, buf, r.addrAt, r.addrLen),
      port: r.port as Port,
    };
  }
  let netmask: Netmask;
  if (r.netmask < 0) netmask = defaultNetmask(family);
  else if (family === 'inet6') netmask = { family: 'inet6', prefix: r.netmask };
  else netmask = { family: 'inet', mask: ipv4MaskText(r.netmask) };
  const bits = r.flags;
  const scheduler = r.schedAt >= 0 ? cString(buf, r.schedAt, r.schedEnd) : '';
  const flags = flagsOf(bits);
  const hashed = (bits & SVC_F_HASHED) !== 0;
  const timeout = r.timeout;
  const pe = r.peAt >= 0 ? cString(buf, r.peAt, r.peEnd) || null : null;
  const stats = r.statsAt >= 0 ? statsOf(buf, r.statsAt, r.statsEnd) : ZERO_STATS;
  if (destinations === undefined) return { key, scheduler, flags, hashed, timeout, netmask, pe, stats };
  return { key, scheduler, flags, hashed, timeout, netmask, pe, stats, destinations };
}

/** A real server from a GET_DEST reply (IPVS_CMD_ATTR_DEST), checked; `svcFamily` when ADDR_FAMILY is
 * absent. */
export function decodeDestination(buf: Buffer, m: Message, svcFamily: Family): DestinationEntry {
  const at = findAttr(buf, m.start, m.end, CmdAttr.DEST);
  if (at < 0) missingDestination();
  return destinationOf(buf, at, attrEnd(buf, at), svcFamily);
}

/** The real servers of the GET_DEST replies in [start, end) of buf (one service's dump), checked;
 * appended to `out`. */
export function decodeDestinations(
  buf: Buffer,
  start: number,
  end: number,
  svcFamily: Family,
  out: DestinationEntry[] = [],
): DestinationEntry[] {
  eachMessage(
    buf,
    start,
    end,
    CmdAttr.DEST,
    (b, at, e) => out.push(destinationOf(b, at, e, svcFamily)),
    missingDestination,
  );
  return out;
}

function missingDestination(): never {
  throw new NetlinkFormatError('missing destination attribute');
}

/** A real server from its IPVS_CMD_ATTR_DEST nest [at, end). */
function destinationOf(buf: Buffer, at: number, end: number, svcFamily: Family): DestinationEntry {
  const r = decodeDestinationAttrs(buf, at, end, rawDestination);
  if (r.addrAt < 0) throw new NetlinkFormatError('destination without address');
  if (r.port < 0) throw new NetlinkFormatError('destination without port');
  const family = r.af >= 0 ? familyOfAf(r.af) : svcFamily;
  return {
    address: addressFromBytes(family, buf, r.addrAt, r.addrLen),
    port: r.port as Port,
    forward: forwardOf(r.fwd < 0 ? -1 : r.fwd & CONN_F_FWD_MASK, r.tunType, r.tunPort, r.tunFlags),
    ...destinationNumbers(r),
    stats: r.statsAt >= 0 ? statsOf(buf, r.statsAt, r.statsEnd) : ZERO_STATS,
  };
}

const FWD_MASQ: Forward = Object.freeze({ method: 'masq' });
const FWD_LOCAL: Forward = Object.freeze({ method: 'local' });
const FWD_ROUTE: Forward = Object.freeze({ method: 'route' });
const FWD_BYPASS: Forward = Object.freeze({ method: 'bypass' });

function forwardOf(fwd: number, tunType: number, tunPort: number, tunFlags: number): Forward {
  switch (fwd) {
    case CONN_F_MASQ:
      return FWD_MASQ;
    case CONN_F_LOCALNODE:
      return FWD_LOCAL;
    case CONN_F_DROUTE:
      return FWD_ROUTE;
    case CONN_F_BYPASS:
      return FWD_BYPASS;
    case CONN_F_TUNNEL:
      return { method: 'tunnel', tunnel: tunnelOf(tunType, tunPort, tunFlags) };
  }
  throw new NetlinkFormatError(
    fwd < 0 ? 'destination without forwarding method' : `unknown forwarding method ${fwd}`,
  );
}

function tunnelOf(type: number, tunPort: number, flags: number): Tunnel {
  const checksum = flags & TUNNEL_FLAG_REMCSUM ? 'remcsum' : flags & TUNNEL_FLAG_CSUM ? 'csum' : 'nocsum';
  switch (type) {
    case TUNNEL_TYPE_IPIP:
      return { type: 'ipip' };
    case TUNNEL_TYPE_GUE:
      return { type: 'gue', port: tunPort as Port, checksum };
    case TUNNEL_TYPE_GRE:
      return { type: 'gre', checksum: checksum === 'remcsum' ? 'csum' : checksum };
  }
  throw new NetlinkFormatError(`unknown tunnel type ${type}`);
}

/** A sync daemon from a GET_DAEMON reply. */
export function decodeDaemon(buf: Buffer, m: Message): Daemon {
  const top = new Attrs(buf, m.start, m.end, CmdAttr.TIMEOUT_UDP);
  const d = top.nested(CmdAttr.DAEMON, DaemonAttr.MCAST_TTL, 'daemon');
  const state = d.u32(DaemonAttr.STATE, 'daemon state');
  if (state !== STATE_MASTER && state !== STATE_BACKUP)
    throw new NetlinkFormatError(`unknown daemon state ${state}`);
  const out: {
    -readonly [K in keyof Daemon]: Daemon[K];
  } = {
    state: state === STATE_MASTER ? 'master' : 'backup',
    interface: d.string(DaemonAttr.MCAST_IFN, 'daemon interface'),
    syncId: d.u32(DaemonAttr.SYNC_ID, 'daemon sync id'),
  };
  if (d.has(DaemonAttr.SYNC_MAXLEN)) out.maxLength = d.u16(DaemonAttr.SYNC_MAXLEN);
  if (d.has(DaemonAttr.MCAST_PORT)) out.port = toPort(d.u16(DaemonAttr.MCAST_PORT));
  if (d.has(DaemonAttr.MCAST_TTL)) out.ttl = d.u8(DaemonAttr.MCAST_TTL);
  if (d.has(DaemonAttr.MCAST_GROUP6)) {
    out.group = addressFromBytes(
      'inet6',
      buf,
      d.offset(DaemonAttr.MCAST_GROUP6),
      d.len(DaemonAttr.MCAST_GROUP6),
    );
  } else if (d.has(DaemonAttr.MCAST_GROUP)) {
    out.group = addressFromBytes(
      'inet',
      buf,
      d.offset(DaemonAttr.MCAST_GROUP),
      d.len(DaemonAttr.MCAST_GROUP),
    );
  }
  return out;
}

export function decodeTimeouts(buf: Buffer, m: Message): Timeouts {
  const a = new Attrs(buf, m.start, m.end, CmdAttr.TIMEOUT_UDP);
  return {
    tcp: a.optU32(CmdAttr.TIMEOUT_TCP, 0),
    tcpFin: a.optU32(CmdAttr.TIMEOUT_TCP_FIN, 0),
    udp: a.optU32(CmdAttr.TIMEOUT_UDP, 0),
  };
}

export function decodeInfo(buf: Buffer, m: Message): Info {
  const a = new Attrs(buf, m.start, m.end, InfoAttr.CONN_TAB_SIZE);
  const v = a.u32(InfoAttr.VERSION, 'version');
  return {
    version: `${(v >> 16) & 0xff}.${(v >> 8) & 0xff}.${v & 0xff}`,
    versionCode: v,
    connTableSize: a.optU32(InfoAttr.CONN_TAB_SIZE, 0),
  };
}
