import { test, describe, mock } from 'node:test';
import * as assert from 'node:assert/strict';
import { Scheduler, TaskSlot } from '../../src/health/scheduler';

class Log {
  fired: [string, number][] = [];
  make(name: string): TaskSlot<Log> {
    return new TaskSlot<Log>(this, function (this: Log, now: number) {
      this.fired.push([name, now]);
    });
  }
}

/** Advances the fake clock 1 ms at a time, so callbacks see their own firing time. */
function advance(ms: number): void {
  for (let i = 0; i < ms; i++) mock.timers.tick(1);
}

describe('scheduler (fake timers)', () => {
  test('fires tasks in due order at their times, with one timer', (t) => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    t.after(() => mock.timers.reset());
    const s = new Scheduler(() => Date.now());
    const log = new Log();
    const tasks = [300, 100, 200, 100, 50].map((d, i) => {
      const task = log.make(`t${i}`);
      s.at(task, d);
      return task;
    });
    assert.equal(s.size, 5);
    advance(99);
    assert.deepEqual(log.fired, [['t4', 50]]);
    advance(1);
    assert.deepEqual(
      log.fired
        .slice(1)
        .map((f) => f[0])
        .sort(),
      ['t1', 't3'],
    );
    advance(200);
    assert.deepEqual(
      log.fired.map((f) => f[1]),
      [50, 100, 100, 200, 300],
    );
    assert.equal(s.size, 0);
    assert.ok(tasks.every((x) => x.heapIndex === -1));
  });

  test('cancel and reschedule, earlier or later', (t) => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    t.after(() => mock.timers.reset());
    const s = new Scheduler(() => Date.now());
    const log = new Log();
    const a = log.make('a');
    const b = log.make('b');
    const c = log.make('c');
    s.at(a, 100);
    s.at(b, 200);
    s.at(c, 300);
    s.cancel(b);
    s.at(c, 50); // earlier
    s.at(a, 400); // later
    advance(500);
    assert.deepEqual(log.fired, [
      ['c', 50],
      ['a', 400],
    ]);
    s.cancel(b); // cancelling an idle task is harmless
  });

  test('a heap of many random tasks stays ordered', (t) => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    t.after(() => mock.timers.reset());
    const s = new Scheduler(() => Date.now());
    const log = new Log();
    const tasks = Array.from({ length: 500 }, (_, i) => log.make(String(i)));
    for (const task of tasks) s.at(task, 1 + Math.floor(Math.random() * 1000));
    for (let i = 0; i < 500; i += 3) s.cancel(tasks[i]);
    advance(1001);
    const times = log.fired.map((f) => f[1]);
    assert.equal(times.length, 500 - Math.ceil(500 / 3));
    assert.deepEqual(
      times,
      [...times].sort((x, y) => x - y),
    );
  });

  test('close cancels everything', (t) => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    t.after(() => mock.timers.reset());
    const s = new Scheduler(() => Date.now());
    const log = new Log();
    s.at(log.make('a'), 10);
    s.close();
    advance(100);
    assert.deepEqual(log.fired, []);
    assert.equal(s.size, 0);
  });
});
