// lbd and keepalived 2.2.7 in one VRID: v2 (no auth, PASS), v3 over IPv4 and IPv6. Each is master in
// turn, both directions of takeover work, and after convergence never both hold the VIP.
import { test, after, afterEach, before } from 'node:test';
import * as assert from 'node:assert/strict';
import { Topology } from '../support/netns';
import { Keepalived } from './keepalived';
import { addressesOf, killAllVrrp, startVrrp, until, sleep } from './support';

let topo: Topology;
const kas: Keepalived[] = [];
before(async () => {
  const nodad = { 'net.ipv6.conf.eth0.accept_dad': '0' };
  topo = await Topology.create({
    lans: { lan: {} },
    hosts: {
      lbd: { links: [{ lan: 'lan', addrs: ['198.51.100.1/24', '2001:db8::1/64'] }], sysctls: nodad },
      ka: { links: [{ lan: 'lan', addrs: ['198.51.100.2/24', '2001:db8::2/64'] }], sysctls: nodad },
    },
  });
});
afterEach(async () => {
  await killAllVrrp();
  for (const k of kas.splice(0)) {
    await k.stop('SIGKILL').catch(() => undefined);
    k.cleanup();
  }
});
after(() => topo?.destroy());

const cases = [
  { name: 'VRRPv2, no authentication', version: 2 as const, vip: '198.51.100.100', prefix: 24, int: 1 },
  {
    name: 'VRRPv2, PASS authentication',
    version: 2 as const,
    vip: '198.51.100.101',
    prefix: 24,
    int: 1,
    pass: 'secret1',
  },
  { name: 'VRRPv3 over IPv4', version: 3 as const, vip: '198.51.100.102', prefix: 24, int: 0.2 },
  { name: 'VRRPv3 over IPv6', version: 3 as const, vip: '2001:db8::100', prefix: 64, int: 0.2 },
];

for (const c of cases) {
  test(`interop with keepalived: ${c.name}`, async () => {
    const has = async (h: string) => (await addressesOf(topo, h)).includes(c.vip);
    const exclusive = async (owner: string) => {
      const other = owner === 'lbd' ? 'ka' : 'lbd';
      await until(async () => (await has(owner)) && !(await has(other)), 4000, `VIP only on ${owner}`);
      // And it stays so for a few intervals: no flapping, never both.
      for (let i = 0; i < 5; i++) {
        await sleep(c.int * 300);
        assert.equal(await has(owner), true, `${owner} holds ${c.vip}`);
        assert.equal(await has(other), false, `${other} does not hold ${c.vip}`);
      }
    };
    const lbdCfg = (priority: number) => ({
      instances: [
        {
          name: 'VI_1',
          interface: 'eth0',
          vrid: 60,
          version: c.version,
          priority,
          advertInt: c.int,
          vips: [`${c.vip}/${c.prefix}`],
          auth: c.pass ? { type: 'PASS' as const, pass: c.pass } : undefined,
          garp: { masterDelay: 0, masterRepeat: 1 },
        },
      ],
    });
    const ka = new Keepalived(topo, 'ka', [
      {
        vrid: 60,
        priority: 100,
        version: c.version,
        advertInt: c.int,
        vips: [`${c.vip}/${c.prefix}`],
        authPass: c.pass,
      },
    ]);
    kas.push(ka);
    ka.start();
    await ka.waitLog(/Entering MASTER STATE/, 6000 * c.int + 3000);
    await exclusive('ka');
    // lbd with a higher priority preempts keepalived.
    const lbd = await startVrrp(topo, 'lbd', lbdCfg(150));
    await lbd.state('VI_1', 'MASTER', 5000 * c.int + 3000);
    await exclusive('lbd');
    const st = await lbd.status();
    const recv = (st.receive as Record<string, Record<string, number>>).eth0;
    assert.ok(recv.accepted > 0, `lbd accepted keepalived's adverts: ${JSON.stringify(recv)}`);
    assert.equal(recv.bad_checksum, 0);
    assert.equal(recv.auth_failure, 0);
    // lbd stops (priority 0): keepalived takes over at once.
    let since = ka.log.length;
    lbd.kill('SIGTERM');
    await ka.waitLog(/Entering MASTER STATE/, 2000, since);
    await lbd.exited;
    await exclusive('ka');
    // lbd back with a lower priority: stays backup.
    const lbd2 = await startVrrp(topo, 'lbd', lbdCfg(50));
    await lbd2.state('VI_1', 'BACKUP', 3000);
    await exclusive('ka');
    assert.equal(lbd2.current('VI_1'), 'BACKUP');
    // keepalived stops (priority 0): lbd takes over.
    since = lbd2.mark();
    await ka.stop();
    await lbd2.state('VI_1', 'MASTER', 2000, since);
    await exclusive('lbd');
    lbd2.kill('SIGTERM');
    await lbd2.exited;
  });
}
