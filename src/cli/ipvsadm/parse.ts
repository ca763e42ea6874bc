// ipvsadm's command-line semantics: the first option is the command, then options in order (each
// one checked as it comes, so the first mistake wins, as in ipvsadm), leftover arguments, the
// command/option table, and the per-command checks and defaults (weight 1, wlc, direct routing,
// persistence 360 s, /32 or /128 granularity). Errors carry ipvsadm's exact text and exit status.
import { Popt } from './popt';
import {
  CMD_NAMES,
  COMMANDS_V_OPTIONS,
  Cmd,
  OPTION_TABLE,
  OPT_NAMES,
  Opt,
  T,
  TUNNEL_TYPES_V_OPTIONS,
  TUN_NAMES,
  TUN_OPTS,
} from './options';
import {
  formatIpv4,
  hostToAddr,
  inetAton,
  inetNtop6,
  inetPton4,
  inetPton6,
  serviceToPort,
  type ProtoName,
} from './resolve';

/** Ends the command with this status, stdout and stderr text (like ipvsadm's exit()). */
export class IpvsadmExit extends Error {
  constructor(
    readonly code: number,
    readonly stderr: string,
    readonly stdout = '',
  ) {
    super(stderr.trimEnd() || `exit ${code}`);
    this.name = 'IpvsadmExit';
  }
}

export const fail = (code: number, msg: string): never => {
  throw new IpvsadmExit(code, `${msg}\n`);
};

export const tryhelp = (prog: string): never => {
  throw new IpvsadmExit(255, `Try \`${prog} -h' or '${prog} --help' for more information.\n`);
};

export const FMT = {
  NUMERIC: 0x1,
  RULE: 0x2,
  STATS: 0x4,
  RATE: 0x8,
  THRESHOLDS: 0x10,
  PERSISTENTCONN: 0x20,
  NOSORT: 0x40,
  EXACT: 0x80,
  TUN_INFO: 0x100,
} as const;

export const AF_INET = 2;
export const AF_INET6 = 10;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_SCTP = 132;
const MAX_TIMEOUT = 86400 * 31;
const INT_MAX = 2147483647;
export const SVC_F_PERSISTENT = 0x1;
export const SVC_F_ONEPACKET = 0x4;
export const SVC_F_SCHED1 = 0x8;
export const SVC_F_SCHED2 = 0x10;
export const SVC_F_SCHED3 = 0x20;
export const FWD_MASQ = 0;
export const FWD_TUNNEL = 2;
export const FWD_DROUTE = 3;

/** The service part of a command, as ipvsadm's ipvs_service_t. */
export interface SvcState {
  af: number;
  protocol: number;
  /** 4 or 16 bytes; IPv4 as 4. */
  addr: Buffer;
  port: number;
  fwmark: number;
  sched: string;
  flags: number;
  timeout: number;
  /** IPv4: the mask as a 32-bit number; IPv6: prefix length. */
  netmask: number;
  pe: string;
}

export interface DestState {
  af: number;
  addr: Buffer;
  port: number;
  fwd: number;
  weight: number;
  uthresh: number;
  lthresh: number;
  tunType: number;
  tunPort: number;
  tunFlags: number;
}

export interface DaemonState {
  state: 'master' | 'backup' | null;
  ifname: string;
  syncid: number;
  maxlen: number;
  group: string | null;
  port: number;
  ttl: number;
}

export interface CommandEntry {
  cmd: Cmd;
  /** Bit set of Opt. */
  options: bigint;
  format: number;
  json: boolean;
  svc: SvcState;
  dest: DestState;
  timeouts: { tcp: number; tcpFin: number; udp: number };
  daemon: DaemonState;
  /** -h / -v: text to print on stdout. */
  help?: 'usage' | 'version';
}

export const has = (e: CommandEntry, o: Opt): boolean => (e.options & (1n << BigInt(o))) !== 0n;

function setOption(e: CommandEntry, o: Opt): void {
  const bit = 1n << BigInt(o);
  if (e.options & bit) fail(2, `multiple '${OPT_NAMES[o]}' options specified`);
  e.options |= bit;
}

