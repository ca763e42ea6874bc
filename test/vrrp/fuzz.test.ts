// 100,000 hostile packets at lbd's VRRP socket: all dropped and counted, no crash, no state change.
import { test, after, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { Topology } from '../support/netns';
import { holds, killAllVrrp, startVrrp } from './support';

let topo: Topology;
before(async () => {
  topo = await Topology.create({
    lans: { lan: {} },
    hosts: {
      lbd: {
        links: [{ lan: 'lan', addrs: ['198.51.100.1/24', '2001:db8::1/64'] }],
        sysctls: { 'net.ipv6.conf.eth0.accept_dad': '0' },
      },
      attacker: { links: [{ lan: 'lan', addrs: ['198.51.100.66/24'] }] },
    },
  });
});
after(async () => {
  await killAllVrrp();
  await topo?.destroy();
});

const COUNT = Number(process.env.LBD_VRRP_FUZZ_COUNT ?? 100_000);
const COUNT6 = Math.ceil(COUNT / 5);

test(`fuzz: ${COUNT} IPv4 + ${COUNT6} IPv6 malformed packets are dropped and counted, state unchanged`, async (t) => {
  const lbd = await startVrrp(topo, 'lbd', {
    instances: [
      {
        name: 'V2',
        interface: 'eth0',
        vrid: 51,
        version: 2,
        priority: 100,
        advertInt: 1,
        auth: { type: 'PASS', pass: 'fuzzpw' },
        vips: ['198.51.100.100/24'],
        state: 'MASTER',
      },
      {
        name: 'V3',
        interface: 'eth0',
        vrid: 52,
        version: 3,
        priority: 100,
        advertInt: 0.1,
        vips: ['198.51.100.101/24'],
        state: 'MASTER',
      },
      {
        name: 'V6',
        interface: 'eth0',
        vrid: 53,
        version: 3,
        priority: 100,
        advertInt: 0.1,
        vips: ['2001:db8::101/64'],
        state: 'MASTER',
      },
    ],
  });
  await lbd.state('V2', 'MASTER', 3000);
  await lbd.state('V3', 'MASTER', 3000);
  await lbd.state('V6', 'MASTER', 3000);
  const before = lbd.mark();
  const fuzz = async (family: 4 | 6, count: number) => {
    const r = await topo.exec(
      'attacker',
      [
        process.execPath,
        path.join(__dirname, 'fuzz-sender.js'),
        'eth0',
        String(count),
        '12345',
        String(family),
      ],
      { timeoutMs: 120_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { sent: count });
  };
  await fuzz(4, COUNT);
  await fuzz(6, COUNT6);
  // Let the receiver drain.
  let st = await lbd.status();
  for (let i = 0; i < 50; i++) {
    await new Promise((res) => setTimeout(res, 100));
    const again = await lbd.status();
    const a = (again.receive as Record<string, Record<string, number>>).eth0.received;
    const b = (st.receive as Record<string, Record<string, number>>).eth0.received;
    st = again;
    if (a === b) break;
  }
  const c = (st.receive as Record<string, Record<string, number>>).eth0;
  t.diagnostic(`receive counters: ${JSON.stringify(c)}`);
  // The kernel itself drops what has a bad IP header; everything that reached lbd was counted as dropped.
  assert.ok(
    c.received >= COUNT * 0.5,
    `only ${c.received} of ${COUNT} reached the socket: ${JSON.stringify(c)}`,
  );
  assert.equal(c.accepted, 0, JSON.stringify(c));
  assert.equal(c.dropped, c.received, JSON.stringify(c));
  for (const reason of [
    'truncated',
    'bad_checksum',
    'bad_ttl',
    'auth_failure',
    'auth_type_mismatch',
    'bad_version',
    'bad_type',
    'unknown_vrid',
    'address_mismatch',
    'interval_mismatch',
    'bad_length',
  ]) {
    assert.ok(c[reason] > 0, `no drop counted as ${reason}: ${JSON.stringify(c)}`);
  }
  // No state change, still alive, still holding the VIPs.
  const changes = lbd.lines.slice(before).filter((l) => l.type === 'transition' || l.type === 'priority');
  assert.deepEqual(changes, []);
  assert.equal(lbd.child.exitCode, null);
  assert.ok(await holds(topo, 'lbd', '198.51.100.100'));
  assert.ok(await holds(topo, 'lbd', '198.51.100.101'));
  assert.ok(await holds(topo, 'lbd', '2001:db8::101'));
  const inst = st.instances as { name: string; state: string; counters: { advertsReceived: number } }[];
  assert.deepEqual(
    inst.map((i) => [i.name, i.state, i.counters.advertsReceived]),
    [
      ['V2', 'MASTER', 0],
      ['V3', 'MASTER', 0],
      ['V6', 'MASTER', 0],
    ],
  );
});
