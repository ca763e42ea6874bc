// Encoding of IPVS generic netlink requests and decoding of the kernel's replies. The attribute order and
// the attributes sent follow ipvsadm's libipvs byte for byte (see test/ipvs/fixtures), so that the
// kernel sees the same requests from lbd as from ipvsadm.
import {
  addressBytes,
  addressFromBytes,
  familyOf,
  fwmark as toFwmark,
  port as toPort,
  type Family,
  type IpAddress,
  type Ipv4Address,
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
      w.bytes(SvcAttr.ADDR, 16, (b, o) => addressBytes(key.address, b, o));
      w.be16(SvcAttr.PORT, key.port);
    }
  }

  /** The service attribute: its key, then the settings (ipvsadm sends empty settings with key-only ops). */
  private service(w: MessageWriter, key: ServiceKey, svc: Service | null): void {
    w.nestStart(CmdAttr.SERVICE);
    this.keyAttrs(w, key);
    w.string(SvcAttr.SCHED_NAME, svc ? svc.scheduler : '');
    if (svc?.pe) w.string(SvcAttr.PE_NAME, svc.pe);
    const flags = svc ? flagBits(svc.flags) : 0;
    w.bytes(SvcAttr.FLAGS, 8, (b, o) => {
      b.writeUInt32LE(flags, o);
      b.writeUInt32LE(ALL, o + 4);
    });
    w.u32(SvcAttr.TIMEOUT, svc ? svc.timeout : 0);
    const mask = svc ? svc.netmask : defaultNetmask(serviceFamily(key));
    if (mask.family === 'inet6') w.u32(SvcAttr.NETMASK, mask.prefix);
    else w.bytes(SvcAttr.NETMASK, 4, (b, o) => writeIpv4(mask.mask, b, o));
    w.nestEnd();
  }

  private dest(w: MessageWriter, d: Destination): void {
    const tun = tunnelFields(d.forward);
    w.nestStart(CmdAttr.DEST);
    w.u16(DestAttr.ADDR_FAMILY, af(familyOf(d.address)));
    w.bytes(DestAttr.ADDR, 16, (b, o) => addressBytes(d.address, b, o));
    w.be16(DestAttr.PORT, d.port);
    w.u32(DestAttr.FWD_METHOD, forwardBits(d.forward));
    w.u32(DestAttr.WEIGHT, d.weight);
    w.u8(DestAttr.TUN_TYPE, tun.type);
    w.be16(DestAttr.TUN_PORT, tun.port);
    w.u16(DestAttr.TUN_FLAGS, tun.flags);
    w.u32(DestAttr.U_THRESH, d.upperThreshold);
    w.u32(DestAttr.L_THRESH, d.lowerThreshold);
    w.nestEnd();
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
      if (familyOf(g) === 'inet')
        w.bytes(DaemonAttr.MCAST_GROUP, 4, (b, o) => writeIpv4(g as Ipv4Address, b, o));
      else w.bytes(DaemonAttr.MCAST_GROUP6, 16, (b, o) => addressBytes(g, b, o));
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

function writeIpv4(a: Ipv4Address, b: Buffer, o: number): void {
  const p = a.split('.');
  for (let i = 0; i < 4; i++) b[o + i] = Number(p[i]);
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

function tunnelFields(f: Forward): { type: number; port: number; flags: number } {
  if (f.method !== 'tunnel') return { type: 0, port: 0, flags: 0 };
  const t = f.tunnel;
  const csum = (c: string) => (c === 'csum' ? TUNNEL_FLAG_CSUM : c === 'remcsum' ? TUNNEL_FLAG_REMCSUM : 0);
  switch (t.type) {
    case 'ipip':
      return { type: TUNNEL_TYPE_IPIP, port: 0, flags: 0 };
    case 'gue':
      return { type: TUNNEL_TYPE_GUE, port: t.port, flags: csum(t.checksum) };
    case 'gre':
      return { type: TUNNEL_TYPE_GRE, port: 0, flags: csum(t.checksum) };
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

/** STATS64 (all u64) when present, else STATS (u32 counters and rates, u64 byte counts). Read in place
 * (no attribute table): this runs for every object of a dump. */
function decodeStats(a: Attrs, stats64: number, stats32: number): Stats {
  const wide = a.has(stats64);
  const type = wide ? stats64 : stats32;
  if (!a.has(type)) return ZERO_STATS;
  const buf = a.buf;
  const v = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  let off = a.offset(type);
  const end = off + a.len(type);
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

function decodeNetmask(family: Family, s: Attrs): Netmask {
  if (!s.has(SvcAttr.NETMASK) || s.len(SvcAttr.NETMASK) < 4) return defaultNetmask(family);
  const o = s.offset(SvcAttr.NETMASK);
  if (family === 'inet6') return { family: 'inet6', prefix: s.buf.readUInt32LE(o) };
  return { family: 'inet', mask: addressFromBytes('inet', s.buf, o, 4) as Ipv4Address };
}

/** A service from a GET_SERVICE reply (IPVS_CMD_ATTR_SERVICE). */
export function decodeService(buf: Buffer, m: Message): ServiceEntry {
  const top = new Attrs(buf, m.start, m.end, CmdAttr.TIMEOUT_UDP);
  const s = top.nested(CmdAttr.SERVICE, SvcAttr.STATS64, 'service');
  const family = familyOfAf(s.u16(SvcAttr.AF, 'service address family'));
  const mark = s.optU32(SvcAttr.FWMARK, 0);
  let key: ServiceKey;
  if (mark !== 0) {
    key = { protocol: 'fwmark', family, fwmark: toFwmark(mark) };
  } else {
    const protocol = protocolOf(s.u16(SvcAttr.PROTOCOL, 'service protocol'));
    if (!s.has(SvcAttr.ADDR)) throw new NetlinkFormatError('service without address');
    const address = addressFromBytes(family, buf, s.offset(SvcAttr.ADDR), s.len(SvcAttr.ADDR));
    key = { protocol, address, port: toPort(s.be16(SvcAttr.PORT, 'service port')) };
  }
  const bits =
    s.has(SvcAttr.FLAGS) && s.len(SvcAttr.FLAGS) >= 4 ? buf.readUInt32LE(s.offset(SvcAttr.FLAGS)) : 0;
  return {
    key,
    scheduler: s.has(SvcAttr.SCHED_NAME) ? s.string(SvcAttr.SCHED_NAME) : '',
    flags: {
      persistent: (bits & SVC_F_PERSISTENT) !== 0,
      onePacket: (bits & SVC_F_ONEPACKET) !== 0,
      sched1: (bits & SVC_F_SCHED1) !== 0,
      sched2: (bits & SVC_F_SCHED2) !== 0,
      sched3: (bits & SVC_F_SCHED3) !== 0,
    },
    hashed: (bits & SVC_F_HASHED) !== 0,
    timeout: s.optU32(SvcAttr.TIMEOUT, 0),
    netmask: decodeNetmask(family, s),
    pe: s.has(SvcAttr.PE_NAME) ? s.string(SvcAttr.PE_NAME) || null : null,
    stats: decodeStats(s, SvcAttr.STATS64, SvcAttr.STATS),
  };
}

function decodeForward(d: Attrs): Forward {
  const fwd = d.u32(DestAttr.FWD_METHOD, 'forwarding method') & CONN_F_FWD_MASK;
  switch (fwd) {
    case CONN_F_MASQ:
      return { method: 'masq' };
    case CONN_F_LOCALNODE:
      return { method: 'local' };
    case CONN_F_DROUTE:
      return { method: 'route' };
    case CONN_F_BYPASS:
      return { method: 'bypass' };
    case CONN_F_TUNNEL:
      return { method: 'tunnel', tunnel: decodeTunnel(d) };
  }
  throw new NetlinkFormatError(`unknown forwarding method ${fwd}`);
}

function decodeTunnel(d: Attrs): Tunnel {
  const type = d.optU8(DestAttr.TUN_TYPE, TUNNEL_TYPE_IPIP);
  const flags = d.optU16(DestAttr.TUN_FLAGS, 0);
  const checksum = flags & TUNNEL_FLAG_REMCSUM ? 'remcsum' : flags & TUNNEL_FLAG_CSUM ? 'csum' : 'nocsum';
  switch (type) {
    case TUNNEL_TYPE_IPIP:
      return { type: 'ipip' };
    case TUNNEL_TYPE_GUE:
      return { type: 'gue', port: toPort(d.optBe16(DestAttr.TUN_PORT, 0)), checksum };
    case TUNNEL_TYPE_GRE:
      return { type: 'gre', checksum: checksum === 'remcsum' ? 'csum' : checksum };
  }
  throw new NetlinkFormatError(`unknown tunnel type ${type}`);
}

/** A real server from a GET_DEST reply (IPVS_CMD_ATTR_DEST); `serviceFamily` when ADDR_FAMILY is absent. */
export function decodeDestination(buf: Buffer, m: Message, svcFamily: Family): DestinationEntry {
  const top = new Attrs(buf, m.start, m.end, CmdAttr.TIMEOUT_UDP);
  const d = top.nested(CmdAttr.DEST, DestAttr.TUN_FLAGS, 'destination');
  const family = d.has(DestAttr.ADDR_FAMILY) ? familyOfAf(d.u16(DestAttr.ADDR_FAMILY)) : svcFamily;
  if (!d.has(DestAttr.ADDR)) throw new NetlinkFormatError('destination without address');
  return {
    address: addressFromBytes(family, buf, d.offset(DestAttr.ADDR), d.len(DestAttr.ADDR)),
    port: toPort(d.be16(DestAttr.PORT, 'destination port')),
    forward: decodeForward(d),
    weight: d.optU32(DestAttr.WEIGHT, 0) | 0,
    upperThreshold: d.optU32(DestAttr.U_THRESH, 0),
    lowerThreshold: d.optU32(DestAttr.L_THRESH, 0),
    activeConns: d.optU32(DestAttr.ACTIVE_CONNS, 0),
    inactiveConns: d.optU32(DestAttr.INACT_CONNS, 0),
    persistentConns: d.optU32(DestAttr.PERSIST_CONNS, 0),
    stats: decodeStats(d, DestAttr.STATS64, DestAttr.STATS),
  };
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
