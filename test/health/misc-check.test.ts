import { test, describe } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MiscCheckConfig } from '../../src/health';
import { checker, sleep, tmpdir } from './helpers';

const LATE = 400;

/** Whether a process exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function firstTransition(
  t: { after: (fn: () => void) => void },
  check: Omit<MiscCheckConfig, 'checker'>,
  expectUp: boolean,
): Promise<{ reason: string; ms: number; weights: { weight: number; reason: string }[] }> {
  const { hc, rec } = checker({ random: () => 0 });
  t.after(() => hc.close());
  hc.setVirtualService({
    id: 'vs',
    alpha: expectUp,
    real_servers: [
      {
        ip: '127.0.0.1',
        port: 9,
        weight: 5,
        checks: [{ checker: 'MISC_CHECK', delay_loop: 5, retry: 0, ...check }],
      },
    ],
  });
  const e = await rec.transition('127.0.0.1:9', 1, 6000);
  assert.equal(e.up, expectUp, `expected ${expectUp ? 'up' : 'down'}, got ${e.reason}`);
  hc.close();
  return {
    reason: e.reason,
    ms: e.t,
    weights: rec.weight.map((w) => ({ weight: w.weight, reason: w.reason })),
  };
}

describe('MISC_CHECK', () => {
  test('exit 0 is healthy, exit 1 fails', async (t) => {
    assert.equal((await firstTransition(t, { misc_path: 'exit 0' }, true)).reason, 'exit code 0');
    assert.equal((await firstTransition(t, { misc_path: '/bin/false' }, false)).reason, 'exit code 1');
  });

  test('arguments are passed as in keepalived (a quoted command line)', async (t) => {
    const dir = tmpdir('misc');
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const script = path.join(dir, 'check.sh');
    fs.writeFileSync(script, '#!/bin/sh\n[ "$1" = web1 ] && [ "$2" = "a b" ]\n', { mode: 0o755 });
    await firstTransition(t, { misc_path: `${script} web1 "a b"` }, true);
    await firstTransition(t, { misc_path: `${script} web2` }, false);
  });

  test('misc_dynamic: exit 2..255 is healthy with weight code - 2', async (t) => {
    const r = await firstTransition(t, { misc_path: 'exit 12', misc_dynamic: true }, true);
    assert.deepEqual(r.weights, [
      { weight: 0, reason: 'added' },
      { weight: 10, reason: 'up' },
    ]);
    const z = await firstTransition(t, { misc_path: 'exit 2', misc_dynamic: true }, true);
    assert.deepEqual(z.weights.at(-1), { weight: 0, reason: 'up' }); // present now, with weight 0
    const top = await firstTransition(t, { misc_path: 'exit 255', misc_dynamic: true }, true);
    assert.equal(top.weights.at(-1)?.weight, 253);
    assert.equal(
      (await firstTransition(t, { misc_path: 'exit 1', misc_dynamic: true }, false)).reason,
      'exit code 1',
    );
  });

  test('without misc_dynamic, exit codes other than 0 fail', async (t) => {
    assert.equal((await firstTransition(t, { misc_path: 'exit 3' }, false)).reason, 'exit code 3');
  });

  test('a script killed by a signal fails', async (t) => {
    assert.equal(
      (await firstTransition(t, { misc_path: 'kill -TERM $$' }, false)).reason,
      'killed by SIGTERM',
    );
  });

  test('misc_timeout kills the script and its children (process group)', async (t) => {
    const dir = tmpdir('misc');
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const pids = path.join(dir, 'pids');
    const r = await firstTransition(
      t,
      { misc_path: `sleep 30 & echo $! > ${pids}; echo $$ >> ${pids}; sleep 30; exit 0`, misc_timeout: 0.4 },
      false,
    );
    assert.equal(r.reason, 'timeout');
    assert.ok(r.ms >= 395 && r.ms <= 400 + LATE, `timeout after ${r.ms} ms`);
    const list = fs.readFileSync(pids, 'utf8').trim().split('\n').map(Number);
    assert.equal(list.length, 2);
    for (let i = 0; i < 100 && list.some(alive); i++) await sleep(20);
    for (const pid of list) assert.equal(alive(pid), false, `process ${pid} survived`);
  });

  test('removing the target kills a running script', async (t) => {
    const dir = tmpdir('misc');
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const pids = path.join(dir, 'pids');
    const { hc } = checker({ random: () => 0 });
    t.after(() => hc.close());
    hc.setVirtualService({
      id: 'vs',
      real_servers: [
        {
          ip: '127.0.0.1',
          port: 9,
          checks: [
            { checker: 'MISC_CHECK', misc_path: `sleep 30 & echo $! > ${pids}; sleep 30`, delay_loop: 5 },
          ],
        },
      ],
    });
    for (let i = 0; i < 200 && !fs.existsSync(pids); i++) await sleep(10);
    await sleep(20);
    const pid = Number(fs.readFileSync(pids, 'utf8'));
    assert.equal(alive(pid), true);
    hc.removeVirtualService('vs');
    for (let i = 0; i < 100 && alive(pid); i++) await sleep(20);
    assert.equal(alive(pid), false, alive(pid) ? fs.readFileSync(`/proc/${pid}/stat`, 'utf8') : '');
    assert.equal(hc.checkCount, 0);
    for (let i = 0; i < 100 && hc.scripts.active > 0; i++) await sleep(20); // the slot frees at exit
    assert.equal(hc.scripts.active, 0);
  });

  test('concurrency is bounded by maxScripts', async (t) => {
    const dir = tmpdir('misc');
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const log = path.join(dir, 'log');
    const { hc, rec } = checker({ maxScripts: 2, random: () => 0 });
    t.after(() => hc.close());
    hc.setVirtualService({
      id: 'vs',
      alpha: true,
      real_servers: [1, 2, 3, 4, 5].map((i) => ({
        ip: '127.0.0.1',
        port: i,
        checks: [
          {
            checker: 'MISC_CHECK' as const,
            misc_path: `echo "start $(date +%s%N)" >> ${log}; sleep 0.2; echo "end $(date +%s%N)" >> ${log}`,
            delay_loop: 30,
          },
        ],
      })),
    });
    await rec.waitFor('two scripts running', () => hc.scripts.active === 2);
    assert.equal(hc.scripts.waiting, 3);
    await rec.waitFor('all up', () => rec.transitions().length === 5, 8000);
    // Replay the log: never more than two scripts between start and end.
    let running = 0;
    let peak = 0;
    const events = fs
      .readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' '))
      .sort((a, b) => Number(BigInt(a[1]) - BigInt(b[1])) || (a[0] === 'end' ? -1 : 1));
    for (const [kind] of events) {
      running += kind === 'start' ? 1 : -1;
      peak = Math.max(peak, running);
    }
    assert.equal(events.length, 10);
    assert.equal(peak, 2);
  });
});
