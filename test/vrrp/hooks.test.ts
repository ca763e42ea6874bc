// The VRRP service's events for observers (the metrics): master_change when the master heard (or this
// router itself) changes, and vip when a virtual address appears on or vanishes from its interface as
// the kernel lists it, whoever added or removed it. Two directors in namespaces on one bridge.
import { test, after, afterEach, before } from 'node:test';
import * as assert from 'node:assert/strict';
import { Topology } from '../support/netns';
import { holds, instance, killAllVrrp, startVrrp, until, type Line } from './support';

let topo: Topology;
before(async () => {
  topo = await Topology.create({
    lans: { lan: {} },
    hosts: {
      a: { links: [{ lan: 'lan', addrs: ['198.51.100.1/24'] }] },
      b: { links: [{ lan: 'lan', addrs: ['198.51.100.2/24'] }] },
    },
  });
});
afterEach(() => killAllVrrp());
after(async () => {
  await killAllVrrp();
  await topo?.destroy();
});

const VIP = '198.51.100.100';
type Vip = { address: string; dev: string; present: boolean };
const vipsOf = (status: Line) => (status.instances as { name: string; vips: Vip[] }[])[0].vips;

test('master_change and vip events follow the master and the addresses on the interface', async () => {
  const b = await startVrrp(topo, 'b', { instances: [instance({ priority: 100 })] });
  await b.state('VI_1', 'MASTER', 5000);
  const first = await b.waitFor((l) => l.type === 'master_change', 3000, 'master_change');
  assert.deepEqual([first.from, first.to, first.self], [undefined, '198.51.100.2', true]);
  await until(async () => vipsOf(await b.status())[0].present, 3000, 'b reports its VIP present');
  assert.deepEqual(vipsOf(await b.status()), [{ address: VIP, dev: 'eth0', present: true }]);

  // a preempts: b hears the new master and sees its VIP go.
  const mb = b.mark();
  const a = await startVrrp(topo, 'a', { instances: [instance({ priority: 150 })] });
  await a.state('VI_1', 'MASTER', 5000);
  const change = await b.waitFor((l) => l.type === 'master_change', 3000, 'master_change', mb);
  assert.deepEqual([change.from, change.to, change.self], ['198.51.100.2', '198.51.100.1', false]);
  const gone = await b.waitFor((l) => l.type === 'vip', 3000, 'vip event', mb);
  assert.deepEqual([gone.address, gone.present], [VIP, false]);
  assert.equal(await holds(topo, 'b', VIP), false);
  assert.deepEqual(vipsOf(await b.status()), [{ address: VIP, dev: 'eth0', present: false }]);
  await until(async () => vipsOf(await a.status())[0].present, 3000, 'a reports the VIP present');

  // Someone removes the VIP behind the master's back: reported absent though a is still MASTER.
  const ma = a.mark();
  await topo.sh('a', `ip addr del ${VIP}/24 dev eth0`);
  const removed = await a.waitFor((l) => l.type === 'vip', 3000, 'vip event', ma);
  assert.deepEqual(
    [removed.instance, removed.address, removed.dev, removed.present],
    ['VI_1', VIP, 'eth0', false],
  );
  assert.equal(a.current('VI_1'), 'MASTER');
  assert.deepEqual(vipsOf(await a.status()), [{ address: VIP, dev: 'eth0', present: false }]);
  // And put back: present again.
  await topo.sh('a', `ip addr add ${VIP}/24 dev eth0`);
  const back = await a.waitFor((l) => l.type === 'vip' && l.present === true, 3000, 'vip back', ma);
  assert.equal(back.address, VIP);
  assert.ok(!a.lines.slice(ma).some((l) => l.type === 'master_change'), 'no master change on a');
});
