// The IPVS table lbd wants, derived from the configuration, the health checker's decisions and the
// drains in progress. Pure: the reconciler diffs it against the kernel's table.
import type {
  Config,
  Forwarding,
  RealServer,
  SchedFlag,
  VirtualServer,
  VirtualServerGroupEntry,
} from '../config/model';
import {
  fwmark as toFwmark,
  ip,
  ipv4,
  makeDestination,
  makeService,
  port as toPort,
  type Destination,
  type Forward,
  type Netmask,
  type Service,
  type ServiceKey,
  type VirtualService,
} from '../ipvs';
import { serverId } from '../health/config';

/** What the health checker decided for a real server (present=false: not in the table). */
export interface ServerDecision {
  present: boolean;
  weight: number;
}

export interface HealthView {
  /** The decision for a real server of a virtual server, undefined while the checker has none. */
  server(vs: string, server: string): ServerDecision | undefined;
  /** Whether the virtual server's quorum is lost (its sorry server is then installed). */
  quorumLost(vs: string): boolean;
}

export interface DrainView {
  /** 'draining': weight 0 while connections finish; 'drained': out of the table until undrained. */
  state(vs: string, server: string): 'none' | 'draining' | 'drained';
  /** Real servers no longer in the configuration but still draining (weight 0), per virtual server. */
  leaving(vs: string): readonly Destination[];
}

export const NO_DRAINS: DrainView = { state: () => 'none', leaving: () => [] };

/** The ipvs services a configured virtual server stands for (a group gives several). */
export function serviceKeys(config: Config, vs: VirtualServer): ServiceKey[] {
  const key = vs.key;
  if (key.kind === 'address') {
    return [{ protocol: protocolOf(key.protocol), address: ip(key.address), port: toPort(key.port) }];
  }
  if (key.kind === 'fwmark') return [{ protocol: 'fwmark', family: vs.family, fwmark: toFwmark(key.fwmark) }];
  const group = config.virtual_server_groups.find((g) => g.name === key.group);
  if (!group) throw new Error(`virtual server ${vs.id}: no virtual_server_group '${key.group}'`);
  return group.entries.flatMap((e) => groupEntryKeys(e, key.protocol));
}

function groupEntryKeys(e: VirtualServerGroupEntry, protocol: 'TCP' | 'UDP' | 'SCTP'): ServiceKey[] {
  if (e.kind === 'fwmark')
    return [{ protocol: 'fwmark', family: e.family ?? 'inet', fwmark: toFwmark(e.fwmark) }];
  return addressRange(e.first, e.last).map((address) => ({
    protocol: protocolOf(protocol),
    address: ip(address),
    port: toPort(e.port ?? 0),
  }));
}

/** Every address from first to last inclusive (they differ only in the last IPv4 octet or IPv6 group). */
export function addressRange(first: string, last: string): string[] {
  if (first === last) return [first];
  if (!first.includes(':')) {
    const base = first.split('.').slice(0, 3).join('.');
    const from = Number(first.split('.')[3]);
    const to = Number(last.split('.')[3]);
    return Array.from({ length: to - from + 1 }, (_, i) => `${base}.${from + i}`);
  }
  const a = ip(first);
  const lastGroup = (s: string) => parseInt(s.slice(s.lastIndexOf(':') + 1) || '0', 16);
  const prefix = a.slice(0, a.lastIndexOf(':') + 1);
  const from = lastGroup(a);
  const to = lastGroup(ip(last));
  return Array.from({ length: to - from + 1 }, (_, i) => `${prefix}${(from + i).toString(16)}`);
}

function protocolOf(p: 'TCP' | 'UDP' | 'SCTP'): 'tcp' | 'udp' | 'sctp' {
  return p.toLowerCase() as 'tcp' | 'udp' | 'sctp';
}

function flagSet(flags: readonly SchedFlag[], ...names: SchedFlag[]): boolean {
  return names.some((n) => flags.includes(n));
}

function netmaskOf(vs: VirtualServer): Netmask | undefined {
  const g = vs.persistence_granularity;
  if (g === undefined) return undefined;
  if (vs.family === 'inet6') return { family: 'inet6', prefix: Number(g) };
  return { family: 'inet', mask: ipv4(g) };
}

