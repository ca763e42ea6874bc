// Kernel errors of IPVS operations as typed errors carrying errno, the operation and the object, with a
// message an operator understands.
import { constants } from 'node:os';
import { formatEndpoint, type IpAddress } from './address';
import type { DaemonState, Operation, ServiceKey } from './types';

const E = constants.errno;

/** errno number -> name ('EEXIST'). */
export function errnoName(errno: number): string {
  for (const [name, n] of Object.entries(E)) if (n === errno) return name;
  return `errno ${errno}`;
}

/** "TCP 10.0.0.1:80", "FWM 7", "FWM 7 IPv6", as ipvsadm names services. */
export function describeService(key: ServiceKey): string {
  if (key.protocol === 'fwmark') return `FWM ${key.fwmark}${key.family === 'inet6' ? ' IPv6' : ''}`;
  return `${key.protocol.toUpperCase()} ${formatEndpoint(key.address, key.port)}`;
}

export function describeDestination(service: ServiceKey, address: IpAddress, port: number): string {
  return `real server ${formatEndpoint(address, port)} of virtual service ${describeService(service)}`;
}

/** The object an operation acts on, in words. */
export function describeOperation(op: Operation): string {
  switch (op.op) {
    case 'add-service':
    case 'edit-service':
      return `virtual service ${describeService(op.service.key)}`;
    case 'delete-service':
      return `virtual service ${describeService(op.key)}`;
    case 'add-destination':
    case 'edit-destination':
      return describeDestination(op.service, op.destination.address, op.destination.port);
    case 'delete-destination':
      return describeDestination(op.service, op.address, op.port);
    case 'zero':
      return op.service ? `virtual service ${describeService(op.service)}` : 'all virtual services';
    case 'flush':
      return 'all virtual services';
    case 'set-timeouts':
      return 'connection timeouts';
    case 'start-daemon':
      return `${op.daemon.state} sync daemon on ${op.daemon.interface} (syncid ${op.daemon.syncId})`;
    case 'stop-daemon':
      return `${op.state} sync daemon`;
  }
}

export class IpvsError extends Error {
  override name = 'IpvsError';
  /** errno name, e.g. 'EEXIST'. */
  readonly code: string;
  constructor(
    message: string,
    readonly errno: number,
    /** The operation ('add-service', 'dump-services', ...). */
    readonly operation: string,
    /** The object it acted on, in words. */
    readonly object: string,
    /** The kernel's extended ACK message, when it gave one. */
    readonly kernelMessage?: string,
  ) {
    super(
      kernelMessage && !message.includes(kernelMessage) ? `${message} (kernel: ${kernelMessage})` : message,
    );
    this.code = errnoName(errno);
  }
}

/** The running kernel has no IPVS (no "IPVS" generic netlink family, and the module did not load). */
export class IpvsUnavailableError extends IpvsError {
  override name = 'IpvsUnavailableError';
}

const PERM = 'permission denied: managing IPVS needs root or CAP_NET_ADMIN';

function daemonText(state: DaemonState): string {
  return `${state} sync daemon`;
}

/** The operator's message for a kernel error of an operation. */
export function operationErrorMessage(op: Operation, errno: number): string {
  const what = describeOperation(op);
  if (errno === E.EPERM || errno === E.EACCES) return `${PERM} (${op.op} ${what})`;
  if (errno === E.ENOBUFS)
    return `${op.op} ${what}: outcome unknown, a kernel reply was lost (socket buffer overrun)`;
  switch (op.op) {
    case 'add-service':
    case 'edit-service': {
      const s = op.service;
      if (errno === E.EEXIST) return `${what} already exists`;
      if (errno === E.ESRCH) return `no such ${what}`;
      if (errno === E.ENOENT) {
        const sched = `scheduler '${s.scheduler}' not available: kernel module ip_vs_${s.scheduler} missing`;
        return s.pe
          ? `${sched}, or persistence engine '${s.pe}' not available: kernel module ip_vs_pe_${s.pe} missing`
          : sched;
      }
      if (errno === E.EAFNOSUPPORT) return `${what}: address family not supported by the kernel's IPVS`;
      if (errno === E.EINVAL)
        return `invalid settings for ${what} (scheduler '${s.scheduler}', timeout ${s.timeout}, netmask ${
          s.netmask.family === 'inet' ? s.netmask.mask : s.netmask.prefix
        })`;
      break;
    }
    case 'delete-service':
    case 'zero':
      if (errno === E.ESRCH) return `no such ${what}`;
      break;
    case 'add-destination':
    case 'edit-destination':
    case 'delete-destination':
      if (errno === E.ESRCH) return `no such virtual service ${describeService(op.service)}`;
      if (errno === E.EEXIST) return `${what} already exists`;
      if (errno === E.ENOENT) return `no such ${what}`;
      if (errno === E.ERANGE)
        return `invalid ${what}: weight must be >= 0 and the lower threshold not above the upper threshold`;
      if (errno === E.EAFNOSUPPORT || errno === E.EINVAL)
        return `invalid ${what}: the kernel rejected it (mixed address families need the tunnel method; a GUE tunnel needs a port; remcsum needs GUE)`;
      break;
    case 'start-daemon':
      if (errno === E.EEXIST || errno === E.EBUSY) return `${daemonText(op.daemon.state)} already running`;
      if (errno === E.ENODEV) return `cannot start ${what}: no network interface '${op.daemon.interface}'`;
      if (errno === E.EINVAL)
        return `cannot start ${what}: invalid parameters, or mixed address family real servers exist (sync does not support them)`;
      break;
    case 'stop-daemon':
      if (errno === E.ESRCH) return `no ${daemonText(op.state)} is running`;
      break;
    case 'set-timeouts':
      if (errno === E.EINVAL) return `invalid connection timeouts`;
      break;
    case 'flush':
      break;
  }
  return `${op.op} ${what} failed: ${errnoName(errno)}`;
}

export function operationError(op: Operation, errno: number, kernelMessage?: string): IpvsError {
  return new IpvsError(
    operationErrorMessage(op, errno),
    errno,
    op.op,
    describeOperation(op),
    kernelMessage || undefined,
  );
}

/** Errors of reads (dumps and gets) that are not operations. */
export function readError(
  operation: string,
  object: string,
  errno: number,
  kernelMessage?: string,
): IpvsError {
  let msg: string;
  if (errno === E.EPERM || errno === E.EACCES) msg = `${PERM} (${operation} ${object})`;
  else if (errno === E.ESRCH) msg = `no such ${object}`;
  else msg = `${operation} ${object} failed: ${errnoName(errno)}`;
  return new IpvsError(msg, errno, operation, object, kernelMessage || undefined);
}
