import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Notifier } from '../../src/vrrp/notify';
import { EventStream } from '../../src/vrrp/events';
import { TrackScript, trackInput } from '../../src/vrrp/track-script';

test('notify scripts run one at a time per instance, in transition order, with keepalived arguments', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbd-notify-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const log = path.join(dir, 'log');
  // Each run logs its start and end around a sleep: overlapping runs would interleave.
  const script = path.join(dir, 'n.sh');
  fs.writeFileSync(script, `#!/bin/sh\necho "start $*" >> ${log}\nsleep 0.05\necho "end $*" >> ${log}\n`, {
    mode: 0o755,
  });
  const events = new EventStream();
  const n = new Notifier('INSTANCE', 'VI_1', { notify: script, master: `${script} own-master` }, events);
  n.notify('BACKUP', 100);
  n.notify('MASTER', 150);
  n.notify('STOP', 150);
  await n.idle();
  assert.deepEqual(fs.readFileSync(log, 'utf8').trim().split('\n'), [
    'start INSTANCE VI_1 BACKUP 100',
    'end INSTANCE VI_1 BACKUP 100',
    'start own-master',
    'end own-master',
    'start INSTANCE VI_1 MASTER 150',
    'end INSTANCE VI_1 MASTER 150',
    'start INSTANCE VI_1 STOP 150',
    'end INSTANCE VI_1 STOP 150',
  ]);
  assert.deepEqual(
    events.since().map((e) => (e.type === 'notify' ? e.exitCode : -1)),
    [0, 0, 0, 0],
  );
});

test('track script: rise and fall filter the results; weights follow keepalived', () => {
  const s = new TrackScript({ name: 'x', script: 'true', intervalMs: 1000, rise: 2, fall: 3 });
  const seen: boolean[] = [];
  s.on('change', (up: boolean) => seen.push(up));
  for (const r of [true, false, false, true, false, false, false, true, true]) s.result(r);
  assert.deepEqual(seen, [true, false, true]);
  assert.deepEqual(trackInput(false, 0), { fault: true, delta: 0 });
  assert.deepEqual(trackInput(true, 10), { fault: false, delta: 10 });
  assert.deepEqual(trackInput(false, 10), { fault: false, delta: 0 });
  assert.deepEqual(trackInput(false, -10), { fault: false, delta: -10 });
  assert.deepEqual(trackInput(true, -10), { fault: false, delta: 0 });
});

test('track script: a command that hangs is killed at its timeout and counts as a failure', async () => {
  const s = new TrackScript({ name: 'hang', script: 'sleep 5', intervalMs: 10_000, timeoutMs: 100 });
  const t0 = Date.now();
  const up = await new Promise<boolean>((resolve) => {
    s.on('change', resolve);
    s.start();
  });
  s.stop();
  assert.equal(up, false);
  assert.ok(Date.now() - t0 < 2000);
});
