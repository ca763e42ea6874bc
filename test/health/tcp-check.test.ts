import { test, describe } from 'node:test';
import * as assert from 'node:assert/strict';
import { CheckConfig } from '../../src/health';
import { TestServer, checker, sleep, unansweredPort } from './helpers';

/** Timing tolerance for a loaded machine: events may come late, never early. */
const LATE = 400;

describe('TCP_CHECK', () => {
  test('up while the port accepts; refused -> down after retry x delay_before_retry; back up', async (t) => {
    const srv = await new TestServer().listen();
    const { hc, rec } = checker();
    t.after(() => hc.close());
    t.after(() => srv.close());
    const id = `127.0.0.1:${srv.port}`;
    hc.setVirtualService({
      id: 'vs',
      real_servers: [
        {
          ip: '127.0.0.1',
          port: srv.port,
          weight: 7,
          log_all_failures: true,
          checks: [
            { checker: 'TCP_CHECK', delay_loop: 0.1, retry: 2, delay_before_retry: 0.2, connect_timeout: 1 },
          ],
        },
      ],
    });
    assert.equal(rec.server[0].up, true);
    assert.deepEqual([rec.weight[0].weight, rec.weight[0].present, rec.weight[0].reason], [7, true, 'added']);
    await rec.waitFor('a check', () => rec.attempts(srv.port, true).length >= 2);
    assert.equal(rec.transitions(id).length, 0);
    await srv.close();
    const down = await rec.transition(id, 1);
    assert.equal(down.up, false);
    assert.equal(down.reason, 'refused');
    assert.equal(down.check, `TCP_CHECK ${id}`);
    // Two retries 0.2 s apart after the first failure, then down.
    const fails = rec.failure.filter((f) => f.t <= down.t);
    assert.deepEqual(
      fails.map((f) => f.retrying),
      [true, true, false],
    );
    assert.ok(down.t - fails[0].t >= 400 - 20, `down ${down.t - fails[0].t} ms after the first failure`);
    assert.ok(down.t - fails[0].t <= 400 + LATE);
    const w = rec.weight.at(-1);
    assert.deepEqual([w?.weight, w?.present, w?.reason, w?.detail], [0, false, 'down', 'refused']);
    // While down, no retries: each failure counts.
    await rec.waitFor('failures while down', () => rec.failure.filter((f) => f.t > down.t).length >= 2);
    assert.ok(rec.failure.filter((f) => f.t > down.t).every((f) => !f.retrying));
    await srv.listen('127.0.0.1', srv.port);
    const up = await rec.transition(id, 2);
    assert.equal(up.up, true);
    assert.equal(up.reason, 'connected');
    assert.equal(up.previousAt, down.at);
    assert.deepEqual([rec.weight.at(-1)?.weight, rec.weight.at(-1)?.reason], [7, 'up']);
  });

  test('rise and fall: down after `fall` failed checks, up after `rise` good ones', async (t) => {
    const srv = await new TestServer().listen();
    const { hc, rec } = checker();
    t.after(() => hc.close());
    t.after(() => srv.close());
    const id = `127.0.0.1:${srv.port}`;
    hc.setVirtualService({
      id: 'vs',
      real_servers: [
        {
          ip: '127.0.0.1',
          port: srv.port,
          log_all_failures: true,
          checks: [{ checker: 'TCP_CHECK', delay_loop: 0.1, retry: 0, fall: 3, rise: 2 }],
        },
      ],
    });
    await rec.waitFor('first check', () => rec.attempts(srv.port, true).length >= 1);
    await srv.close();
    const down = await rec.transition(id, 1);
    assert.equal(rec.failure.filter((f) => f.t <= down.t).length, 3);
    await srv.listen('127.0.0.1', srv.port);
    const up = await rec.transition(id, 2);
    assert.equal(up.up, true);
    assert.equal(rec.attempts(srv.port).filter((a) => a.t > down.t && a.t <= up.t && a.ok).length, 2);
  });

  test('alpha: starts down until the first success; then ramps with slow_start', async (t) => {
    const srv = await new TestServer().listen();
    const { hc, rec } = checker();
    t.after(() => hc.close());
    t.after(() => srv.close());
    const id = `127.0.0.1:${srv.port}`;
    hc.setVirtualService({
      id: 'vs',
      alpha: true,
      real_servers: [
        { ip: '127.0.0.1', port: srv.port, weight: 4, checks: [{ checker: 'TCP_CHECK', delay_loop: 0.2 }] },
      ],
    });
    assert.equal(rec.server[0].up, false);
    assert.match(rec.server[0].reason, /alpha/);
    assert.deepEqual([rec.weight[0].present, rec.weight[0].weight], [false, 0]);
    assert.equal(rec.quorum[0].up, false);
    const up = await rec.transition(id, 1);
    assert.equal(up.up, true);
    assert.ok(up.t <= 200 + LATE, `up after ${up.t} ms`);
    assert.deepEqual([rec.weight.at(-1)?.weight, rec.weight.at(-1)?.present], [4, true]);
    assert.equal(rec.quorum.at(-1)?.up, true);
  });

  test('inhibit_on_failure keeps a down server with weight 0', async (t) => {
    const { hc, rec } = checker();
    t.after(() => hc.close());
    const free = await new TestServer().listen();
    await free.close(); // a port nobody listens on
    hc.setVirtualService({
      id: 'vs',
      real_servers: [
        {
          ip: '127.0.0.1',
          port: free.port,
          weight: 3,
          inhibit_on_failure: true,
          checks: [{ checker: 'TCP_CHECK', delay_loop: 0.05, retry: 0 }],
        },
      ],
    });
    await rec.transition(`127.0.0.1:${free.port}`, 1);
    assert.deepEqual([rec.weight.at(-1)?.weight, rec.weight.at(-1)?.present], [0, true]);
  });

  test('connect_timeout: a SYN never answered fails with timeout within connect_timeout', async (t) => {
    const hole = await unansweredPort();
    t.after(() => hole.close());
    const { hc, rec } = checker({ random: () => 0 });
    t.after(() => hc.close());
    hc.setVirtualService({
      id: 'vs',
      real_servers: [
        {
          ip: '127.0.0.1',
          port: hole.port,
          log_all_failures: true,
          checks: [{ checker: 'TCP_CHECK', delay_loop: 5, connect_timeout: 0.3, retry: 0 }],
        },
      ],
    });
    const down = await rec.transition(`127.0.0.1:${hole.port}`, 1);
    assert.equal(down.reason, 'timeout');
    assert.ok(down.t >= 300 - 5 && down.t <= 300 + LATE, `timeout after ${down.t} ms`);
  });

  test('connect_ip, connect_port, bindto and bind_port', async (t) => {
    const srv = await new TestServer().listen('127.0.0.3');
    t.after(() => srv.close());
    // A port held on 127.0.0.4: a check binding it must fail, which shows bind_port is used.
    const held = await new TestServer().listen('127.0.0.4');
    t.after(() => held.close());
    const { hc, rec } = checker({ random: () => 0 });
    t.after(() => hc.close());
    const check = (extra: object): CheckConfig =>
      ({
        checker: 'TCP_CHECK',
        connect_ip: '127.0.0.3',
        connect_port: srv.port,
        delay_loop: 0.1,
        retry: 0,
        log_all_failures: true,
        ...extra,
      }) as CheckConfig;
    hc.setVirtualService({
      id: 'vs',
      real_servers: [
        // Nothing listens on 127.0.0.2: connect_ip/connect_port redirect the checks.
        { ip: '127.0.0.2', port: 1, checks: [check({ bindto: '127.0.0.4' })] },
        { ip: '127.0.0.2', port: 2, checks: [check({ bindto: '127.0.0.4', bind_port: held.port })] },
        { ip: '127.0.0.2', port: 3, checks: [check({ bindto: '192.0.2.1' })] },
      ],
    });
    const reasons = (port: number): Promise<string> =>
      rec.transition(`127.0.0.2:${port}`, 1).then((e) => e.reason);
    assert.equal(await reasons(2), 'bind failed (EADDRINUSE)');
    assert.equal(await reasons(3), 'bind failed (EADDRNOTAVAIL)');
    await rec.waitFor('good checks', () => rec.attempts(srv.port, true).length >= 3);
    assert.equal(rec.transitions('127.0.0.2:1').length, 0);
    assert.ok(
      rec.failure.every((f) => f.check !== `TCP_CHECK 127.0.0.3:${srv.port}` || f.reason.startsWith('bind')),
    );
  });

  test('delay_loop: one check per interval; warmup bounds the first check', async (t) => {
    const srv = await new TestServer().listen();
    t.after(() => srv.close());
    const { hc } = checker({ random: () => 0.999 });
    t.after(() => hc.close());
    const t0 = performance.now();
    let first = 0;
    let n = 0;
    hc.on('attempt', () => {
      if (n++ === 0) first = performance.now() - t0;
    });
    hc.setVirtualService({
      id: 'vs',
      real_servers: [
        {
          ip: '127.0.0.1',
          port: srv.port,
          checks: [{ checker: 'TCP_CHECK', delay_loop: 0.1, warmup: 0.05 }],
        },
      ],
    });
    await sleep(1050);
    assert.ok(first >= 45 && first <= 50 + LATE, `first check at ${first} ms`);
    // 1 + floor((1050 - 50) / 100) = 11 checks on time; allow slack for a loaded machine.
    assert.ok(n >= 6 && n <= 12, `${n} checks in 1.05 s`);
    assert.ok(hc.stats.late <= 3, `late checks: ${hc.stats.late}`);
  });

  test('without warmup the first check is spread over delay_loop', async (t) => {
    const srv = await new TestServer().listen();
    t.after(() => srv.close());
    const { hc } = checker({ random: () => 0.5 });
    t.after(() => hc.close());
    const t0 = performance.now();
    let first = 0;
    hc.on('attempt', () => {
      if (first === 0) first = performance.now() - t0;
    });
    hc.setVirtualService({
      id: 'vs',
      real_servers: [
        { ip: '127.0.0.1', port: srv.port, checks: [{ checker: 'TCP_CHECK', delay_loop: 0.6 }] },
      ],
    });
    await sleep(300 + LATE);
    assert.ok(first >= 295 && first <= 300 + LATE, `first check at ${first} ms`);
  });

  test('IPv6 loopback', async (t) => {
    const srv = await new TestServer().listen('::1');
    t.after(() => srv.close());
    const { hc, rec } = checker();
    t.after(() => hc.close());
    hc.setVirtualService({
      id: 'vs6',
      alpha: true,
      real_servers: [{ ip: '::1', port: srv.port, checks: [{ checker: 'TCP_CHECK', delay_loop: 0.1 }] }],
    });
    const up = await rec.transition(`[::1]:${srv.port}`, 1);
    assert.equal(up.up, true);
  });

  test('no socket is left open: probes close their connections', async (t) => {
    const srv = await new TestServer((s) => s.on('data', () => {})).listen();
    t.after(() => srv.close());
    const { hc, rec } = checker();
    t.after(() => hc.close());
    hc.setVirtualService({
      id: 'vs',
      real_servers: [
        { ip: '127.0.0.1', port: srv.port, checks: [{ checker: 'TCP_CHECK', delay_loop: 0.05 }] },
      ],
    });
    await sleep(400);
    hc.close();
    await sleep(100);
    assert.ok(rec.attempts(srv.port, true).length >= 4);
    assert.equal(srv.sockets.size, 0, 'the checker resets its connections');
    assert.equal(hc.scheduler.size, 0);
  });
});