/** The ipvs service settings of a configured virtual server, for one of its keys. */
export function serviceOf(vs: VirtualServer, key: ServiceKey): Service {
  return makeService(key, {
    scheduler: vs.lvs_sched,
    flags: {
      persistent: vs.persistence_timeout !== undefined,
      onePacket: vs.ops,
      sched1: flagSet(vs.sched_flags, 'flag-1', 'sh-fallback', 'mh-fallback'),
      sched2: flagSet(vs.sched_flags, 'flag-2', 'sh-port', 'mh-port'),
      sched3: flagSet(vs.sched_flags, 'flag-3'),
    },
    timeout: vs.persistence_timeout === undefined ? 0 : Math.round(vs.persistence_timeout / 1000),
    ...(netmaskOf(vs) ? { netmask: netmaskOf(vs) } : {}),
  });
}

export function forwardOf(f: Forwarding): Forward {
  switch (f.method) {
    case 'NAT':
      return { method: 'masq' };
    case 'DR':
      return { method: 'route' };
    case 'TUN': {
      const t = f.tunnel;
      if (!t || t.type === 'ipip') return { method: 'tunnel', tunnel: { type: 'ipip' } };
      if (t.type === 'gue') {
        return {
          method: 'tunnel',
          tunnel: { type: 'gue', port: toPort(t.port ?? 0), checksum: t.checksum ?? 'nocsum' },
        };
      }
      const checksum = t.checksum === 'csum' ? 'csum' : 'nocsum';
      return { method: 'tunnel', tunnel: { type: 'gre', checksum } };
    }
  }
}

/** The port a real server is reached on: its own, else the service's (0 for a portless fwmark service). */
export function realServerPort(rs: RealServer, key: ServiceKey): number {
  return rs.port ?? (key.protocol === 'fwmark' ? 0 : key.port);
}

/** The real server's id as the health checker names it. */
export function realServerId(rs: RealServer, key: ServiceKey): string {
  return serverId(rs.address, realServerPort(rs, key));
}

function destinationOf(rs: RealServer, key: ServiceKey, weight: number): Destination {
  return makeDestination(ip(rs.address), toPort(realServerPort(rs, key)), {
    forward: forwardOf(rs.forwarding),
    weight,
    upperThreshold: rs.uthreshold,
    lowerThreshold: rs.lthreshold,
  });
}

/** The services lbd wants in the kernel for one configured virtual server (a group gives several). */
export function desiredServices(
  config: Config,
  vs: VirtualServer,
  health: HealthView,
  drains: DrainView = NO_DRAINS,
): VirtualService[] {
  const out: VirtualService[] = [];
  for (const key of serviceKeys(config, vs)) {
    const destinations: Destination[] = [];
    const seen = new Set<string>();
    for (const rs of vs.real_servers) {
      const id = realServerId(rs, key);
      const decision = health.server(vs.id, id) ?? { present: true, weight: rs.weight };
      const drain = drains.state(vs.id, id);
      if (!decision.present || drain === 'drained') continue;
      const weight = drain === 'draining' ? 0 : decision.weight;
      destinations.push(destinationOf(rs, key, weight));
      seen.add(id);
    }
    for (const d of drains.leaving(vs.id)) {
      const id = serverId(d.address, d.port);
      if (!seen.has(id)) destinations.push({ ...d, weight: 0 });
    }
    const sorry = vs.sorry_server;
    if (sorry && health.quorumLost(vs.id)) {
      const port = sorry.port ?? (key.protocol === 'fwmark' ? 0 : key.port);
      const id = serverId(sorry.address, port);
      if (!seen.has(id)) {
        destinations.push(
          makeDestination(ip(sorry.address), toPort(port), { forward: forwardOf(sorry.forwarding) }),
        );
      }
    }
    out.push({ ...serviceOf(vs, key), destinations });
  }
  return out;
}

/** The whole table lbd wants in the kernel. */
export function desiredTable(
  config: Config,
  health: HealthView,
  drains: DrainView = NO_DRAINS,
): VirtualService[] {
  return config.virtual_servers.flatMap((vs) => desiredServices(config, vs, health, drains));
}
