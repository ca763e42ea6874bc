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
import { Attrs, MessageWriter, NetlinkFormatError, type Message } from './netlink';
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
  Service,
  ServiceEntry,
  ServiceFlags,
  ServiceKey,
  Stats,
  Timeouts,
  Tunnel,
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

function readStats(buf: Buffer, start: number, end: number): Stats {
  const v = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  let off = start;
  while (off + 4 <= end) {
    const len = buf.readUInt16LE(off);
    const t = buf.readUInt16LE(off + 2) & 0x3fff;
    if (len < 4 || off + len > end) break;
    if (t >= StatsAttr.CONNS && t <= StatsAttr.OUTBPS) {
      if (len >= 12) v[t] = buf.readUInt32LE(off + 4) + buf.readUInt32LE(off + 8) * 0x100000000;
      else if (len >= 8) v[t] = buf.readUInt32LE(off + 4);
    }
    off += (len + 3) & ~3;
  }
  return {
    conns: v[StatsAttr.CONNS],
    inPackets: v[StatsAttr.INPKTS],
    outPackets: v[StatsAttr.OUTPKTS],
    inBytes: v[StatsAttr.INBYTES],
    outBytes: v[StatsAttr.OUTBYTES],
    cps: v[StatsAttr.CPS],
    inPps: v[StatsAttr.INPPS],
    outPps: v[StatsAttr.OUTPPS],
    inBps: v[StatsAttr.INBPS],
    outBps: v[StatsAttr.OUTBPS],
  };
}

function cString(buf: Buffer, start: number, end: number): string {
  let nul = start;
  while (nul < end && buf[nul] !== 0) nul++;
  return buf.toString('utf8', start, nul);
}

/** A service from a GET_SERVICE reply (IPVS_CMD_ATTR_SERVICE), in one pass over its attributes. Also
 * decodes the service attribute of a request (then without settings). */
export function decodeService(buf: Buffer, m: Message): ServiceEntry {
  const nest = findAttr(buf, m, CmdAttr.SERVICE);
  if (nest === null) throw new NetlinkFormatError('missing service attribute');
  let af = -1;
  let proto = -1;
  let addrAt = -1;
  let addrLen = 0;
  let svcPort = -1;
  let mark = 0;
  let sched = '';
  let pe: string | null = null;
  let bits = 0;
  let timeout = 0;
  let maskAt = -1;
  let stats: Stats = ZERO_STATS;
  let have64 = false;
  let off = nest[0];
  const end = nest[1];
  while (off + 4 <= end) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || off + len > end) break;
    const t = buf.readUInt16LE(off + 2) & NLA_TYPE_MASK;
    const p = off + 4;
    const n = len - 4;
    switch (t) {
      case SvcAttr.AF:
        if (n >= 2) af = buf.readUInt16LE(p);
        break;
      case SvcAttr.PROTOCOL:
        if (n >= 2) proto = buf.readUInt16LE(p);
        break;
      case SvcAttr.ADDR:
        addrAt = p;
        addrLen = n;
        break;
      case SvcAttr.PORT:
        if (n >= 2) svcPort = buf.readUInt16BE(p);
        break;
      case SvcAttr.FWMARK:
        if (n >= 4) mark = buf.readUInt32LE(p);
        break;
      case SvcAttr.SCHED_NAME:
        sched = cString(buf, p, p + n);
        break;
      case SvcAttr.PE_NAME:
        pe = cString(buf, p, p + n) || null;
        break;
      case SvcAttr.FLAGS:
        if (n >= 4) bits = buf.readUInt32LE(p);
        break;
      case SvcAttr.TIMEOUT:
        if (n >= 4) timeout = buf.readUInt32LE(p);
        break;
      case SvcAttr.NETMASK:
        if (n >= 4) maskAt = p;
        break;
      case SvcAttr.STATS64:
        stats = readStats(buf, p, p + n);
        have64 = true;
        break;
      case SvcAttr.STATS:
        if (!have64) stats = readStats(buf, p, p + n);
        break;
    }
    off += (len + 3) & ~3;
  }
  if (af < 0) throw new NetlinkFormatError('service without address family');
  const family = familyOfAf(af);
  let key: ServiceKey;
  if (mark !== 0) {
    key = { protocol: 'fwmark', family, fwmark: toFwmark(mark) };
  } else {
    if (proto < 0) throw new NetlinkFormatError('service without protocol');
    if (addrAt < 0) throw new NetlinkFormatError('service without address');
    if (svcPort < 0) throw new NetlinkFormatError('service without port');
    key = {
      protocol: protocolOf(proto),
      address: addressFromBytes(family, buf, addrAt, addrLen),
      port: svcPort as Port,
    };
  }
  let netmask: Netmask;
  if (maskAt < 0) netmask = defaultNetmask(family);
  else if (family === 'inet6') netmask = { family: 'inet6', prefix: buf.readUInt32LE(maskAt) };
  else netmask = { family: 'inet', mask: addressFromBytes('inet', buf, maskAt, 4) as Ipv4Address };
  return {
    key,
    scheduler: sched,
    flags: {
      persistent: (bits & SVC_F_PERSISTENT) !== 0,
      onePacket: (bits & SVC_F_ONEPACKET) !== 0,
      sched1: (bits & SVC_F_SCHED1) !== 0,
      sched2: (bits & SVC_F_SCHED2) !== 0,
      sched3: (bits & SVC_F_SCHED3) !== 0,
    },
    hashed: (bits & SVC_F_HASHED) !== 0,
    timeout,
    netmask,
    pe,
    stats,
  };
}

