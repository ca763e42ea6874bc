// Multi-director scenarios on one bridge: preemption, nopreempt, preempt_delay, tracking, sync groups,
// unicast, three directors, gratuitous ARP seen by a client, leftovers of a crash, notify scripts.
import { test, after, afterEach, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Topology } from '../support/netns';
import { holds, instance, killAllVrrp, startVrrp, until, sleep } from './support';

let topo: Topology;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lbd-vrrp-'));
before(async () => {
  topo = await Topology.create({
    lans: { lan: {}, lan2: {} },
    hosts: {
      a: {
        links: [
          { lan: 'lan', addrs: ['198.51.100.1/24'] },
          { lan: 'lan2', addrs: ['203.0.113.1/24'] },
        ],
      },
      b: {
        links: [
          { lan: 'lan', addrs: ['198.51.100.2/24'] },
          { lan: 'lan2', addrs: ['203.0.113.2/24'] },
        ],
      },
      c: { links: [{ lan: 'lan', addrs: ['198.51.100.3/24'] }] },
      client: { links: [{ lan: 'lan', addrs: ['198.51.100.50/24'] }] },
    },
  });
});
afterEach(() => killAllVrrp());
after(async () => {
  await killAllVrrp();
  await topo?.destroy();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const VIP = '198.51.100.100';

async function stopAll(...ps: { kill(s: NodeJS.Signals): void; exited: Promise<unknown> }[]) {
  for (const p of ps) p.kill('SIGTERM');
  await Promise.all(ps.map((p) => p.exited));
}

test('preempt: the higher priority director takes the VIP back; nopreempt keeps the current master', async () => {
  const b = await startVrrp(topo, 'b', { instances: [instance({ priority: 100 })] });
  await b.state('VI_1', 'MASTER', 5000);
  let mb = b.mark();
  const a = await startVrrp(topo, 'a', { instances: [instance({ priority: 150 })] });
  await a.state('VI_1', 'MASTER', 5000);
  await b.state('VI_1', 'BACKUP', 3000, mb);
  await until(
    async () => (await holds(topo, 'a', VIP)) && !(await holds(topo, 'b', VIP)),
    2000,
    'VIP moved to a',
  );
  mb = b.mark();
  await stopAll(a);
  await b.state('VI_1', 'MASTER', 3000, mb);
  // nopreempt: a comes back with the higher priority and stays backup.
  const a2 = await startVrrp(topo, 'a', { instances: [instance({ priority: 150, nopreempt: true })] });
  await a2.state('VI_1', 'BACKUP', 3000);
  await sleep(1500);
  assert.equal(a2.current('VI_1'), 'BACKUP');
  assert.equal(b.current('VI_1'), 'MASTER');
  assert.equal(await holds(topo, 'a', VIP), false);
  await stopAll(a2, b);
});

test('preempt_delay: the higher priority director waits before taking over', async () => {
  const b = await startVrrp(topo, 'b', { instances: [instance({ priority: 100 })] });
  await b.state('VI_1', 'MASTER', 5000);
  const mb = b.mark();
  const t0 = Date.now();
  const a = await startVrrp(topo, 'a', { instances: [instance({ priority: 150, preemptDelay: 2 })] });
  await a.state('VI_1', 'BACKUP', 3000);
  const m = await a.state('VI_1', 'MASTER', 6000);
  const waited = (m.at as number) - t0;
  assert.ok(waited >= 1900, `took over after ${waited} ms, before preempt_delay`);
  await b.state('VI_1', 'BACKUP', 3000, mb);
  await stopAll(a, b);
});

test('track_interface: a tracked link going down faults the master (weight 0) or lowers its priority', async () => {
  const cfg = (weight: number) => ({
    instances: [instance({ priority: 150, trackInterfaces: [{ name: 'eth1', weight }] })],
  });
  const a = await startVrrp(topo, 'a', cfg(0));
  const b = await startVrrp(topo, 'b', { instances: [instance({ priority: 100 })] });
  await a.state('VI_1', 'MASTER', 5000);
  await b.state('VI_1', 'BACKUP', 5000);
  await topo.sh('a', 'ip link set eth1 down');
  await a.state('VI_1', 'FAULT', 3000);
  await b.state('VI_1', 'MASTER', 3000);
  await until(async () => !(await holds(topo, 'a', VIP)), 2000, 'a released the VIP');
  let ma = a.mark();
  await topo.sh('a', 'ip link set eth1 up');
  await a.state('VI_1', 'BACKUP', 3000, ma);
  await a.state('VI_1', 'MASTER', 3000, ma);
  let mb = b.mark();
  await stopAll(a);
  await b.state('VI_1', 'MASTER', 3000, mb);
  // weight -60: 150 - 60 = 90 < 100, so b preempts.
  mb = b.mark();
  const a2 = await startVrrp(topo, 'a', cfg(-60));
  await a2.state('VI_1', 'MASTER', 5000);
  await b.state('VI_1', 'BACKUP', 3000, mb);
  mb = b.mark();
  ma = a2.mark();
  await topo.sh('a', 'ip link set eth1 down');
  await a2.waitFor((l) => l.type === 'priority' && l.to === 90, 3000, 'priority 90');
  await b.state('VI_1', 'MASTER', 3000, mb);
  await a2.state('VI_1', 'BACKUP', 3000, ma);
  ma = a2.mark();
  await topo.sh('a', 'ip link set eth1 up');
  await a2.state('VI_1', 'MASTER', 3000, ma);
  await stopAll(a2, b);
});

test('track_script with rise and fall: failing hands over, recovering takes back', async () => {
  const flag = path.join(tmp, 'healthy');
  fs.writeFileSync(flag, '');
  const a = await startVrrp(topo, 'a', {
    scripts: [{ name: 'chk', script: `test -e ${flag}`, interval: 0.1, weight: -80, rise: 2, fall: 2 }],
    instances: [instance({ priority: 150, trackScripts: ['chk'] })],
  });
  const b = await startVrrp(topo, 'b', { instances: [instance({ priority: 100 })] });
  await a.state('VI_1', 'MASTER', 5000);
  await b.state('VI_1', 'BACKUP', 5000);
  let [ma, mb] = [a.mark(), b.mark()];
  fs.rmSync(flag);
  await a.waitFor((l) => l.type === 'priority' && l.to === 70, 3000, 'priority 70');
  await b.state('VI_1', 'MASTER', 3000, mb);
  await a.state('VI_1', 'BACKUP', 3000, ma);
  [ma, mb] = [a.mark(), b.mark()];
  fs.writeFileSync(flag, '');
  await a.state('VI_1', 'MASTER', 3000, ma);
  await b.state('VI_1', 'BACKUP', 3000, mb);
  await stopAll(a, b);
});

test('external tracking input (health of the daemon virtual services): fault, then priority weight', async () => {
  const a = await startVrrp(topo, 'a', {
    instances: [
      instance({
        priority: 150,
        trackExternal: [
          { name: 'vs_http', weight: 0 },
          { name: 'vs_dns', weight: -70 },
        ],
      }),
    ],
  });
  const b = await startVrrp(topo, 'b', { instances: [instance({ priority: 100 })] });
  await a.state('VI_1', 'MASTER', 5000);
  await b.state('VI_1', 'BACKUP', 5000);
  let [ma, mb] = [a.mark(), b.mark()];
  a.command('external vs_http down');
  await a.state('VI_1', 'FAULT', 3000, ma);
  await b.state('VI_1', 'MASTER', 3000, mb);
  [ma, mb] = [a.mark(), b.mark()];
  a.command('external vs_http up');
  await a.state('VI_1', 'MASTER', 3000, ma);
  await b.state('VI_1', 'BACKUP', 3000, mb);
  [ma, mb] = [a.mark(), b.mark()];
  a.command('external vs_dns down');
  await a.waitFor((l) => l.type === 'priority' && l.to === 80, 3000, 'priority 80', ma);
  await b.state('VI_1', 'MASTER', 3000, mb);
  await stopAll(a, b);
});

test('reload: unchanged instances keep running, new ones start, changed ones restart, removed ones stop', async () => {
  const vi2 = instance({ name: 'VI_2', vrid: 52, priority: 150, vips: ['198.51.100.102/24'] });
  const a = await startVrrp(topo, 'a', { instances: [instance({ priority: 150 })] });
  const b = await startVrrp(topo, 'b', { instances: [instance({ priority: 100 })] });
  await a.state('VI_1', 'MASTER', 5000);
  await b.state('VI_1', 'BACKUP', 5000);
  let ma = a.mark();
  a.command(`reload ${JSON.stringify({ instances: [instance({ priority: 150 }), vi2] })}`);
  const r1 = await a.waitFor((l) => l.type === 'reloaded', 5000, 'reloaded', ma);
  assert.deepEqual([r1.kept, r1.restarted, r1.added, r1.removed], [['VI_1'], [], ['VI_2'], []]);
  await a.state('VI_2', 'MASTER', 3000, ma);
  await until(() => holds(topo, 'a', '198.51.100.102'), 2000, 'VI_2 VIP on a');
  assert.equal(a.lines.slice(ma).filter((l) => l.type === 'transition' && l.instance === 'VI_1').length, 0);
  assert.ok(await holds(topo, 'a', VIP), 'VI_1 kept its VIP through the reload');
  // VI_1 now with priority 50 (restarts; b takes over), VI_2 removed (stops, releases its VIP).
  ma = a.mark();
  const mb = b.mark();
  a.command(`reload ${JSON.stringify({ instances: [instance({ priority: 50 })] })}`);
  const r2 = await a.waitFor((l) => l.type === 'reloaded', 5000, 'reloaded', ma);
  assert.deepEqual([r2.kept, r2.restarted, r2.added, r2.removed], [[], ['VI_1'], [], ['VI_2']]);
  await b.state('VI_1', 'MASTER', 3000, mb);
  await a.state('VI_1', 'BACKUP', 3000, ma);
  assert.equal(await holds(topo, 'a', '198.51.100.102'), false);
  await stopAll(a, b);
});

test('sync group: a fault on one LAN moves both instances', async () => {
  const log = path.join(tmp, 'group.log');
  const script = path.join(tmp, 'group.sh');
  fs.writeFileSync(script, `#!/bin/sh\necho "$@" >> ${log}\n`, { mode: 0o755 });
  const group = (prio: number, track: boolean) => ({
    instances: [
      instance({ name: 'V1', priority: prio }),
      instance({
        name: 'V2',
        interface: 'eth1',
        vrid: 52,
        priority: prio,
        vips: ['203.0.113.100/24'],
        ...(track ? {} : {}),
      }),
    ],
    syncGroups: [{ name: 'G', instances: ['V1', 'V2'], notify: { notify: `${script} ${prio}` } }],
  });
  const a = await startVrrp(topo, 'a', group(150, true));
  const b = await startVrrp(topo, 'b', group(100, false));
  await Promise.all([a.state('V1', 'MASTER', 5000), a.state('V2', 'MASTER', 5000)]);
  await Promise.all([b.state('V1', 'BACKUP', 5000), b.state('V2', 'BACKUP', 5000)]);
  await topo.sh('a', 'ip link set eth1 down');
  await Promise.all([a.state('V1', 'FAULT', 3000), a.state('V2', 'FAULT', 3000)]);
  await Promise.all([b.state('V1', 'MASTER', 3000), b.state('V2', 'MASTER', 3000)]);
  assert.equal(await holds(topo, 'a', VIP), false, 'V1 left a although eth0 is fine');
  const ma = a.mark();
  await topo.sh('a', 'ip link set eth1 up');
  await Promise.all([a.state('V1', 'MASTER', 5000, ma), a.state('V2', 'MASTER', 5000, ma)]);
  await stopAll(a, b);
  const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
  const ofA = lines.filter((l) => l.startsWith('150 '));
  assert.deepEqual(ofA, [
    '150 GROUP G BACKUP 150',
    '150 GROUP G MASTER 150',
    '150 GROUP G FAULT 150',
    '150 GROUP G BACKUP 150',
    '150 GROUP G MASTER 150',
    '150 GROUP G STOP 150',
  ]);
});

test('unicast peers: election and takeover without multicast', async () => {
  const uc = (src: string, peer: string, prio: number) => ({
    instances: [instance({ priority: prio, unicastSrcIp: src, unicastPeers: [peer] })],
  });
  const a = await startVrrp(topo, 'a', uc('198.51.100.1', '198.51.100.2', 150));
  const b = await startVrrp(topo, 'b', uc('198.51.100.2', '198.51.100.1', 100));
  // c runs the same VRID by multicast and must not hear them: it elects itself.
  await a.state('VI_1', 'MASTER', 5000);
  await b.state('VI_1', 'BACKUP', 5000);
  await sleep(500);
  assert.equal(b.current('VI_1'), 'BACKUP');
  const mb = b.mark();
  const t0 = Date.now();
  a.kill('SIGTERM');
  const m = await b.state('VI_1', 'MASTER', 3000, mb);
  assert.ok((m.at as number) - t0 < 300);
  await a.exited;
  await stopAll(b);
});

test('three directors: highest wins, then the next one on each failure', async () => {
  const a = await startVrrp(topo, 'a', { instances: [instance({ priority: 200 })] });
  const b = await startVrrp(topo, 'b', { instances: [instance({ priority: 150 })] });
  const c = await startVrrp(topo, 'c', { instances: [instance({ priority: 100 })] });
  await a.state('VI_1', 'MASTER', 5000);
  await b.state('VI_1', 'BACKUP', 5000);
  await c.state('VI_1', 'BACKUP', 5000);
  a.kill('SIGKILL');
  await b.state('VI_1', 'MASTER', 3000);
  await sleep(300);
  assert.equal(c.current('VI_1'), 'BACKUP');
  b.kill('SIGTERM');
  await c.state('VI_1', 'MASTER', 3000);
  await b.exited;
  await a.exited;
  await topo.sh('a', `ip addr flush dev eth0 to ${VIP}/32 || true`);
  await stopAll(c);
});

test('client: the VIP MAC changes in its neighbour table on takeover, and it keeps reaching the VIP', async () => {
  const mac = async (h: string) =>
    (JSON.parse(await topo.sh(h, 'ip -j link show eth0')) as { address: string }[])[0].address;
  const [macA, macB] = [await mac('a'), await mac('b')];
  const a = await startVrrp(topo, 'a', { instances: [instance({ priority: 150 })] });
  const b = await startVrrp(topo, 'b', { instances: [instance({ priority: 100 })] });
  await a.state('VI_1', 'MASTER', 5000);
  await until(() => holds(topo, 'a', VIP), 2000, 'VIP on a');
  await topo.sh('client', `ping -c1 -W1 ${VIP}`);
  const neigh = async () => {
    const j = JSON.parse(await topo.sh('client', `ip -j neigh show ${VIP} dev eth0`)) as {
      lladdr?: string;
    }[];
    return j[0]?.lladdr;
  };
  assert.equal(await neigh(), macA);
  a.kill('SIGTERM');
  await b.state('VI_1', 'MASTER', 3000);
  // No traffic from the client: only b's gratuitous ARP can update the entry.
  await until(async () => (await neigh()) === macB, 2000, `client neighbour entry -> ${macB}`);
  await topo.sh('client', `ping -c1 -W1 ${VIP}`);
  await a.exited;
  await stopAll(b);
});

test('leftover VIP of a crashed director is removed at start; notify scripts run in order with keepalived arguments', async () => {
  await topo.sh('a', `ip addr add ${VIP}/24 dev eth0`);
  const log = path.join(tmp, 'notify.log');
  const script = path.join(tmp, 'notify.sh');
  fs.writeFileSync(script, `#!/bin/sh\necho "$@" >> ${log}\n`, { mode: 0o755 });
  const b = await startVrrp(topo, 'b', { instances: [instance({ priority: 200 })] });
  const a = await startVrrp(topo, 'a', {
    instances: [
      instance({ priority: 100, notify: { notify: script, master: `${script} M`, backup: `${script} B` } }),
    ],
  });
  assert.ok(a.lines.some((l) => l.type === 'log' && String(l.msg).includes('leftover')));
  assert.equal(await holds(topo, 'a', VIP), false);
  await a.state('VI_1', 'BACKUP', 3000);
  b.kill('SIGTERM');
  await a.state('VI_1', 'MASTER', 3000);
  await b.exited;
  a.kill('SIGTERM');
  await a.exited;
  const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
  assert.deepEqual(lines, [
    'B',
    'INSTANCE VI_1 BACKUP 100',
    'M',
    'INSTANCE VI_1 MASTER 100',
    'INSTANCE VI_1 STOP 100',
  ]);
});
