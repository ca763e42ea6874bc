import { test, describe, mock } from 'node:test';
import * as assert from 'node:assert/strict';
import { SlowStartRamp } from '../../src/health/slow-start';
import { QuorumState } from '../../src/health/quorum';
import { Scheduler } from '../../src/health/scheduler';
import { ServerEntry, ServerHost } from '../../src/health/target-state';
import { SharedCheck } from '../../src/health/check-runner';
import { ServerStateEvent, WeightEvent } from '../../src/health/events';
import { NO_WEIGHT } from '../../src/health/probe';

describe('slow start ramp', () => {
  test('ramps 1 -> full in min(20, full) equal steps', () => {
    const r = new SlowStartRamp(1000);
    assert.equal(r.start(0, 10), true);
    const seen: [number, number][] = [[0, r.weight(10)]];
    while (r.active) {
      const at = r.nextAt();
      r.advance();
      seen.push([at, r.weight(10)]);
    }
    assert.deepEqual(seen, [
      [0, 1],
      [100, 1],
      [200, 2],
      [300, 3],
      [400, 4],
      [500, 5],
      [600, 6],
      [700, 7],
      [800, 8],
      [900, 9],
      [1000, 10],
    ]);
  });

  test('large weights use 20 steps; the full weight may change during the ramp', () => {
    const r = new SlowStartRamp(2000);
    r.start(0, 1000);
    assert.equal(r.weight(1000), 1);
    for (let i = 0; i < 10; i++) r.advance();
    assert.equal(r.weight(1000), 500);
    assert.equal(r.weight(100), 50);
    assert.equal(r.nextAt(), 1100);
  });

  test('no ramp for weight <= 1 or duration 0', () => {
    assert.equal(new SlowStartRamp(1000).start(0, 1), false);
    assert.equal(new SlowStartRamp(0).start(0, 100), false);
  });
});

describe('quorum with hysteresis', () => {
  test('lost below quorum - hysteresis, regained at quorum + hysteresis', () => {
    const q = new QuorumState(4, 1);
    assert.equal(q.update(6), true);
    assert.equal(q.up, true);
    const steps: [number, boolean, boolean][] = [
      [3, false, true], // 3 is not below 4 - 1
      [2, true, false],
      [4, false, false], // 4 is not 4 + 1
      [5, true, true],
      [4, false, true],
    ];
    for (const [sum, changed, up] of steps) {
      assert.equal(q.update(sum), changed, `sum ${sum}`);
      assert.equal(q.up, up, `sum ${sum}`);
    }
  });

  test('hysteresis 0: lost below quorum, regained at quorum', () => {
    const q = new QuorumState(2, 0);
    q.update(1);
    assert.equal(q.up, false);
    q.update(2);
    assert.equal(q.up, true);
  });
});

/** A stand-in for a shared check, driven by the test. */
function fakeCheck(up: boolean): SharedCheck {
  return {
    up,
    reason: up ? 'connected' : 'refused',
    since: 0,
    weight: NO_WEIGHT,
    name: 'TCP_CHECK 10.0.0.1:80',
    observers: new Set(),
  } as unknown as SharedCheck;
}

function host(scheduler: Scheduler) {
  const server: ServerStateEvent[] = [];
  const weight: WeightEvent[] = [];
  let changes = 0;
  const live = { sum: 0 };
  const h: ServerHost = {
    id: 'vs',
    scheduler,
    wallClock: () => Date.now(),
    emitServer: (e) => server.push(e),
    emitWeight: (e) => weight.push(e),
    addLive: (d) => (live.sum += d),
    serversChanged: () => changes++,
  };
  return { h, server, weight, live, changes: () => changes };
}

