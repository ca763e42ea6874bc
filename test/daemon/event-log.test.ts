import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { EventLog } from '../../src/daemon/event-log';

const seqs = (log: EventLog, after?: number) => log.since(after).map((e) => e.seq);

test('the event log keeps the last `keep` events in order and answers since(after)', () => {
  const log = new EventLog(3);
  assert.deepEqual(seqs(log), []);
  const seen: number[] = [];
  log.on('event', (e) => seen.push(e.seq));
  for (let i = 1; i <= 5; i++) {
    const e = log.publish({ source: 'test', type: 'n', i });
    assert.equal(e.seq, i);
    assert.equal(e.i, i);
    assert.ok(!Number.isNaN(Date.parse(e.time)));
  }
  assert.deepEqual(seen, [1, 2, 3, 4, 5]);
  assert.equal(log.lastSeq, 5);
  assert.deepEqual(seqs(log), [3, 4, 5]);
  assert.deepEqual(
    log.since(0).map((e) => e.i),
    [3, 4, 5],
  );
  assert.deepEqual(seqs(log, 1), [3, 4, 5]);
  assert.deepEqual(seqs(log, 3), [4, 5]);
  assert.deepEqual(seqs(log, 3.5), [4, 5]);
  assert.deepEqual(seqs(log, 5), []);
  assert.deepEqual(seqs(log, 99), []);
  assert.deepEqual(seqs(log, -7), [3, 4, 5]);
  assert.deepEqual(seqs(log, Number.NaN), []);
});

test('after 100,000 events the log holds exactly the newest 2,000', () => {
  const log = new EventLog(2000);
  for (let i = 0; i < 100_000; i++) log.publish({ source: 'test', type: 'n' });
  const kept = log.since(0);
  assert.equal(kept.length, 2000);
  assert.equal(kept[0].seq, 98_001);
  assert.equal(kept[1999].seq, 100_000);
});

test("an event's seq and time are the log's, even when its body has its own (VRRP events do)", () => {
  const log = new EventLog(10);
  log.publish({ source: 'daemon', type: 'started' });
  const e = log.publish({ source: 'vrrp', type: 'transition', seq: 41, time: 1765000000000 });
  assert.equal(e.seq, 2);
  assert.equal(typeof e.time, 'string');
  assert.ok(!Number.isNaN(Date.parse(e.time)));
  assert.deepEqual(Object.keys(e).slice(0, 4), ['seq', 'time', 'source', 'type']);
  assert.deepEqual(
    log.since(1).map((x) => [x.seq, x.type]),
    [[2, 'transition']],
  );
});
