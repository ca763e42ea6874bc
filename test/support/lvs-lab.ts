// The classic LVS labs for tests, one per forwarding method: a client, a director holding the VIP and
// three real servers answering HTTP with their names (busybox httpd), wired as each method needs:
//   nat: client and director on 'front', real servers on 'back' routed through the director;
//   dr:  one LAN, the VIP on the real servers' lo, arp_ignore/arp_announce so only the director answers ARP;
//   tun: one LAN, the VIP on the real servers' tunl0 (ipip), rp_filter off.
// The caller programs IPVS on the director and destroys the topology.
import { run, Topology, type HostSpec } from './netns';
import { startHttpd } from './servers';

export type LvsMode = 'nat' | 'dr' | 'tun';
export const VIP = '198.51.100.100';
export const REAL_SERVERS = ['rs1', 'rs2', 'rs3'];
const DR_SYSCTLS = { 'net.ipv4.conf.all.arp_ignore': '1', 'net.ipv4.conf.all.arp_announce': '2' };

export interface LvsLab {
  topo: Topology;
  /** Real server name -> its address. */
  addrOf: Record<string, string>;
}

export async function lvsLab(mode: LvsMode): Promise<LvsLab> {
  if (mode === 'tun') await run('modprobe', ['ipip']);
  const addrOf: Record<string, string> = {};
  const lan = mode === 'nat' ? 'front' : 'lan';
  const hosts: Record<string, HostSpec> = {
    client: { links: [{ lan, addrs: ['198.51.100.2/24'] }] },
    director: { links: [{ lan, addrs: ['198.51.100.1/24', `${VIP}/32`] }] },
  };
  if (mode === 'nat') {
    hosts.director.links.push({ lan: 'back', addrs: ['203.0.113.1/24'] });
    hosts.director.forwarding = true;
  }
  if (mode === 'tun') hosts.director.sysctls = { 'net.ipv4.conf.all.accept_local': '1' };
  REAL_SERVERS.forEach((rs, i) => {
    if (mode === 'nat') {
      addrOf[rs] = `203.0.113.${11 + i}`;
      hosts[rs] = {
        links: [{ lan: 'back', addrs: [`${addrOf[rs]}/24`] }],
        routes: ['default via 203.0.113.1'],
      };
    } else {
      addrOf[rs] = `198.51.100.${11 + i}`;
      hosts[rs] =
        mode === 'dr'
          ? {
              links: [{ lan, addrs: [`${addrOf[rs]}/24`] }],
              sysctls: DR_SYSCTLS,
              ip: [`addr add ${VIP}/32 dev lo`],
            }
          : {
              links: [{ lan, addrs: [`${addrOf[rs]}/24`] }],
              sysctls: {
                ...DR_SYSCTLS,
                'net.ipv4.conf.all.rp_filter': '0',
                'net.ipv4.conf.tunl0.rp_filter': '0',
              },
              ip: [`addr add ${VIP}/32 dev tunl0`, 'link set tunl0 up'],
            };
    }
  });
  const topo = await Topology.create({ lans: mode === 'nat' ? { front: {}, back: {} } : { lan: {} }, hosts });
  try {
    await startHttpd(topo, REAL_SERVERS);
  } catch (err) {
    await topo.destroy();
    throw err;
  }
  return { topo, addrOf };
}
