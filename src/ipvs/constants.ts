// Numbers of the kernel's IPVS generic netlink interface (include/uapi/linux/ip_vs.h) and of netlink.

export const IPVS_GENL_NAME = 'IPVS';
export const IPVS_GENL_VERSION = 1;

export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_DUMP = 0x300;
export const NLA_F_NESTED = 0x8000;
export const NLA_TYPE_MASK = 0x3fff;

export enum Cmd {
  NEW_SERVICE = 1,
  SET_SERVICE,
  DEL_SERVICE,
  GET_SERVICE,
  NEW_DEST,
  SET_DEST,
  DEL_DEST,
  GET_DEST,
  NEW_DAEMON,
  DEL_DAEMON,
  GET_DAEMON,
  SET_CONFIG,
  GET_CONFIG,
  SET_INFO,
  GET_INFO,
  ZERO,
  FLUSH,
}

export enum CmdAttr {
  SERVICE = 1,
  DEST,
  DAEMON,
  TIMEOUT_TCP,
  TIMEOUT_TCP_FIN,
  TIMEOUT_UDP,
}

export enum SvcAttr {
  AF = 1,
  PROTOCOL,
  ADDR,
  PORT,
  FWMARK,
  SCHED_NAME,
  FLAGS,
  TIMEOUT,
  NETMASK,
  STATS,
  PE_NAME,
  STATS64,
}

export enum DestAttr {
  ADDR = 1,
  PORT,
  FWD_METHOD,
  WEIGHT,
  U_THRESH,
  L_THRESH,
  ACTIVE_CONNS,
  INACT_CONNS,
  PERSIST_CONNS,
  STATS,
  ADDR_FAMILY,
  STATS64,
  TUN_TYPE,
  TUN_PORT,
  TUN_FLAGS,
}

export enum DaemonAttr {
  STATE = 1,
  MCAST_IFN,
  SYNC_ID,
  SYNC_MAXLEN,
  MCAST_GROUP,
  MCAST_GROUP6,
  MCAST_PORT,
  MCAST_TTL,
}

export enum StatsAttr {
  CONNS = 1,
  INPKTS,
  OUTPKTS,
  INBYTES,
  OUTBYTES,
  CPS,
  INPPS,
  OUTPPS,
  INBPS,
  OUTBPS,
}

export enum InfoAttr {
  VERSION = 1,
  CONN_TAB_SIZE,
}

export const AF_INET = 2;
export const AF_INET6 = 10;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_SCTP = 132;

export const SVC_F_PERSISTENT = 0x1;
export const SVC_F_HASHED = 0x2;
export const SVC_F_ONEPACKET = 0x4;
export const SVC_F_SCHED1 = 0x8;
export const SVC_F_SCHED2 = 0x10;
export const SVC_F_SCHED3 = 0x20;

export const CONN_F_FWD_MASK = 0x7;
export const CONN_F_MASQ = 0;
export const CONN_F_LOCALNODE = 1;
export const CONN_F_TUNNEL = 2;
export const CONN_F_DROUTE = 3;
export const CONN_F_BYPASS = 4;

export const TUNNEL_TYPE_IPIP = 0;
export const TUNNEL_TYPE_GUE = 1;
export const TUNNEL_TYPE_GRE = 2;
export const TUNNEL_FLAG_CSUM = 0x1;
export const TUNNEL_FLAG_REMCSUM = 0x2;

export const STATE_MASTER = 1;
export const STATE_BACKUP = 2;
