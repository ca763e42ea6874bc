import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { acquirePidFile } from '../../src/daemon/pidfile';

const tmp = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lbd-pid-')), 'run', 'lbd.pid');

test('creates the pid file and removes it on release', () => {
  const file = tmp();
  const release = acquirePidFile(file);
  assert.equal(fs.readFileSync(file, 'utf8'), `${process.pid}\n`);
  release();
  assert.equal(fs.existsSync(file), false);
});

test('a pid file naming a live lbd is refused', async (t) => {
  const file = tmp();
  // A live process whose command line says lbd.
  const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)', '/usr/local/bin/lbd'], {
    stdio: 'ignore',
  });
  t.after(() => other.kill('SIGKILL'));
  await new Promise((r) => setTimeout(r, 100));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${other.pid}\n`);
  assert.throws(() => acquirePidFile(file), new RegExp(`lbd is already running with pid ${other.pid}`));
  assert.equal(fs.readFileSync(file, 'utf8'), `${other.pid}\n`);
});

test('a stale pid file (dead process, or a recycled pid of another program) is replaced', () => {
  const file = tmp();
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${dead.stdout}\n`);
  acquirePidFile(file)();
  fs.writeFileSync(file, '1\n'); // pid 1 is alive but is not lbd
  const release = acquirePidFile(file);
  assert.equal(fs.readFileSync(file, 'utf8'), `${process.pid}\n`);
  release();
});
