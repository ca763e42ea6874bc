// lbctl's --json output of every listing. The schema is documented in src/cli/ipvsadm/README.md;
// 64-bit counters are decimal strings (no precision lost), everything else plain JSON numbers.
import type { Daemon, Timeouts } from '../../ipvs/types';
import type { ConnEntry } from './format';
import type { KernelDestinationEntry, KernelInfo, KernelServiceEntry, Stats } from './kernel';

export const JSON_SCHEMA_VERSION = 1;

function stats(s: Stats): Record<string, string> {
  return {
    conns: s.conns.toString(),
    inPackets: s.inPackets.toString(),
    outPackets: s.outPackets.toString(),
    inBytes: s.inBytes.toString(),
    outBytes: s.outBytes.toString(),
    cps: s.cps.toString(),
    inPps: s.inPps.toString(),
    outPps: s.outPps.toString(),
    inBps: s.inBps.toString(),
    outBps: s.outBps.toString(),
  };
}

function schedFlags(s: KernelServiceEntry): string[] {
  const out: string[] = [];
  const named = s.scheduler === 'sh' || s.scheduler === 'mh';
  if (s.rawFlags & 0x8) out.push(named ? `${s.scheduler}-fallback` : 'flag-1');
  if (s.rawFlags & 0x10) out.push(named ? `${s.scheduler}-port` : 'flag-2');
  if (s.rawFlags & 0x20) out.push('flag-3');
  return out;
}

function destination(d: KernelDestinationEntry): object {
  return {
    address: d.address,
    family: d.family,
    port: d.port,
    forward: d.forward.method,
    tunnel: d.forward.method === 'tunnel' ? d.forward.tunnel : null,
    weight: d.weight,
    upperThreshold: d.upperThreshold,
    lowerThreshold: d.lowerThreshold,
    activeConns: d.activeConns,
    inactiveConns: d.inactiveConns,
    persistentConns: d.persistentConns,
    stats: stats(d.stats),
  };
}

export function service(s: KernelServiceEntry, dests: readonly KernelDestinationEntry[]): object {
  const key =
    s.key.protocol === 'fwmark'
      ? { protocol: 'fwmark', family: s.family, fwmark: s.key.fwmark }
      : { protocol: s.key.protocol, family: s.family, address: s.key.address, port: s.key.port };
  return {
    ...key,
    scheduler: s.scheduler,
    flags: {
      persistent: s.flags.persistent,
      onePacket: s.flags.onePacket,
      hashed: s.hashed,
      scheduler: schedFlags(s),
    },
    timeout: s.timeout,
    netmask: s.netmask.family === 'inet' ? s.netmask.mask : s.netmask.prefix,
    pe: s.pe,
    stats: stats(s.stats),
    destinations: dests.map(destination),
  };
}

export function servicesDoc(
  info: KernelInfo | null,
  svcs: readonly { svc: KernelServiceEntry; dests: readonly KernelDestinationEntry[] }[],
): string {
  return (
    JSON.stringify({
      schema: JSON_SCHEMA_VERSION,
      ...(info !== null ? { version: info.version, connTableSize: info.connTableSize } : {}),
      services: svcs.map((x) => service(x.svc, x.dests)),
    }) + '\n'
  );
}

export function timeoutsDoc(t: Timeouts): string {
  return JSON.stringify({ schema: JSON_SCHEMA_VERSION, timeouts: t }) + '\n';
}

export function daemonsDoc(d: readonly Daemon[]): string {
  return JSON.stringify({ schema: JSON_SCHEMA_VERSION, daemons: d }) + '\n';
}

export function connsDoc(c: readonly ConnEntry[]): string {
  return JSON.stringify({ schema: JSON_SCHEMA_VERSION, connections: c }) + '\n';
}
