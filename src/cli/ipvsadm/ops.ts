// From a parsed ipvsadm command to the IPVS model (ServiceKey, Service, Destination, Operation), and
// kernel errors to ipvsadm's messages (libipvs's ipvs_strerror table, then the C library's strerror).
import type { FwMark, IpAddress, Port } from '../../ipvs/address';
import type { Daemon, Destination, Forward, Operation, Service, ServiceKey, Tunnel } from '../../ipvs/types';
import { Cmd, Opt } from './options';
import { AF_INET6, type CommandEntry, FWD_MASQ, FWD_TUNNEL, IPPROTO_SCTP, IPPROTO_UDP, has } from './parse';
import { formatIpv4, inetNtop6 } from './resolve';

function addrText(af: number, b: Buffer): IpAddress {
  return (af === AF_INET6 ? inetNtop6(b) : formatIpv4(b.readUInt32BE(0))) as IpAddress;
}

export function serviceKey(e: CommandEntry): ServiceKey {
  const s = e.svc;
  if (s.fwmark)
    return { protocol: 'fwmark', family: s.af === AF_INET6 ? 'inet6' : 'inet', fwmark: s.fwmark as FwMark };
  const protocol = s.protocol === IPPROTO_UDP ? 'udp' : s.protocol === IPPROTO_SCTP ? 'sctp' : 'tcp';
  return { protocol, address: addrText(s.af, s.addr), port: s.port as Port };
}

export function service(e: CommandEntry): Service {
  const s = e.svc;
  return {
    key: serviceKey(e),
    scheduler: s.sched,
    flags: {
      persistent: (s.flags & 0x1) !== 0,
      onePacket: (s.flags & 0x4) !== 0,
      sched1: (s.flags & 0x8) !== 0,
      sched2: (s.flags & 0x10) !== 0,
      sched3: (s.flags & 0x20) !== 0,
    },
    timeout: s.timeout,
    netmask:
      s.af === AF_INET6
        ? { family: 'inet6', prefix: s.netmask }
        : { family: 'inet', mask: formatIpv4(s.netmask >>> 0) as never },
    pe: s.pe === '' ? null : s.pe,
  };
}

export function destination(e: CommandEntry): Destination {
  const d = e.dest;
  let forward: Forward;
  if (d.fwd === FWD_TUNNEL) {
    const checksum = d.tunFlags & 2 ? 'remcsum' : d.tunFlags & 1 ? 'csum' : 'nocsum';
    let tunnel: Tunnel;
    if (d.tunType === 1) tunnel = { type: 'gue', port: d.tunPort as Port, checksum };
    else if (d.tunType === 2) tunnel = { type: 'gre', checksum: checksum === 'remcsum' ? 'csum' : checksum };
    else tunnel = { type: 'ipip' };
    forward = { method: 'tunnel', tunnel };
  } else forward = { method: d.fwd === FWD_MASQ ? 'masq' : 'route' };
  return {
    address: addrText(d.af, d.addr),
    port: d.port as Port,
    forward,
    weight: d.weight,
    upperThreshold: d.uthresh,
    lowerThreshold: d.lthresh,
  };
}

/** The kernel operation of a mutating command (null for listings and restore). */
export function operationOf(e: CommandEntry): Operation | null {
  switch (e.cmd) {
    case Cmd.ADD:
      return { op: 'add-service', service: service(e) };
    case Cmd.EDIT:
      return { op: 'edit-service', service: service(e) };
    case Cmd.DEL:
      return { op: 'delete-service', key: serviceKey(e) };
    case Cmd.FLUSH:
      return { op: 'flush' };
    case Cmd.ZERO:
      return has(e, Opt.SERVICE) ? { op: 'zero', service: serviceKey(e) } : { op: 'zero' };
    case Cmd.ADDDEST:
      return { op: 'add-destination', service: serviceKey(e), destination: destination(e) };
    case Cmd.EDITDEST:
      return { op: 'edit-destination', service: serviceKey(e), destination: destination(e) };
    case Cmd.DELDEST: {
      const d = destination(e);
      return { op: 'delete-destination', service: serviceKey(e), address: d.address, port: d.port };
    }
    case Cmd.TIMEOUT:
      return { op: 'set-timeouts', timeouts: { ...e.timeouts } };
    case Cmd.STARTDAEMON: {
      const dm = e.daemon;
      const daemon: Daemon = {
        state: dm.state ?? 'master',
        interface: dm.ifname,
        syncId: dm.syncid,
        ...(dm.maxlen ? { maxLength: dm.maxlen } : {}),
        ...(dm.group !== null ? { group: dm.group as IpAddress } : {}),
        ...(dm.port ? { port: dm.port as Port } : {}),
        ...(dm.ttl ? { ttl: dm.ttl } : {}),
      };
      return { op: 'start-daemon', daemon };
    }
    case Cmd.STOPDAEMON:
      return { op: 'stop-daemon', state: e.daemon.state ?? 'master' };
    default:
      return null;
  }
}

