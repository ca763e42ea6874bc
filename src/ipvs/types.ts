// The IPVS objects as lbd sees them: virtual services, real servers (destinations), statistics, timeouts,
// connection sync daemons, and the operations that change them.
import type { Family, FwMark, IpAddress, Ipv4Address, Port } from './address';

export type Protocol = 'tcp' | 'udp' | 'sctp';

/** A virtual service is identified by protocol, address and port, or by firewall mark and family. */
export type ServiceKey = InetServiceKey | FwmarkServiceKey;
export interface InetServiceKey {
  readonly protocol: Protocol;
  readonly address: IpAddress;
  readonly port: Port;
}
export interface FwmarkServiceKey {
  readonly protocol: 'fwmark';
  readonly family: Family;
  readonly fwmark: FwMark;
}

/** Service flags other than the kernel's own "hashed" bit. The scheduler flags mean, for sh and mh:
 * sched1 = fallback, sched2 = port (ipvsadm's sh-fallback/sh-port, mh-fallback/mh-port). */
export interface ServiceFlags {
  readonly persistent: boolean;
  readonly onePacket: boolean;
  readonly sched1: boolean;
  readonly sched2: boolean;
  readonly sched3: boolean;
}

/** Persistence granularity: an IPv4 netmask for IPv4 services, a prefix length (1-128) for IPv6. */
export type Netmask =
  | { readonly family: 'inet'; readonly mask: Ipv4Address }
  | { readonly family: 'inet6'; readonly prefix: number };

/** Everything that can be set on a virtual service. */
export interface Service {
  readonly key: ServiceKey;
  readonly scheduler: string;
  readonly flags: ServiceFlags;
  /** Persistence timeout, seconds (meaningful with flags.persistent). */
  readonly timeout: number;
  readonly netmask: Netmask;
  /** Persistence engine name ('sip'), or null. */
  readonly pe: string | null;
}

export type TunnelChecksum = 'nocsum' | 'csum' | 'remcsum';
export type Tunnel =
  | { readonly type: 'ipip' }
  | { readonly type: 'gue'; readonly port: Port; readonly checksum: TunnelChecksum }
  | { readonly type: 'gre'; readonly checksum: Exclude<TunnelChecksum, 'remcsum'> };

/** The forwarding method of a real server; only tunnelling has tunnel parameters. */
export type Forward =
  | { readonly method: 'masq' }
  | { readonly method: 'local' }
  | { readonly method: 'route' }
  | { readonly method: 'bypass' }
  | { readonly method: 'tunnel'; readonly tunnel: Tunnel };

/** Everything that can be set on a real server. Identity within its service: address and port. */
export interface Destination {
  readonly address: IpAddress;
  readonly port: Port;
  readonly forward: Forward;
  readonly weight: number;
  /** Connection thresholds: 0 = none. */
  readonly upperThreshold: number;
  readonly lowerThreshold: number;
}

/** Counters (since creation or the last zeroing) and rates (per second, from the kernel's estimator) of
 * a service or real server, as values of type T. */
export interface Counters<T> {
  readonly conns: T;
  readonly inPackets: T;
  readonly outPackets: T;
  readonly inBytes: T;
  readonly outBytes: T;
  readonly cps: T;
  readonly inPps: T;
  readonly outPps: T;
  readonly inBps: T;
  readonly outBps: T;
}

/** The kernel's 64-bit values as numbers: exact up to 2^53 (9 PB of bytes). */
export type Stats = Counters<number>;
/** Counters as the kernel's exact 64-bit values. */
export type ExactStats = Counters<bigint>;

/** A service as read from the kernel. */
export interface ServiceEntry extends Service {
  readonly hashed: boolean;
  readonly stats: Stats;
}

/** A real server as read from the kernel. */
export interface DestinationEntry extends Destination {
  readonly activeConns: number;
  readonly inactiveConns: number;
  readonly persistentConns: number;
  readonly stats: Stats;
}

/** A service with its real servers: the unit of a table (desired or read back). */
export interface VirtualService extends Service {
  readonly destinations: readonly Destination[];
}

export interface VirtualServiceEntry extends ServiceEntry {
  readonly destinations: readonly DestinationEntry[];
}

/** Connection timeouts in seconds (0 in a write leaves that one unchanged). */
export interface Timeouts {
  readonly tcp: number;
  readonly tcpFin: number;
  readonly udp: number;
}

export interface Info {
  /** e.g. '1.2.1' */
  readonly version: string;
  readonly versionCode: number;
  readonly connTableSize: number;
}

export type DaemonState = 'master' | 'backup';
export interface Daemon {
  readonly state: DaemonState;
  readonly interface: string;
  readonly syncId: number;
  /** Optional sync parameters; the kernel chooses defaults when absent. */
  readonly maxLength?: number;
  readonly group?: IpAddress;
  readonly port?: Port;
  readonly ttl?: number;
}

/** One change of the IPVS tables, as produced by diff() and executed by Ipvs.apply(). */
export type Operation =
  | { readonly op: 'add-service'; readonly service: Service }
  | { readonly op: 'edit-service'; readonly service: Service }
  | { readonly op: 'delete-service'; readonly key: ServiceKey }
  | { readonly op: 'add-destination'; readonly service: ServiceKey; readonly destination: Destination }
  | { readonly op: 'edit-destination'; readonly service: ServiceKey; readonly destination: Destination }
  | {
      readonly op: 'delete-destination';
      readonly service: ServiceKey;
      readonly address: IpAddress;
      readonly port: Port;
    }
  | { readonly op: 'zero'; readonly service?: ServiceKey }
  | { readonly op: 'flush' }
  | { readonly op: 'set-timeouts'; readonly timeouts: Timeouts }
  | { readonly op: 'start-daemon'; readonly daemon: Daemon }
  | { readonly op: 'stop-daemon'; readonly state: DaemonState };

export type OperationName = Operation['op'];