/** The [offset, end) of the payload of the first top-level attribute `type` of a genl message, or null. */
function findAttr(buf: Buffer, m: Message, type: number): [number, number] | null {
  let off = m.start;
  while (off + 4 <= m.end) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || off + len > m.end) return null;
    if ((buf.readUInt16LE(off + 2) & NLA_TYPE_MASK) === type) return [off + 4, off + len];
    off += (len + 3) & ~3;
  }
  return null;
}

/** A real server from a GET_DEST reply (IPVS_CMD_ATTR_DEST); `serviceFamily` when ADDR_FAMILY is absent.
 * One pass over the attributes (this runs for every real server of a dump). */
export function decodeDestination(buf: Buffer, m: Message, svcFamily: Family): DestinationEntry {
  const nest = findAttr(buf, m, CmdAttr.DEST);
  if (nest === null) throw new NetlinkFormatError('missing destination attribute');
  let addrAt = -1;
  let addrLen = 0;
  let af = -1;
  let destPort = -1;
  let fwd = -1;
  let weight = 0;
  let uthresh = 0;
  let lthresh = 0;
  let active = 0;
  let inactive = 0;
  let persist = 0;
  let tunType = TUNNEL_TYPE_IPIP;
  let tunPort = 0;
  let tunFlags = 0;
  let stats: Stats = ZERO_STATS;
  let have64 = false;
  let off = nest[0];
  const end = nest[1];
  while (off + 4 <= end) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || off + len > end) break;
    const t = buf.readUInt16LE(off + 2) & NLA_TYPE_MASK;
    const p = off + 4;
    const n = len - 4;
    switch (t) {
      case DestAttr.ADDR:
        addrAt = p;
        addrLen = n;
        break;
      case DestAttr.ADDR_FAMILY:
        if (n >= 2) af = buf.readUInt16LE(p);
        break;
      case DestAttr.PORT:
        if (n >= 2) destPort = buf.readUInt16BE(p);
        break;
      case DestAttr.FWD_METHOD:
        if (n >= 4) fwd = buf.readUInt32LE(p) & CONN_F_FWD_MASK;
        break;
      case DestAttr.WEIGHT:
        if (n >= 4) weight = buf.readInt32LE(p);
        break;
      case DestAttr.U_THRESH:
        if (n >= 4) uthresh = buf.readUInt32LE(p);
        break;
      case DestAttr.L_THRESH:
        if (n >= 4) lthresh = buf.readUInt32LE(p);
        break;
      case DestAttr.ACTIVE_CONNS:
        if (n >= 4) active = buf.readUInt32LE(p);
        break;
      case DestAttr.INACT_CONNS:
        if (n >= 4) inactive = buf.readUInt32LE(p);
        break;
      case DestAttr.PERSIST_CONNS:
        if (n >= 4) persist = buf.readUInt32LE(p);
        break;
      case DestAttr.TUN_TYPE:
        if (n >= 1) tunType = buf[p];
        break;
      case DestAttr.TUN_PORT:
        if (n >= 2) tunPort = buf.readUInt16BE(p);
        break;
      case DestAttr.TUN_FLAGS:
        if (n >= 2) tunFlags = buf.readUInt16LE(p);
        break;
      case DestAttr.STATS64:
        stats = readStats(buf, p, p + n);
        have64 = true;
        break;
      case DestAttr.STATS:
        if (!have64) stats = readStats(buf, p, p + n);
        break;
    }
    off += (len + 3) & ~3;
  }
  if (addrAt < 0) throw new NetlinkFormatError('destination without address');
  if (destPort < 0) throw new NetlinkFormatError('destination without port');
  const family = af >= 0 ? familyOfAf(af) : svcFamily;
  return {
    address: addressFromBytes(family, buf, addrAt, addrLen),
    port: destPort as Port,
    forward: forwardOf(fwd, tunType, tunPort, tunFlags),
    weight,
    upperThreshold: uthresh,
    lowerThreshold: lthresh,
    activeConns: active,
    inactiveConns: inactive,
    persistentConns: persist,
    stats,
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
