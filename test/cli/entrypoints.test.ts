import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..', '..');
const version = (require(path.join(root, 'package.json')) as { version: string }).version;

function run(bin: string, ...args: string[]) {
  return spawnSync(path.join(root, 'bin', bin), args, { encoding: 'utf8' });
}

for (const bin of ['lbd', 'lbctl']) {
  test(`${bin} --version prints the package version and exits 0`, () => {
    const r = run(bin, '--version');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${bin} ${version.replace(/\./g, '\\.')}\\b`));
  });

  test(`${bin} --help prints usage and exits 0`, () => {
    const r = run(bin, '--help');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Usage: ${bin} `));
  });

  test(`${bin} with an unknown option exits 2 naming it`, () => {
    const r = run(bin, '--no-such-option');
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`^${bin}: unknown option '--no-such-option'\\n`));
  });
}
