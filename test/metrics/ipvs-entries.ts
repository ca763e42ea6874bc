// Test support (not a test): kernel table entries as the IPVS client returns them, for the metrics tests.
import { ip, port, type DestinationEntry, type VirtualServiceEntry } from '../../src/ipvs';

type Stats = VirtualServiceEntry['stats'];

export const ZERO_STATS: Stats = Object.freeze({
  ...{ conns: 0, inPackets: 0, outPackets: 0, inBytes: 0, outBytes: 0 },
  ...{ cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 },
});

/** A real server: address, port, then what differs from an idle one. */
export function destination(
  address: string,
  p: number,
  over: Partial<DestinationEntry> = {},
): DestinationEntry {
  return {
    address: ip(address),
    port: port(p),
    forward: { method: 'route' },
    weight: 1,
    upperThreshold: 0,
    lowerThreshold: 0,
    activeConns: 0,
    inactiveConns: 0,
    persistentConns: 0,
    stats: ZERO_STATS,
    ...over,
  };
}

/** A TCP virtual service on port 80 with its real servers. */
export function tcpService(
  vip: string,
  destinations: DestinationEntry[],
  stats = ZERO_STATS,
): VirtualServiceEntry {
  return {
    key: { protocol: 'tcp', address: ip(vip), port: port(80) },
    scheduler: 'wlc',
    flags: { persistent: false, onePacket: false, sched1: false, sched2: false, sched3: false },
    timeout: 0,
    netmask: { family: 'inet', mask: ip('255.255.255.255') as never },
    pe: null,
    hashed: true,
    stats,
    destinations,
  };
}
