import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { run, Topology } from './netns';

async function namespaces(): Promise<string[]> {
  return (await run('ip', ['netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0]);
}

test('builds hosts on LANs that reach each other, and destroy removes every namespace and process', async () => {
  const topo = await Topology.create({
    lans: { a: {}, b: {} },
    hosts: {
      h1: { links: [{ lan: 'a', addrs: ['198.51.100.1/24', '2001:db8:1::1/64'] }] },
      router: {
        links: [
          { lan: 'a', addrs: ['198.51.100.254/24'] },
          { lan: 'b', addrs: ['203.0.113.254/24'] },
        ],
        forwarding: true,
      },
      h2: { links: [{ lan: 'b', addrs: ['203.0.113.2/24'] }], routes: ['default via 203.0.113.254'] },
    },
  });
  let sleeper: ChildProcess | undefined;
  try {
    await topo.sh('h1', 'ip route add default via 198.51.100.254');
    const ping = await topo.exec('h2', ['ping', '-c1', '-W2', '198.51.100.1']);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    const addrs = await topo.sh('h1', 'ip -o addr show dev eth0');
    assert.match(addrs, /inet 198\.51\.100\.1\/24/);
    assert.match(addrs, /inet6 2001:db8:1::1\/64/);
    assert.equal((await topo.sh('router', 'sysctl -n net.ipv4.ip_forward')).trim(), '1');
    sleeper = topo.spawn('h2', ['sleep', '300']);
    assert.ok((await namespaces()).includes(topo.ns.h2));
  } finally {
    await topo.destroy();
  }
  const left = await namespaces();
  for (const ns of Object.values(topo.ns)) assert.ok(!left.includes(ns), `${ns} still exists`);
  assert.ok(!left.some((n) => n.startsWith(topo.id)));
  // this test's own process (a pattern over all processes would also see other runs' sleeps)
  const gone =
    sleeper.exitCode !== null ||
    sleeper.signalCode !== null ||
    (await Promise.race([
      once(sleeper, 'exit').then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 2000)),
    ]));
  assert.ok(gone, `spawned process ${sleeper.pid} is killed`);
});

test('a failed build leaves nothing behind', async () => {
  const before = await namespaces();
  await assert.rejects(
    Topology.create({ lans: { a: {} }, hosts: { h: { links: [{ lan: 'a', addrs: ['not-an-address'] }] } } }),
    /failed/,
  );
  assert.deepEqual(
    (await namespaces()).filter((n) => !before.includes(n) && n.startsWith('lbdt')),
    [],
  );
});
