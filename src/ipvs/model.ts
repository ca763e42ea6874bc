// Building, identifying and comparing IPVS objects.
import { familyOf, type Family, type IpAddress, type Port } from './address';
import { defaultNetmask } from './codec';
import type { Destination, Forward, Netmask, Service, ServiceFlags, ServiceKey, Tunnel } from './types';

export const NO_FLAGS: ServiceFlags = Object.freeze({
  persistent: false,
  onePacket: false,
  sched1: false,
  sched2: false,
  sched3: false,
});

export function keyFamily(key: ServiceKey): Family {
  return key.protocol === 'fwmark' ? key.family : familyOf(key.address);
}

/** A service with ipvsadm's defaults for everything not given (scheduler wlc, no persistence). */
export function makeService(key: ServiceKey, settings: Partial<Omit<Service, 'key'>> = {}): Service {
  return {
    key,
    scheduler: settings.scheduler ?? 'wlc',
    flags: { ...NO_FLAGS, ...settings.flags },
    timeout: settings.timeout ?? 0,
    netmask: settings.netmask ?? defaultNetmask(keyFamily(key)),
    pe: settings.pe ?? null,
  };
}

/** A real server with ipvsadm's defaults (direct routing, weight 1, no thresholds). */
export function makeDestination(
  address: IpAddress,
  port: Port,
  settings: Partial<Omit<Destination, 'address' | 'port'>> = {},
): Destination {
  return {
    address,
    port,
    forward: settings.forward ?? { method: 'route' },
    weight: settings.weight ?? 1,
    upperThreshold: settings.upperThreshold ?? 0,
    lowerThreshold: settings.lowerThreshold ?? 0,
  };
}

/** A string that identifies a service key ('tcp|10.0.0.1|80', 'fwmark|inet6|7'). */
export function serviceId(key: ServiceKey): string {
  return key.protocol === 'fwmark'
    ? `fwmark|${key.family}|${key.fwmark}`
    : `${key.protocol}|${key.address}|${key.port}`;
}

/** A string that identifies a real server within its service. */
export function destinationId(d: { address: IpAddress; port: Port }): string {
  return `${d.address}|${d.port}`;
}

function sameNetmask(a: Netmask, b: Netmask): boolean {
  return a.family === 'inet' && b.family === 'inet'
    ? a.mask === b.mask
    : a.family === 'inet6' && b.family === 'inet6' && a.prefix === b.prefix;
}

/** Whether two services have the same settings (key, statistics and the hashed bit not compared). */
export function sameServiceSettings(a: Service, b: Service): boolean {
  return (
    a.scheduler === b.scheduler &&
    a.flags.persistent === b.flags.persistent &&
    a.flags.onePacket === b.flags.onePacket &&
    a.flags.sched1 === b.flags.sched1 &&
    a.flags.sched2 === b.flags.sched2 &&
    a.flags.sched3 === b.flags.sched3 &&
    a.timeout === b.timeout &&
    sameNetmask(a.netmask, b.netmask) &&
    (a.pe ?? null) === (b.pe ?? null)
  );
}

function sameTunnel(a: Tunnel, b: Tunnel): boolean {
  if (a.type === 'ipip' || b.type === 'ipip') return a.type === b.type;
  if (a.type === 'gue' && b.type === 'gue') return a.port === b.port && a.checksum === b.checksum;
  return a.type === 'gre' && b.type === 'gre' && a.checksum === b.checksum;
}

function sameForward(a: Forward, b: Forward): boolean {
  if (a.method === 'tunnel' && b.method === 'tunnel') return sameTunnel(a.tunnel, b.tunnel);
  return a.method === b.method;
}

/** Whether two real servers have the same settings (counters not compared). */
export function sameDestinationSettings(a: Destination, b: Destination): boolean {
  return (
    sameForward(a.forward, b.forward) &&
    a.weight === b.weight &&
    a.upperThreshold === b.upperThreshold &&
    a.lowerThreshold === b.lowerThreshold
  );
}

/** The settable part of a service (drops statistics and the read-only bits of an entry). */
export function serviceSettings(s: Service): Service {
  return {
    key: s.key,
    scheduler: s.scheduler,
    flags: s.flags,
    timeout: s.timeout,
    netmask: s.netmask,
    pe: s.pe,
  };
}

/** The settable part of a real server. */
export function destinationSettings(d: Destination): Destination {
  return {
    address: d.address,
    port: d.port,
    forward: d.forward,
    weight: d.weight,
    upperThreshold: d.upperThreshold,
    lowerThreshold: d.lowerThreshold,
  };
}