/** strtol-based string_to_number: the value in [min, max], or -1. */
export function stringToNumber(s: string, min: number, max: number): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)$/.exec(s);
  if (!m) return -1;
  const n = Number(m[2]) * (m[1] === '-' ? -1 : 1);
  if (!Number.isFinite(n) || Math.abs(n) > Number.MAX_SAFE_INTEGER * 1024) return -1;
  return n >= min && n <= max ? n : -1;
}

function parseTimeout(buf: string | null, min: number, max: number): number {
  if (buf === null) return 360;
  const i = stringToNumber(buf, min, max);
  if (i === -1) fail(2, `invalid timeout value \`${buf}' specified`);
  return i;
}

function parseFwmark(buf: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)$/.exec(buf);
  const l = m ? Number(m[2]) * (m[1] === '-' ? -1 : 1) : NaN;
  if (!m || !(l > 0) || l > 0xffffffff) fail(2, `invalid fwmark value \`${buf}' specified`);
  return l;
}

const protoName = (p: number): ProtoName | null =>
  p === IPPROTO_TCP ? 'tcp' : p === IPPROTO_UDP ? 'udp' : p === IPPROTO_SCTP ? 'sctp' : null;

const SERVICE_ADDR = 1;
const SERVICE_PORT = 2;

/** parse_service: fills af/addr/port (and netmask 128 for IPv6); SERVICE_ADDR|SERVICE_PORT bits. */
async function parseService(
  text: string,
  svc: { af: number; addr: Buffer; port: number; netmask: number; protocol: number },
): Promise<number> {
  let buf = text;
  if (buf === '' || /^\d*$/.test(buf)) return 0;
  let portp: string | null = null;
  if (buf[0] === '[') {
    buf = buf.slice(1);
    const close = buf.indexOf(']');
    if (close < 0) return 0;
    const after = buf.slice(close + 1);
    buf = buf.slice(0, close);
    if (after[0] !== ':') return 0;
    portp = after.slice(1);
  }
  const v6 = inetPton6(buf);
  if (v6 !== null) {
    svc.addr = v6;
    svc.af = AF_INET6;
    svc.netmask = 128;
  } else {
    const colon = buf.lastIndexOf(':');
    if (colon >= 0) {
      portp = buf.slice(colon + 1);
      buf = buf.slice(0, colon);
    } else portp = null;
    let v4 = inetAton(buf);
    if (v4 === null) v4 = await hostToAddr(buf);
    if (v4 === null) return 0;
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v4, 0);
    svc.addr = b;
    svc.af = AF_INET;
  }
  let result = SERVICE_ADDR;
  if (portp !== null) {
    result |= SERVICE_PORT;
    let portn = stringToNumber(portp, 0, 65535);
    if (portn === -1) portn = serviceToPort(portp, protoName(svc.protocol));
    if (portn === -1) return 0;
    svc.port = portn;
  }
  return result;
}

async function parseNetmask(buf: string): Promise<number | null> {
  const v = inetAton(buf);
  if (v !== null) return v;
  return hostToAddr(buf);
}

function parseSchedFlags(sched: string, arg: string): number {
  const s = sched !== '' ? sched : 'wlc';
  let flags = 0;
  const list = arg.split(',').filter((f) => f !== '');
  if (list.length === 0) fail(2, `invalid scheduler flag \`${arg}'`);
  for (const flag of list) {
    switch (flag) {
      case 'flag-1':
        flags |= SVC_F_SCHED1;
        break;
      case 'flag-2':
        flags |= SVC_F_SCHED2;
        break;
      case 'flag-3':
        flags |= SVC_F_SCHED3;
        break;
      case 'sh-fallback':
        flags |= SVC_F_SCHED1;
        if (s !== 'sh') fail(2, `incompatible scheduler flag \`${flag}'`);
        break;
      case 'sh-port':
        flags |= SVC_F_SCHED2;
        if (s !== 'sh') fail(2, `incompatible scheduler flag \`${flag}'`);
        break;
      case 'mh-fallback':
        flags |= SVC_F_SCHED1;
        if (s !== 'mh') fail(2, `incompatible scheduler flag \`${flag}'`);
        break;
      case 'mh-port':
        flags |= SVC_F_SCHED2;
        if (s !== 'mh') fail(2, `incompatible scheduler flag \`${flag}'`);
        break;
      default:
        fail(2, `invalid scheduler flag \`${flag}'`);
    }
  }
  return flags;
}