describe('server weights (fake timers)', () => {
  test('down/up transitions, inhibit, slow start steps at the right times, dynamic weight', (t) => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    t.after(() => mock.timers.reset());
    const scheduler = new Scheduler(() => Date.now());
    const { h, server, weight, live } = host(scheduler);
    const check = fakeCheck(true);
    const e = new ServerEntry(
      h,
      '10.0.0.1:80',
      '10.0.0.1',
      80,
      { weight: 10, inhibit: true, slowStartMs: 1000 },
      [check],
    );
    e.attach();
    assert.deepEqual(
      weight.map((w) => [w.weight, w.present, w.reason]),
      [[10, true, 'added']],
    );
    assert.equal(server[0].initial, true);
    // Down: inhibited to weight 0.
    mock.timers.tick(100);
    check.up = false;
    check.reason = 'timeout';
    e.checkChanged();
    assert.deepEqual([server.at(-1)?.up, server.at(-1)?.reason, server.at(-1)?.at], [false, 'timeout', 100]);
    assert.deepEqual(
      [weight.at(-1)?.weight, weight.at(-1)?.present, weight.at(-1)?.reason, weight.at(-1)?.detail],
      [0, true, 'down', 'timeout'],
    );
    // Up at t=500: weight 1, then one step every 100 ms.
    mock.timers.tick(400);
    check.up = true;
    check.reason = 'connected';
    e.checkChanged();
    assert.deepEqual([weight.at(-1)?.weight, weight.at(-1)?.reason], [1, 'slow start']);
    assert.equal(e.liveWeight(), 10, 'the quorum counts the full weight');
    assert.equal(live.sum, 10);
    const ramp: [number, number][] = [];
    const n = weight.length;
    for (let i = 0; i < 1100; i++) mock.timers.tick(1);
    for (const w of weight.slice(n)) ramp.push([w.at, w.weight]);
    assert.deepEqual(ramp, [
      [700, 2],
      [800, 3],
      [900, 4],
      [1000, 5],
      [1100, 6],
      [1200, 7],
      [1300, 8],
      [1400, 9],
      [1500, 10],
    ]);
    assert.equal(scheduler.size, 0);
    // Dynamic weight from a check.
    check.weight = 4;
    e.checkChanged();
    assert.deepEqual([weight.at(-1)?.weight, weight.at(-1)?.reason], [4, 'dynamic']);
    assert.equal(live.sum, 4);
    e.detach(false);
    assert.equal(live.sum, 0);
  });

  test('without inhibit_on_failure a down server is removed; going down stops a ramp', (t) => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    t.after(() => mock.timers.reset());
    const scheduler = new Scheduler(() => Date.now());
    const { h, weight } = host(scheduler);
    const check = fakeCheck(false);
    const e = new ServerEntry(h, 's', '10.0.0.1', 80, { weight: 5, inhibit: false, slowStartMs: 1000 }, [
      check,
    ]);
    e.attach();
    assert.deepEqual([weight[0].weight, weight[0].present], [0, false]);
    check.up = true;
    e.checkChanged();
    assert.equal(scheduler.size, 1);
    check.up = false;
    e.checkChanged();
    assert.deepEqual(
      [weight.at(-1)?.weight, weight.at(-1)?.present, weight.at(-1)?.reason],
      [0, false, 'down'],
    );
    assert.equal(scheduler.size, 0);
  });

  test('a server is up only when all its checks are up', (t) => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    t.after(() => mock.timers.reset());
    const { h, server } = host(new Scheduler(() => Date.now()));
    const a = fakeCheck(true);
    const b = fakeCheck(true);
    const e = new ServerEntry(h, 's', '10.0.0.1', 80, { weight: 1, inhibit: false, slowStartMs: 0 }, [a, b]);
    e.attach();
    b.up = false;
    b.reason = 'status 503';
    e.checkChanged();
    assert.deepEqual([server.at(-1)?.up, server.at(-1)?.reason], [false, 'status 503']);
    a.up = false;
    e.checkChanged();
    assert.equal(server.length, 2);
    b.up = true;
    e.checkChanged();
    assert.equal(server.length, 2, 'still down: a is down');
    a.up = true;
    e.checkChanged();
    assert.equal(server.at(-1)?.up, true);
  });
});
