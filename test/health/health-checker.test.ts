import { test, describe } from 'node:test';
import * as assert from 'node:assert/strict';
import { CheckConfig, HealthConfigError, RealServerConfig } from '../../src/health';
import * as fs from 'node:fs';
import { TestServer, checker, httpServer, response, sleep, unansweredPort } from './helpers';

const LATE = 400;
const tcp = (extra: Partial<CheckConfig> = {}): CheckConfig =>
  ({ checker: 'TCP_CHECK', delay_loop: 0.1, retry: 0, ...extra }) as CheckConfig;

describe('health checker', () => {
  test('identical checks of one target are shared between virtual services', async (t) => {
    const srv = await new TestServer().listen();
    t.after(() => srv.close());
    const { hc, rec } = checker();
    t.after(() => hc.close());
    const rs: RealServerConfig = { ip: '127.0.0.1', port: srv.port, checks: [tcp()] };
    hc.setVirtualService({ id: 'a', real_servers: [rs] });
    hc.setVirtualService({ id: 'b', real_servers: [{ ...rs, weight: 3 }] });
    assert.equal(hc.checkCount, 1);
    await sleep(1000);
    // One shared check at 10 per second: at most ~10 attempts (two separate checks would make ~20). A
    // loaded machine may run fewer; the check must have run though.
    const n = rec.attempts(srv.port, true).length;
    assert.ok(n >= 3 && n <= 12, `${n} attempts for 2 services`);
    // A different parameter makes a separate check.
    hc.setVirtualService({ id: 'c', real_servers: [{ ...rs, checks: [tcp({ connect_timeout: 2 })] }] });
    assert.equal(hc.checkCount, 2);
    // Both services see the same transition.
    await srv.close();
    await rec.waitFor('down in a and b', () => rec.transitions().filter((e) => !e.up).length >= 3);
    assert.deepEqual(
      rec
        .transitions()
        .map((e) => e.vs)
        .sort(),
      ['a', 'b', 'c'],
    );
    hc.removeVirtualService('a');
    assert.equal(hc.checkCount, 2, 'b still uses the shared check');
    hc.removeVirtualService('b');
    hc.removeVirtualService('c');
    assert.equal(hc.checkCount, 0);
    assert.equal(hc.scheduler.size, 0);
  });

  test('quorum with hysteresis, sorry server while lost', async (t) => {
    const servers = await Promise.all([1, 2, 3].map(() => new TestServer().listen()));
    t.after(() => Promise.all(servers.map((s) => s.close())));
    const { hc, rec } = checker();
    t.after(() => hc.close());
    hc.setVirtualService({
      id: 'vs',
      quorum: 4,
      hysteresis: 1,
      sorry_server: { ip: '127.0.0.9', port: 8080 },
      real_servers: servers.map((s, i) => ({
        ip: '127.0.0.1',
        port: s.port,
        weight: i + 1,
        checks: [tcp()],
      })),
    });
    assert.deepEqual(
      rec.quorum.map((q) => [q.up, q.sum, q.reason, q.sorryServer]),
      [[true, 6, 'initial', null]],
    );
    const id = (i: number): string => `127.0.0.1:${servers[i].port}`;
    await servers[2].close(); // sum 3: not below 4 - 1
    await rec.transition(id(2), 1);
    await sleep(150);
    assert.equal(rec.quorum.length, 1, JSON.stringify({ q: rec.quorum, s: rec.server }));
    await servers[1].close(); // sum 1: lost
    const down2 = await rec.transition(id(1), 1);
    const lost = rec.quorum[1];
    assert.deepEqual([lost.up, lost.sum, lost.quorum, lost.hysteresis], [false, 1, 4, 1]);
    assert.deepEqual(lost.sorryServer, { ip: '127.0.0.9', port: 8080 });
    assert.match(lost.reason, new RegExp(`${id(1)} down: refused`));
    assert.ok(lost.t - down2.t < 50, 'quorum event with the transition');
    assert.deepEqual(hc.status('vs')?.sorryServer, { ip: '127.0.0.9', port: 8080 });
    await servers[1].listen('127.0.0.1', servers[1].port); // sum 3: not yet 4 + 1
    await rec.transition(id(1), 2);
    await sleep(150);
    assert.equal(rec.quorum.length, 2, JSON.stringify({ q: rec.quorum, s: rec.server }));
    await servers[2].listen('127.0.0.1', servers[2].port); // sum 6: regained
    await rec.transition(id(2), 2);
    const regained = await rec.waitFor('quorum up', () => rec.quorum[2]);
    assert.deepEqual([regained.up, regained.sum, regained.sorryServer], [true, 6, null]);
  });

  test('slow start: a server coming back ramps to its full weight over slow_start', async (t) => {
    const srv = await new TestServer().listen();
    t.after(() => srv.close());
    const { hc, rec } = checker();
    t.after(() => hc.close());
    const id = `127.0.0.1:${srv.port}`;
    hc.setVirtualService({
      id: 'vs',
      real_servers: [
        { ip: '127.0.0.1', port: srv.port, weight: 8, slow_start: 0.8, checks: [tcp({ delay_loop: 0.05 })] },
      ],
    });
    await srv.close();
    await rec.transition(id, 1);
    await srv.listen('127.0.0.1', srv.port);
    const up = await rec.transition(id, 2);
    const ramp = await rec.waitFor('full weight', () => {
      const ws = rec.weight.filter((w) => w.t >= up.t - 1);
      return ws.at(-1)?.weight === 8 ? ws : undefined;
    });
    assert.deepEqual(
      ramp.map((w) => w.weight),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    assert.equal(ramp[0].reason, 'slow start');
    const took = (ramp.at(-1)?.t ?? 0) - up.t;
    assert.ok(took >= 800 - 10 && took <= 800 + LATE, `ramp took ${took} ms`);
    assert.equal(hc.status('vs')?.servers[0].weight, 8);
  });

  test('a real server with several checks is up only when all are', async (t) => {
    let status = 200;
    const srv = await httpServer(() => response(status, 'ok')).listen();
    t.after(() => srv.close());
    const { hc, rec } = checker();
    t.after(() => hc.close());
    const id = `127.0.0.1:${srv.port}`;
    hc.setVirtualService({
      id: 'vs',
      real_servers: [
        {
          ip: '127.0.0.1',
          port: srv.port,
          checks: [tcp(), { checker: 'HTTP_GET', url: [{ path: '/' }], delay_loop: 0.1, retry: 0 }],
        },
      ],
    });
    await sleep(250);
    status = 503;
    const down = await rec.transition(id, 1);
    assert.deepEqual([down.reason, down.check], ['status 503', `HTTP_GET ${id}`]);
    status = 200;
    const up = await rec.transition(id, 2);
    assert.equal(up.up, true);
    const s = hc.status('vs')?.servers[0];
    assert.deepEqual(
      s?.checks.map((c) => [c.check, c.up]),
      [
        [`TCP_CHECK ${id}`, true],
        [`HTTP_GET ${id}`, true],
      ],
    );
  });

  test('updates: weight, settings, checks, added and removed servers, quorum', async (t) => {
    const a = await new TestServer().listen();
    const b = await new TestServer().listen();
    t.after(() => Promise.all([a.close(), b.close()]));
    const { hc, rec } = checker();
    t.after(() => hc.close());
    const rsA: RealServerConfig = { ip: '127.0.0.1', port: a.port, weight: 2, checks: [tcp()] };
    hc.setVirtualService({ id: 'vs', real_servers: [rsA] });
    hc.setVirtualService({ id: 'vs', real_servers: [{ ...rsA, weight: 5 }] });
    assert.deepEqual(
      [rec.weight.at(-1)?.weight, rec.weight.at(-1)?.previousWeight, rec.weight.at(-1)?.reason],
      [5, 2, 'config'],
    );
    assert.equal(rec.server.length, 1, 'no state event for a weight change');
    hc.setVirtualService({
      id: 'vs',
      quorum: 2,
      real_servers: [
        { ...rsA, weight: 5, checks: [tcp({ delay_loop: 0.2 })] },
        { ip: '127.0.0.1', port: b.port, checks: [tcp()] },
      ],
    });
    assert.equal(hc.checkCount, 2);
    assert.deepEqual([rec.quorum.at(-1)?.quorum, rec.quorum.at(-1)?.reason], [2, 'config']);
    assert.equal(rec.weight.at(-1)?.reason, 'added');
    hc.setVirtualService({
      id: 'vs',
      quorum: 2,
      real_servers: [{ ...rsA, weight: 1, checks: [tcp({ delay_loop: 0.2 })] }],
    });
    const removed = rec.weight.find((w) => w.reason === 'removed');
    assert.deepEqual([removed?.server, removed?.present], [`127.0.0.1:${b.port}`, false]);
    const q = rec.quorum.at(-1);
    assert.deepEqual([q?.up, q?.sum], [false, 1]);
    assert.equal(hc.checkCount, 1);
    assert.throws(
      () => hc.setVirtualService({ id: 'vs', real_servers: [{ ...rsA, weight: -1 }] }),
      HealthConfigError,
    );
    assert.throws(() => hc.setVirtualService({ id: 'vs', real_servers: [rsA, rsA] }), /listed twice/);
    assert.equal(hc.status('vs')?.servers[0].weight, 1, 'a rejected update changes nothing');
  });

  test('removing targets while checks hang leaves no socket, timer or child behind', async (t) => {
    const hang = await new TestServer((s) => s.resume()).listen();
    t.after(() => hang.close());
    const { hc, rec } = checker({ random: () => 0 });
    t.after(() => hc.close());
    hc.setVirtualService({
      id: 'vs',
      real_servers: [
        {
          ip: '127.0.0.1',
          port: hang.port,
          checks: [
            { checker: 'HTTP_GET', url: [{ path: '/' }], delay_loop: 1, connect_timeout: 10 },
            { checker: 'MISC_CHECK', misc_path: 'sleep 30', delay_loop: 1 },
          ],
        },
      ],
    });
    await rec.waitFor('hanging checks', () => hang.sockets.size === 1 && hc.scripts.active === 1);
    hc.removeVirtualService('vs');
    await rec.waitFor('all released', () => hang.sockets.size === 0 && hc.scripts.active === 0, 3000);
    assert.equal(hc.scheduler.size, 0);
    assert.equal(hc.checkCount, 0);
    hc.close();
  });

  test('no file descriptor leaks: successes, refusals, timeouts and hangs, then close', async (t) => {
    const ok = await new TestServer().listen();
    const hang = await new TestServer((s) => s.resume()).listen();
    const closed = await new TestServer().listen();
    await closed.close();
    const hole = await unansweredPort();
    t.after(() => Promise.all([ok.close(), hang.close()]).then(() => hole.close()));
    const fds = (): number => fs.readdirSync('/proc/self/fd').length;
    await sleep(50);
    const before = fds();
    const { hc } = checker();
    t.after(() => hc.close());
    // Distinct source addresses make distinct checks (identical ones would be shared).
    let n = 0;
    const many = (port: number, count: number, check: CheckConfig): RealServerConfig[] =>
      Array.from({ length: count }, () => {
        const ip = `127.0.${3 + Math.floor(n / 200)}.${(n++ % 200) + 1}`;
        return { ip, port, checks: [{ ...check, connect_ip: '127.0.0.1', bindto: ip }] };
      });
    hc.setVirtualService({
      id: 'vs',
      real_servers: [
        ...many(ok.port, 40, tcp({ delay_loop: 0.1 })),
        ...many(closed.port, 40, tcp({ delay_loop: 0.1 })),
        ...many(hole.port, 10, tcp({ delay_loop: 0.1, connect_timeout: 0.15 })),
        ...many(hang.port, 10, {
          checker: 'HTTP_GET',
          url: [{ path: '/' }],
          delay_loop: 0.1,
          connect_timeout: 0.15,
        }),
      ],
    });
    assert.equal(hc.checkCount, 100);
    await sleep(1000);
    assert.ok(hc.stats.attempts >= 300, `${hc.stats.attempts} attempts`);
    assert.ok(hc.stats.failures >= 100);
    hc.close();
    let after = fds();
    for (let i = 0; i < 100 && after > before; i++) {
      await sleep(20);
      after = fds();
    }
    assert.equal(after, before, 'every socket is closed');
  });

  test("'attempt' events: every completed attempt with its outcome and duration, before the transition", async (t) => {
    const srv = await new TestServer().listen();
    t.after(() => srv.close());
    const hole = await unansweredPort();
    t.after(() => hole.close());
    const { hc, rec } = checker({ random: () => 0 });
    t.after(() => hc.close());
    const id = `127.0.0.1:${srv.port}`;
    const order: string[] = [];
    hc.on('attempt', (e) => order.push(`attempt ${e.ok}`));
    hc.on('server', (e) => order.push(`server ${e.up}`));
    hc.setVirtualService({
      id: 'vs',
      real_servers: [
        { ip: '127.0.0.1', port: srv.port, checks: [tcp({ retry: 1, delay_before_retry: 0.1 })] },
        { ip: '127.0.0.1', port: hole.port, checks: [tcp({ connect_timeout: 0.3, delay_loop: 5 })] },
      ],
    });
    await rec.waitFor('two good attempts', () => rec.attempt.filter((a) => a.port === srv.port).length >= 2);
    const good = rec.attempt.find((a) => a.port === srv.port);
    assert.deepEqual(
      [good?.check, good?.checker, good?.ip, good?.ok, good?.reason, good?.retrying],
      [`TCP_CHECK ${id}`, 'TCP_CHECK', '127.0.0.1', true, 'connected', false],
    );
    assert.ok(good !== undefined && good.durationMs >= 0 && good.durationMs < 300, `${good?.durationMs} ms`);
    await srv.close();
    await rec.transition(id, 1);
    const bad = rec.attempt.filter((a) => a.port === srv.port && !a.ok);
    assert.deepEqual(
      bad.slice(0, 2).map((a) => [a.reason, a.retrying]),
      [
        ['refused', true],
        ['refused', false],
      ],
    );
    // The failed attempt that takes the server down is reported before the transition.
    assert.deepEqual(order.slice(order.indexOf('server false') - 1, order.indexOf('server false') + 1), [
      'attempt false',
      'server false',
    ]);
    const timeout = await rec.waitFor('the timeout', () => rec.attempt.find((a) => a.port === hole.port));
    assert.deepEqual([timeout.ok, timeout.reason], [false, 'timeout']);
    assert.ok(timeout.durationMs >= 295 && timeout.durationMs <= 300 + LATE, `${timeout.durationMs} ms`);
  });

  test('many targets: first checks are spread over the interval', async (t) => {
    const srv = await new TestServer().listen();
    t.after(() => srv.close());
    const { hc, rec } = checker();
    t.after(() => hc.close());
    const times: number[] = [];
    const t0 = performance.now();
    hc.on('attempt', () => times.push(performance.now() - t0));
    hc.setVirtualService({
      id: 'vs',
      real_servers: Array.from({ length: 100 }, (_, i) => ({
        ip: `127.0.1.${i + 1}`,
        port: srv.port,
        checks: [tcp({ connect_ip: '127.0.0.1', bindto: `127.0.1.${i + 1}`, delay_loop: 0.5 })],
      })),
    });
    await sleep(500);
    const first = await rec.waitFor('100 first checks', () => times.length >= 100 && times.slice(0, 100));
    // Roughly uniform: each fifth of the interval gets some of the first checks.
    const buckets = [0, 0, 0, 0, 0];
    for (const x of first) buckets[Math.min(4, Math.floor(x / 100))]++;
    assert.ok(
      buckets.every((n) => n >= 5 && n <= 45),
      `buckets ${buckets}`,
    );
  });
});
