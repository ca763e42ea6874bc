import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..', '..');
const version = (require(path.join(root, 'package.json')) as { version: string }).version;
const v = version.replace(/\./g, '\\.');

function run(bin: string, ...args: string[]) {
  return spawnSync(path.join(root, 'bin', bin), args, {
    encoding: 'utf8',
    env: { ...process.env, LBD_CONTROL_SOCKET: '/nonexistent/lbd.sock' },
  });
}

test('lbd --version, --help exit 0; an unknown option exits 2 naming it', () => {
  let r = run('lbd', '--version');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^lbd ${v}\\n$`));
  r = run('lbd', '--help');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Usage: lbd \[options\]\n/);
  r = run('lbd', '--no-such-option');
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, "lbd: unknown option '--no-such-option'\nTry 'lbd --help' for more information.\n");
  r = run('lbd', '--log-level', 'info,nosuch=debug');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown subsystem 'nosuch' in --log-level/);
});

test('lbd with an unreadable configuration exits 2 and says so', () => {
  const r = run(
    'lbd',
    '-f',
    '/nonexistent/lbd.yaml',
    '--pid-file',
    '/tmp/lbd-entry-test.pid',
    '--socket',
    '/tmp/lbd-entry.sock',
  );
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /cannot read '\/nonexistent\/lbd\.yaml'/);
});

test('lbctl speaks ipvsadm: -v and -h as ipvsadm 1.31, its unknown-option message and exit 255', () => {
  let r = run('lbctl', '--version');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^lbctl ${v} \\(ipvsadm v1\\.31 2019/12/24 compatible`));
  r = run('lbctl', '-h');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\nUsage:\n {2}lbctl -A\|E virtual-service /);
  assert.match(r.stdout, /\nlbd commands:\n {2}lbctl validate /);
  r = run('lbctl', '-Q');
  assert.equal(r.status, 255);
  assert.equal(r.stderr, "Try `lbctl -h' or 'lbctl --help' for more information.\n");
});

test('lbctl daemon commands: usage errors exit 2, an absent daemon exits 3 with a clear message', () => {
  let r = run('lbctl', 'drain', 'TCP 192.0.2.1:80');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /'drain' needs a virtual server and a real server/);
  r = run('lbctl', 'status');
  assert.equal(r.status, 3);
  assert.equal(r.stderr, 'lbctl: lbd is not running (no control socket answers at /nonexistent/lbd.sock)\n');
});