const EPERM = 1,
  ENOENT = 2,
  ESRCH = 3,
  ENOMEM = 12,
  EEXIST = 17,
  EINVAL = 22,
  EMSGSIZE = 90,
  ENOPROTOOPT = 92,
  EOPNOTSUPP = 95,
  EAFNOSUPPORT = 97;

const SPECIFIC: Partial<Record<Operation['op'] | 'get-service', Record<number, string>>> = {
  'add-service': {
    [EEXIST]: 'Service already exists',
    [ENOENT]: 'Scheduler or persistence engine not found',
  },
  'edit-service': { [ESRCH]: 'No such service', [ENOENT]: 'Scheduler or persistence engine not found' },
  'delete-service': { [ESRCH]: 'No such service' },
  zero: { [ESRCH]: 'No such service' },
  'add-destination': { [ESRCH]: 'Service not defined', [EEXIST]: 'Destination already exists' },
  'edit-destination': { [ESRCH]: 'Service not defined', [ENOENT]: 'No such destination' },
  'delete-destination': { [ESRCH]: 'Service not defined', [ENOENT]: 'No such destination' },
  'start-daemon': { [EEXIST]: 'Daemon has already run' },
  'stop-daemon': { [ESRCH]: 'No daemon is running' },
  'get-service': { [ESRCH]: 'No such service' },
};

const GENERIC: Record<number, string> = {
  [EPERM]: 'Permission denied (you must be root)',
  [EINVAL]: 'Invalid operation.  Possibly wrong module version, address not unicast, ...',
  [ENOPROTOOPT]: 'Protocol not available',
  [ENOMEM]: 'Memory allocation problem',
  [EOPNOTSUPP]: 'Operation not supported with IPv6',
  [EAFNOSUPPORT]: 'Operation not supported with specified address family',
  [EMSGSIZE]: 'Module is wrong version',
};

/** glibc's strerror texts for the errnos the kernel can answer here. */
const STRERROR: Record<number, string> = {
  1: 'Operation not permitted',
  2: 'No such file or directory',
  3: 'No such process',
  4: 'Interrupted system call',
  5: 'Input/output error',
  6: 'No such device or address',
  7: 'Argument list too long',
  9: 'Bad file descriptor',
  11: 'Resource temporarily unavailable',
  12: 'Cannot allocate memory',
  13: 'Permission denied',
  14: 'Bad address',
  16: 'Device or resource busy',
  17: 'File exists',
  19: 'No such device',
  22: 'Invalid argument',
  28: 'No space left on device',
  34: 'Numerical result out of range',
  38: 'Function not implemented',
  71: 'Protocol error',
  90: 'Message too long',
  92: 'Protocol not available',
  93: 'Protocol not supported',
  95: 'Operation not supported',
  97: 'Address family not supported by protocol',
  105: 'No buffer space available',
  110: 'Connection timed out',
};

export function strerror(errno: number): string {
  return STRERROR[errno] ?? `Unknown error ${errno}`;
}

/** ipvs_strerror. */
export function ipvsStrerror(op: Operation['op'] | 'get-service' | null, errno: number): string {
  return (op !== null ? SPECIFIC[op]?.[errno] : undefined) ?? GENERIC[errno] ?? strerror(errno);
}