function isMulticast6(b: Buffer): boolean {
  return b[0] === 0xff;
}

export function newEntry(): CommandEntry {
  return {
    cmd: Cmd.NONE,
    options: 0n,
    format: 0,
    json: false,
    svc: {
      af: 0,
      protocol: 0,
      addr: Buffer.alloc(4),
      port: 0,
      fwmark: 0,
      sched: '',
      flags: 0,
      timeout: 0,
      netmask: 0xffffffff,
      pe: '',
    },
    dest: {
      af: 0,
      addr: Buffer.alloc(4),
      port: 0,
      fwd: FWD_DROUTE,
      weight: 1,
      uthresh: 0,
      lthresh: 0,
      tunType: 0,
      tunPort: 0,
      tunFlags: 0,
    },
    timeouts: { tcp: 0, tcpFin: 0, udp: 0 },
    daemon: { state: null, ifname: '', syncid: 0, maxlen: 0, group: null, port: 0, ttl: 0 },
  };
}

const COMMAND_TAGS: Record<string, Cmd> = {
  A: Cmd.ADD,
  E: Cmd.EDIT,
  D: Cmd.DEL,
  a: Cmd.ADDDEST,
  e: Cmd.EDITDEST,
  d: Cmd.DELDEST,
  C: Cmd.FLUSH,
  L: Cmd.LIST,
  l: Cmd.LIST,
  Z: Cmd.ZERO,
  [T.SET]: Cmd.TIMEOUT,
  R: Cmd.RESTORE,
  S: Cmd.SAVE,
  [T.START_DAEMON]: Cmd.STARTDAEMON,
  [T.STOP_DAEMON]: Cmd.STOPDAEMON,
};

