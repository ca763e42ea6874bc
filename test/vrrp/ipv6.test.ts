// VRRPv3 over IPv6 between lbd directors (unsolicited NA seen by a client), and an interface that
// disappears and comes back without a restart.
import { test, after, afterEach, before } from 'node:test';
import * as assert from 'node:assert/strict';
import { Topology } from '../support/netns';
import { holds, instance, killAllVrrp, startVrrp, until } from './support';

let topo: Topology;
before(async () => {
  const nodad = { 'net.ipv6.conf.eth0.accept_dad': '0' };
  topo = await Topology.create({
    lans: { lan: {} },
    hosts: {
      a: { links: [{ lan: 'lan', addrs: ['2001:db8::1/64', '198.51.100.1/24'] }], sysctls: nodad },
      b: { links: [{ lan: 'lan', addrs: ['2001:db8::2/64', '198.51.100.2/24'] }], sysctls: nodad },
      client: { links: [{ lan: 'lan', addrs: ['2001:db8::50/64'] }], sysctls: nodad },
    },
  });
});
afterEach(() => killAllVrrp());
after(async () => {
  await killAllVrrp();
  await topo?.destroy();
});

const VIP6 = '2001:db8::100';

test('IPv6 with VRRPv3: election, takeover on SIGTERM and kill -9, neighbour entry follows', async () => {
  const cfg = (priority: number) => ({ instances: [instance({ priority, vips: [`${VIP6}/64`] })] });
  const a = await startVrrp(topo, 'a', cfg(150));
  const b = await startVrrp(topo, 'b', cfg(100));
  await a.state('VI_1', 'MASTER', 5000);
  await b.state('VI_1', 'BACKUP', 5000);
  await until(() => holds(topo, 'a', VIP6), 2000, 'VIP6 on a');
  assert.equal(await holds(topo, 'b', VIP6), false);
  await topo.sh('client', `ping -6 -c1 -W1 ${VIP6}`);
  const mac = async (h: string) =>
    (JSON.parse(await topo.sh(h, 'ip -j link show eth0')) as { address: string }[])[0].address;
  const neigh = async () =>
    (JSON.parse(await topo.sh('client', `ip -j -6 neigh show ${VIP6} dev eth0`)) as { lladdr?: string }[])[0]
      ?.lladdr;
  assert.equal(await neigh(), await mac('a'));
  let mb = b.mark();
  const t0 = Date.now();
  a.kill('SIGTERM');
  const m = await b.state('VI_1', 'MASTER', 3000, mb);
  assert.ok((m.at as number) - t0 < 300, `took ${(m.at as number) - t0} ms`);
  await a.exited;
  const macB = await mac('b');
  await until(async () => (await neigh()) === macB, 2000, 'client neighbour entry -> b (unsolicited NA)');
  await topo.sh('client', `ping -6 -c1 -W1 ${VIP6}`);
  // a back, preempts; then kill -9 of a.
  mb = b.mark();
  const a2 = await startVrrp(topo, 'a', cfg(150));
  await a2.state('VI_1', 'MASTER', 5000);
  await b.state('VI_1', 'BACKUP', 3000, mb);
  mb = b.mark();
  a2.kill('SIGKILL');
  await b.state('VI_1', 'MASTER', 3000, mb);
  await until(async () => (await neigh()) === macB, 2000, 'client neighbour entry -> b again');
});

test('an interface that disappears faults the instance; when it comes back the instance recovers', async () => {
  const mk =
    'ip link add vx0 type veth peer name vx1 && ip link set vx1 up && ip link set vx0 up && ip addr add 192.0.2.1/24 dev vx0';
  await topo.sh('a', mk);
  const a = await startVrrp(topo, 'a', {
    instances: [instance({ priority: 150, interface: 'vx0', vips: ['192.0.2.100/24'] })],
  });
  await a.state('VI_1', 'MASTER', 5000);
  await until(() => holds(topo, 'a', '192.0.2.100', 'vx0'), 2000, 'VIP on vx0');
  let ma = a.mark();
  await topo.sh('a', 'ip link del vx0');
  await a.state('VI_1', 'FAULT', 3000, ma);
  ma = a.mark();
  await topo.sh('a', mk);
  await a.state('VI_1', 'BACKUP', 3000, ma);
  await a.state('VI_1', 'MASTER', 3000, ma);
  await until(() => holds(topo, 'a', '192.0.2.100', 'vx0'), 2000, 'VIP back on the new vx0');
  assert.equal(a.child.exitCode, null);
  await topo.sh('a', 'ip link del vx0');
});
