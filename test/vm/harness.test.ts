// The real-kernel harness as a user sees it: exit codes, output, read-write shares, timeouts.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const runner = path.resolve(__dirname, '..', '..', '..', 'test', 'vm', 'run');

function vm(...args: string[]) {
  return spawnSync(runner, args, { encoding: 'utf8', timeout: 120_000 });
}

test("runs a command in a kernel with IPVS, streams its output and exits with the command's code", () => {
  const share = fs.mkdtempSync(path.join(os.tmpdir(), 'lbd-vm-share-'));
  try {
    const r = vm(
      '--rw',
      share,
      '--',
      'sh',
      '-c',
      `ipvsadm -Ln; uname -r > ${share}/kernel; echo lost > /etc/lbd-vm-probe; exit 7`,
    );
    assert.equal(r.status, 7, r.stderr);
    assert.match(
      r.stdout,
      /^IP Virtual Server version \d+\.\d+\.\d+ \(size=\d+\)\nProt LocalAddress:Port Scheduler Flags\n/,
    );
    // The --rw share carries files back; other writes stay in the guest's overlay.
    assert.notEqual(fs.readFileSync(path.join(share, 'kernel'), 'utf8').trim(), os.release());
    assert.equal(fs.existsSync('/etc/lbd-vm-probe'), false);
  } finally {
    fs.rmSync(share, { recursive: true, force: true });
  }
});

test('exits 124 when the command outlives --timeout', () => {
  const t0 = Date.now();
  const r = vm('--timeout', '10', '--', 'sleep', '300');
  assert.equal(r.status, 124, r.stderr);
  assert.match(r.stderr, /timed out after 10s/);
  assert.ok(Date.now() - t0 < 30_000);
});

test('rejects unknown options with 125 and usage', () => {
  const r = vm('--no-such-option', '--', 'true');
  assert.equal(r.status, 125);
  assert.match(r.stderr, /unknown option '--no-such-option'/);
});