/** parse_options + the checks of process_options. `argv` excludes the program name. */
export async function parseCommand(prog: string, argv: readonly string[]): Promise<CommandEntry> {
  const e = newEntry();
  const popt = new Popt(argv, OPTION_TABLE);
  const first = popt.nextOpt();
  if (first.kind !== 'option') return tryhelp(prog);
  const cmd = COMMAND_TAGS[first.tag];
  if (first.tag === 'h') return { ...e, help: 'usage' };
  if (first.tag === 'v') return { ...e, help: 'version' };
  if (cmd === undefined) return tryhelp(prog);
  e.cmd = cmd;
  if (cmd === Cmd.STARTDAEMON || cmd === Cmd.STOPDAEMON) {
    const a = first.arg ?? '';
    if (a === 'master') e.daemon.state = 'master';
    else if (a === 'backup') e.daemon.state = 'backup';
    else
      fail(
        2,
        cmd === Cmd.STARTDAEMON
          ? 'illegal start-daemon parameter specified'
          : 'illegal start_daemon specified',
      );
  }
  let schedFlagsArg: string | null = null;
  for (;;) {
    const step = popt.nextOpt();
    if (step.kind === 'end') break;
    if (step.kind === 'error') {
      throw new IpvsadmExit(255, `${step.badOption}: ${step.error}\n`);
    }
    const arg = step.arg ?? '';
    switch (step.tag) {
      case 't':
      case 'u':
      case T.SCTP: {
        setOption(e, Opt.SERVICE);
        e.svc.protocol = step.tag === 't' ? IPPROTO_TCP : step.tag === 'u' ? IPPROTO_UDP : IPPROTO_SCTP;
        const parse = await parseService(arg, e.svc);
        if (!(parse & SERVICE_ADDR)) fail(2, 'illegal virtual server address[:port] specified');
        break;
      }
      case 'f':
        setOption(e, Opt.SERVICE);
        e.svc.af = AF_INET;
        e.svc.protocol = IPPROTO_TCP;
        e.svc.fwmark = parseFwmark(arg);
        break;
      case 's':
        setOption(e, Opt.SCHEDULER);
        e.svc.sched = arg.slice(0, 15);
        break;
      case 'p':
        setOption(e, Opt.PERSISTENT);
        e.svc.flags |= SVC_F_PERSISTENT;
        e.svc.timeout = parseTimeout(step.arg, 1, MAX_TIMEOUT);
        break;
      case 'M':
        setOption(e, Opt.NETMASK);
        if (e.svc.af !== AF_INET6) {
          const m = await parseNetmask(arg);
          if (m === null) fail(2, 'illegal virtual server persistent mask specified');
          e.svc.netmask = m as number;
        } else {
          const n = parseInt(arg, 10);
          e.svc.netmask = Number.isNaN(n) ? 0 : n;
          if (e.svc.netmask < 1 || e.svc.netmask > 128) fail(2, 'illegal ipv6 netmask specified');
        }
        break;
      case 'r': {
        setOption(e, Opt.SERVER);
        const t = {
          af: e.svc.af,
          addr: e.svc.addr,
          port: e.svc.port,
          netmask: e.svc.netmask,
          protocol: e.svc.protocol,
        };
        const parse = await parseService(arg, t);
        e.dest.af = t.af;
        e.dest.addr = t.addr;
        e.dest.port = t.port;
        if (!(parse & SERVICE_ADDR)) fail(2, 'illegal real server address[:port] specified');
        if (parse === SERVICE_ADDR) e.dest.port = e.svc.port;
        break;
      }
      case 'i':
        setOption(e, Opt.FORWARD);
        e.dest.fwd = FWD_TUNNEL;
        break;
      case 'g':
        setOption(e, Opt.FORWARD);
        e.dest.fwd = FWD_DROUTE;
        break;
      case 'm':
        setOption(e, Opt.FORWARD);
        e.dest.fwd = FWD_MASQ;
        break;
      case 'w': {
        setOption(e, Opt.WEIGHT);
        const w = stringToNumber(arg, 0, INT_MAX);
        if (w === -1) fail(2, 'illegal weight specified');
        e.dest.weight = w;
        break;
      }
      case 'x': {
        setOption(e, Opt.UTHRESHOLD);
        const v = stringToNumber(arg, 0, INT_MAX);
        if (v === -1) fail(2, 'illegal u_threshold specified');
        e.dest.uthresh = v;
        break;
      }
      case 'y': {
        setOption(e, Opt.LTHRESHOLD);
        const v = stringToNumber(arg, 0, INT_MAX);
        if (v === -1) fail(2, 'illegal l_threshold specified');
        e.dest.lthresh = v;
        break;
      }
      case 'c':
        setOption(e, Opt.CONNECTION);
        break;
      case 'n':
        setOption(e, Opt.NUMERIC);
        e.format |= FMT.NUMERIC;
        break;
      case T.MCAST_INTERFACE:
        setOption(e, Opt.MCAST);
        e.daemon.ifname = arg.slice(0, 15);
        break;
      case T.SYNCID: {
        setOption(e, Opt.SYNCID);
        const v = stringToNumber(arg, 0, 255);
        if (v === -1) fail(2, 'illegal syncid specified');
        e.daemon.syncid = v;
        break;
      }
      case T.TIMEOUT:
        setOption(e, Opt.TIMEOUT);
        break;
      case T.DAEMON:
        setOption(e, Opt.DAEMON);
        break;
      case T.STATS:
        setOption(e, Opt.STATS);
        e.format |= FMT.STATS;
        break;
      case T.RATE:
        setOption(e, Opt.RATE);
        e.format |= FMT.RATE;
        break;
      case T.THRESHOLDS:
        setOption(e, Opt.THRESHOLDS);
        e.format |= FMT.THRESHOLDS;
        break;
      case T.PERSISTENTCONN:
        setOption(e, Opt.PERSISTENTCONN);
        e.format |= FMT.PERSISTENTCONN;
        break;
      case T.NOSORT:
        setOption(e, Opt.NOSORT);
        e.format |= FMT.NOSORT;
        break;
      case T.SORT:
        break;
      case 'X':
        setOption(e, Opt.EXACT);
        e.format |= FMT.EXACT;
        break;
      case '6':
        if (e.svc.fwmark) {
          e.svc.af = AF_INET6;
          e.svc.netmask = 128;
        } else fail(2, '-6 used before -f\n');
        break;
      case 'o':
        setOption(e, Opt.ONEPACKET);
        e.svc.flags |= SVC_F_ONEPACKET;
        break;
      case T.PE:
        setOption(e, Opt.PE);
        e.svc.pe = arg.slice(0, 31);
        break;
      case 'b':
        setOption(e, Opt.SCHED_FLAGS);
        schedFlagsArg = arg;
        break;
      case T.MCAST_GROUP: {
        setOption(e, Opt.MCAST_GROUP);
        if (arg.includes(':')) {
          const b = inetPton6(arg);
          if (b === null || !isMulticast6(b)) fail(2, `invalid IPv6 mcast-group \`${arg}'`);
          e.daemon.group = inetNtop6(b as Buffer);
        } else {
          const v = inetPton4(arg);
          if (v === null || v >>> 28 !== 0xe) fail(2, `invalid IPv4 mcast-group \`${arg}'`);
          e.daemon.group = formatIpv4(v as number);
        }
        break;
      }
      case T.MCAST_PORT: {
        setOption(e, Opt.MCAST_PORT);
        const v = stringToNumber(arg, 1, 65535);
        if (v === -1) fail(2, 'illegal mcast-port specified');
        e.daemon.port = v;
        break;
      }
      case T.MCAST_TTL: {
        setOption(e, Opt.MCAST_TTL);
        const v = stringToNumber(arg, 1, 255);
        if (v === -1) fail(2, 'illegal mcast-ttl specified');
        e.daemon.ttl = v;
        break;
      }
      case T.SYNC_MAXLEN: {
        setOption(e, Opt.SYNC_MAXLEN);
        const v = stringToNumber(arg, 1, 65535 - 20 - 8);
        if (v === -1) fail(2, 'illegal sync-maxlen specified');
        e.daemon.maxlen = v;
        break;
      }
      case T.TUN_INFO:
        setOption(e, Opt.TUN_INFO);
        e.format |= FMT.TUN_INFO;
        break;
      case T.TUN_TYPE: {
        setOption(e, Opt.TUN_TYPE);
        const t = TUN_NAMES.indexOf(arg);
        if (t < 0) fail(2, 'illegal tunnel type specified');
        e.dest.tunType = t;
        break;
      }
      case T.TUN_PORT: {
        setOption(e, Opt.TUN_PORT);
        const v = stringToNumber(arg, 1, 65535);
        if (v === -1) fail(2, 'illegal tunnel port specified');
        e.dest.tunPort = v;
        break;
      }
      case T.TUN_NOCSUM:
        setOption(e, Opt.TUN_NOCSUM);
        break;
      case T.TUN_CSUM:
        setOption(e, Opt.TUN_CSUM);
        e.dest.tunFlags |= 1;
        break;
      case T.TUN_REMCSUM:
        setOption(e, Opt.TUN_REMCSUM);
        e.dest.tunFlags |= 2;
        break;
      case T.JSON:
        e.json = true;
        break;
      default:
        fail(2, `invalid option \`${step.word}'`);
    }
  }
  const args = popt.args();
  if (e.cmd === Cmd.TIMEOUT) {
    if (args.length < 3) fail(2, '--set option requires 3 timeout values');
    e.timeouts.tcp = parseTimeout(args[0], 0, MAX_TIMEOUT);
    e.timeouts.tcpFin = parseTimeout(args[1], 0, MAX_TIMEOUT);
    e.timeouts.udp = parseTimeout(args[2], 0, MAX_TIMEOUT);
    args.splice(0, 3);
  }
  if (args.length > 0) fail(2, `unexpected argument ${args[0]}`);
  if (schedFlagsArg !== null) e.svc.flags |= parseSchedFlags(e.svc.sched, schedFlagsArg);
  checkEntry(e);
  return e;
}

