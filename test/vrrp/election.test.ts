import { test, after, before } from 'node:test';
import * as assert from 'node:assert/strict';
import { Topology } from '../support/netns';
import { holds, instance, killAllVrrp, startVrrp, until, VrrpProc, sleep, type Line } from './support';

let topo: Topology;
before(async () => {
  topo = await Topology.create({
    lans: { lan: {} },
    hosts: {
      a: { links: [{ lan: 'lan', addrs: ['198.51.100.1/24'] }] },
      b: { links: [{ lan: 'lan', addrs: ['198.51.100.2/24'] }] },
      client: { links: [{ lan: 'lan', addrs: ['198.51.100.50/24'] }] },
    },
  });
});
after(async () => {
  await killAllVrrp();
  await topo?.destroy();
});

async function pair(pa: object, pb: object): Promise<[VrrpProc, VrrpProc]> {
  const a = await startVrrp(topo, 'a', { instances: [instance({ priority: 150, ...pa })] });
  const b = await startVrrp(topo, 'b', { instances: [instance({ priority: 100, ...pb })] });
  return [a, b];
}

test('election, then SIGTERM (priority 0) hands over at once, and kill -9 within Master_Down_Interval', async () => {
  const [a, b] = await pair({}, {});
  await a.state('VI_1', 'MASTER', 5000);
  await b.state('VI_1', 'BACKUP', 5000);
  await until(() => holds(topo, 'a', '198.51.100.100'), 3000, 'VIP on a');
  assert.equal(await holds(topo, 'b', '198.51.100.100'), false);
  await sleep(500);
  assert.equal(b.current('VI_1'), 'BACKUP', 'b stays backup');
  const mb = b.mark();
  const t0 = Date.now();
  a.kill('SIGTERM');
  const m = await b.state('VI_1', 'MASTER', 3000, mb);
  const took = (m.at as number) - t0;
  // Priority 0: the backup waits Skew_Time only (156/256 x 100 ms = 61 ms), not 3 intervals.
  assert.ok(took < 250, `SIGTERM takeover took ${took} ms`);
  assert.equal(await a.exited, 0);
  assert.equal(await holds(topo, 'a', '198.51.100.100'), false, 'a released the VIP');
  await until(() => holds(topo, 'b', '198.51.100.100'), 2000, 'VIP on b');
  // a comes back with the higher priority and preempts.
  const mb2 = b.mark();
  const a2 = await startVrrp(topo, 'a', { instances: [instance({ priority: 150 })] });
  await a2.state('VI_1', 'MASTER', 5000);
  await b.state('VI_1', 'BACKUP', 5000, mb2);
  await until(async () => !(await holds(topo, 'b', '198.51.100.100')), 2000, 'b releasing the VIP');
  const mb3 = b.mark();
  const t1 = Date.now();
  a2.kill('SIGKILL');
  const m2 = await b.state('VI_1', 'MASTER', 5000, mb3);
  const took2 = (m2.at as number) - t1;
  // Master_Down_Interval = 3 x 100 + 61 ms = 361 ms; allow for a loaded machine.
  assert.ok(took2 >= 200 && took2 < 1500, `kill -9 takeover took ${took2} ms`);
  b.kill('SIGTERM');
  await b.exited;
});

// The VRRP service's events for observers (the metrics): master_change when the master heard (or this
// router itself) changes, and vip when a virtual address appears on or vanishes from its interface as
// the kernel lists it, whoever added or removed it.
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
