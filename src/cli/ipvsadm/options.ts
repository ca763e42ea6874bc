// ipvsadm 1.31's option table, command names, option names and the table of legal command/option
// combinations (facts of ipvsadm's documented and observed behaviour).
import type { OptionSpec } from './popt';

export enum Cmd {
  NONE = 0,
  ADD,
  EDIT,
  DEL,
  FLUSH,
  LIST,
  ADDDEST,
  DELDEST,
  EDITDEST,
  TIMEOUT,
  STARTDAEMON,
  STOPDAEMON,
  RESTORE,
  SAVE,
  ZERO,
}

export const CMD_NAMES = [
  'add-service',
  'edit-service',
  'delete-service',
  'flush',
  'list',
  'add-server',
  'delete-server',
  'edit-server',
  'set',
  'start-daemon',
  'stop-daemon',
  'restore',
  'save',
  'zero',
];

/** Option indices (bit numbers) and their names in error messages. */
export enum Opt {
  NUMERIC = 0,
  CONNECTION,
  SERVICE,
  SCHEDULER,
  PERSISTENT,
  NETMASK,
  SERVER,
  FORWARD,
  WEIGHT,
  UTHRESHOLD,
  LTHRESHOLD,
  MCAST,
  TIMEOUT,
  DAEMON,
  STATS,
  RATE,
  THRESHOLDS,
  PERSISTENTCONN,
  NOSORT,
  SYNCID,
  EXACT,
  ONEPACKET,
  PE,
  SCHED_FLAGS,
  MCAST_GROUP,
  MCAST_PORT,
  MCAST_TTL,
  SYNC_MAXLEN,
  TUN_INFO,
  TUN_TYPE,
  TUN_PORT,
  TUN_NOCSUM,
  TUN_CSUM,
  TUN_REMCSUM,
}

export const OPT_NAMES = [
  'numeric',
  'connection',
  'service-address',
  'scheduler',
  'persistent',
  'netmask',
  'real-server',
  'forwarding-method',
  'weight',
  'u-threshold',
  'l-threshold',
  'mcast-interface',
  'timeout',
  'daemon',
  'stats',
  'rate',
  'thresholds',
  'persistent-conn',
  'nosort',
  'syncid',
  'exact',
  'ops',
  'pe',
  'sched-flags',
  'mcast-group',
  'mcast-port',
  'mcast-ttl',
  'sync-maxlen',
  'tun-info',
  'tun-type',
  'tun-port',
  'tun-nocsum',
  'tun-csum',
  'tun-remcsum',
];

/** '+' compulsory, 'x' illegal, '1' exclusive, ' ' optional; one row per command, one column per Opt. */
// prettier-ignore
export const COMMANDS_V_OPTIONS: readonly string[] = [
  // -n -c svc -s -p -M -r fwd -w -x -y -mc tot dmn -st -rt thr -pc srt sid -ex ops -pe -b grp port ttl size tinf type tprt nocs csum remc
  'xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx', // ADD
  'xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx', // EDIT
  'xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', // DEL
  'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', // FLUSH
  ' 11xxxxxxxxx11       xxxxxxx xxxxx', // LIST
  'xx+xxx+    xxxxxxxxxxxxxxxxxx     ', // ADDDEST
  'xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx', // DELDEST
  'xx+xxx+    xxxxxxxxxxxxxxxxxx     ', // EDITDEST
  'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', // TIMEOUT
  'xxxxxxxxxxx xxxxxxx xxxx    xxxxxx', // STARTDAEMON
  'xxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxx', // STOPDAEMON
  'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', // RESTORE
  ' xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', // SAVE
  'xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', // ZERO
];

export const TUN_NAMES = ['ipip', 'gue', 'gre'];
/** Tunnel options in the order of the tunnel table's columns. */
export const TUN_OPTS = [Opt.TUN_PORT, Opt.TUN_NOCSUM, Opt.TUN_CSUM, Opt.TUN_REMCSUM];
// prettier-ignore
export const TUNNEL_TYPES_V_OPTIONS: readonly string[] = [
  'xxxx', // ipip
  '+111', // gue
  'x11x', // gre
];