/** generic_opt_check and the per-command checks and defaults of process_options. */
function checkEntry(e: CommandEntry): void {
  const row = COMMANDS_V_OPTIONS[e.cmd - 1];
  const cmdName = CMD_NAMES[e.cmd - 1];
  let last = -1;
  for (let j = 0; j < OPT_NAMES.length; j++) {
    const set = (e.options & (1n << BigInt(j))) !== 0n;
    const rule = row[j];
    if (!set) {
      if (rule === '+')
        fail(2, `You need to supply the '${OPT_NAMES[j]}' option for the '${cmdName}' command`);
    } else {
      if (rule === 'x') fail(2, `Illegal '${OPT_NAMES[j]}' option with the '${cmdName}' command`);
      if (rule === '1') {
        if (last < 0) {
          last = j;
          continue;
        }
        fail(
          2,
          `The option '${OPT_NAMES[j]}' conflicts with the '${OPT_NAMES[last]}' option in the '${cmdName}' command`,
        );
      }
    }
  }
  if (e.cmd === Cmd.ADD || e.cmd === Cmd.EDIT) {
    if (!e.svc.fwmark && !e.svc.port && !(e.svc.flags & SVC_F_PERSISTENT))
      fail(2, 'Zero port specified for non-persistent service');
    if (e.svc.flags & SVC_F_ONEPACKET && !e.svc.fwmark && e.svc.protocol !== IPPROTO_UDP) {
      fail(2, 'One-Packet Scheduling is only for UDP virtual services');
    }
    if (e.svc.sched === '') e.svc.sched = 'wlc';
  }
  if (e.cmd === Cmd.STARTDAEMON && e.daemon.ifname === '') e.daemon.ifname = 'eth0';
  if (e.cmd === Cmd.ADDDEST || e.cmd === Cmd.EDITDEST) {
    const fwd = e.dest.fwd;
    if (!e.svc.fwmark && (fwd === FWD_TUNNEL || fwd === FWD_DROUTE)) e.dest.port = e.svc.port;
    if (e.dest.af !== e.svc.af && fwd !== FWD_TUNNEL)
      fail(2, 'Different address family is allowed only for tunneling servers');
    const tunOpts = [Opt.TUN_TYPE, Opt.TUN_PORT, Opt.TUN_NOCSUM, Opt.TUN_CSUM, Opt.TUN_REMCSUM];
    if (tunOpts.some((o) => has(e, o)) && fwd !== FWD_TUNNEL)
      fail(2, 'Tunnel options conflict with forward method');
    const trow = TUNNEL_TYPES_V_OPTIONS[e.dest.tunType];
    let tlast = -1;
    for (let j = 0; j < TUN_OPTS.length; j++) {
      const k = TUN_OPTS[j];
      const tname = TUN_NAMES[e.dest.tunType];
      if (!has(e, k)) {
        if (trow[j] === '+')
          fail(2, `You need to supply the '${OPT_NAMES[k]}' option for the '${tname}' tunnel type`);
      } else {
        if (trow[j] === 'x') fail(2, `Illegal '${OPT_NAMES[k]}' option with the '${tname}' tunnel type`);
        if (trow[j] === '1') {
          if (tlast < 0) {
            tlast = k;
            continue;
          }
          fail(
            2,
            `The option '${OPT_NAMES[k]}' conflicts with the '${OPT_NAMES[tlast]}' option in the '${tname}' tunnel type`,
          );
        }
      }
    }
  }
  if (e.cmd === Cmd.LIST) {
    if (
      (has(e, Opt.CONNECTION) || has(e, Opt.TIMEOUT) || has(e, Opt.DAEMON)) &&
      (has(e, Opt.STATS) ||
        has(e, Opt.RATE) ||
        has(e, Opt.THRESHOLDS) ||
        (!has(e, Opt.CONNECTION) && has(e, Opt.PERSISTENTCONN)))
    ) {
      fail(2, 'options conflicts in the list command');
    }
  }
}