/** Tags that are not a short option character. */
export const T = {
  SET: 'set',
  START_DAEMON: 'start-daemon',
  STOP_DAEMON: 'stop-daemon',
  SCTP: 'sctp-service',
  MCAST_INTERFACE: 'mcast-interface',
  SYNCID: 'syncid',
  TIMEOUT: 'timeout',
  DAEMON: 'daemon',
  STATS: 'stats',
  RATE: 'rate',
  THRESHOLDS: 'thresholds',
  PERSISTENTCONN: 'persistent-conn',
  NOSORT: 'nosort',
  SORT: 'sort',
  PE: 'pe',
  MCAST_GROUP: 'mcast-group',
  MCAST_PORT: 'mcast-port',
  MCAST_TTL: 'mcast-ttl',
  SYNC_MAXLEN: 'sync-maxlen',
  TUN_INFO: 'tun-info',
  TUN_TYPE: 'tun-type',
  TUN_PORT: 'tun-port',
  TUN_NOCSUM: 'tun-nocsum',
  TUN_CSUM: 'tun-csum',
  TUN_REMCSUM: 'tun-remcsum',
  JSON: 'json',
} as const;

const o = (long: string, short: string, arg: OptionSpec['arg'], tag?: string): OptionSpec => ({
  long,
  short,
  arg,
  tag: tag ?? (short !== '' ? short : long),
});

export const OPTION_TABLE: readonly OptionSpec[] = [
  o('add-service', 'A', 'none'),
  o('edit-service', 'E', 'none'),
  o('delete-service', 'D', 'none'),
  o('clear', 'C', 'none'),
  o('list', 'L', 'none'),
  o('list', 'l', 'none'),
  o('zero', 'Z', 'none'),
  o('add-server', 'a', 'none'),
  o('edit-server', 'e', 'none'),
  o('delete-server', 'd', 'none'),
  o('set', '', 'none'),
  o('help', 'h', 'none'),
  o('version', 'v', 'none'),
  o('restore', 'R', 'none'),
  o('save', 'S', 'none'),
  o('start-daemon', '', 'required'),
  o('stop-daemon', '', 'required'),
  o('tcp-service', 't', 'required'),
  o('udp-service', 'u', 'required'),
  o('sctp-service', '', 'required'),
  o('fwmark-service', 'f', 'required'),
  o('scheduler', 's', 'required'),
  o('persistent', 'p', 'optional'),
  o('netmask', 'M', 'required'),
  o('real-server', 'r', 'required'),
  o('masquerading', 'm', 'none'),
  o('ipip', 'i', 'none'),
  o('gatewaying', 'g', 'none'),
  o('weight', 'w', 'required'),
  o('u-threshold', 'x', 'required'),
  o('l-threshold', 'y', 'required'),
  o('numeric', 'n', 'none'),
  o('connection', 'c', 'none'),
  o('mcast-interface', '', 'required'),
  o('syncid', '', 'required'),
  o('timeout', '', 'none'),
  o('daemon', '', 'none'),
  o('stats', '', 'none'),
  o('rate', '', 'none'),
  o('thresholds', '', 'none'),
  o('persistent-conn', '', 'none'),
  o('nosort', '', 'none'),
  o('sort', '', 'none'),
  o('exact', 'X', 'none'),
  o('ipv6', '6', 'none'),
  o('ops', 'o', 'none'),
  o('pe', '', 'required'),
  o('sched-flags', 'b', 'required'),
  o('mcast-group', '', 'required'),
  o('mcast-port', '', 'required'),
  o('mcast-ttl', '', 'required'),
  o('sync-maxlen', '', 'required'),
  o('tun-info', '', 'none'),
  o('tun-type', '', 'required'),
  o('tun-port', '', 'required'),
  o('tun-nocsum', '', 'none'),
  o('tun-csum', '', 'none'),
  o('tun-remcsum', '', 'none'),
  // lbctl's own: machine-readable output of every listing.
  o('json', '', 'none'),
];
