/**
 * Reading a file into a kept buffer (src/config/read-into.ts): through the addon's mapped copy for regular
 * files, read(2) for the rest. The bytes are the file's; a buffer too small is grown; a file that shrinks
 * while the mapping is copied (an editor truncating it in place) is reported, not a SIGBUS that kills the
 * process.
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readInto } from '../../src/config/read-into';
import { nativeModule } from '../../src/net/native';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbd-read-into-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

/** A grow callback that records the sizes asked for. */
function grower(): { grow: (size: number) => Buffer; asked: number[] } {
  const asked: number[] = [];
  return { asked, grow: (size) => (asked.push(size), Buffer.alloc(size + 1)) };
}

describe('readInto', () => {
  test('a regular file: its bytes, grown once when the buffer is too small, then in place', () => {
    const file = path.join(dir, 'a.conf');
    const text = Buffer.from(Array.from({ length: 5000 }, (_, i) => `line ${i}\n`).join(''));
    fs.writeFileSync(file, text);
    const g = grower();
    const got = readInto(file, Buffer.alloc(16), g.grow);
    assert.deepEqual(g.asked, [text.length]);
    assert.ok(got.equals(text));
    const big = Buffer.alloc(text.length + 100, 0x7a);
    const again = readInto(file, big, g.grow);
    assert.equal(again.buffer, big.buffer, 'read into the buffer given');
    assert.ok(again.equals(text));
    assert.equal(big[text.length], 0x7a, 'nothing written past the file');
    fs.writeFileSync(file, '');
    assert.equal(readInto(file, big, g.grow).length, 0);
  });

  test('a file that says 0 bytes and has some (/proc) is read(2)', () => {
    const got = readInto('/proc/self/status', Buffer.alloc(64), grower().grow).toString();
    assert.match(got, /^Name:\s/);
    assert.match(got, new RegExp(`\\nPid:\\s+${process.pid}\\n`));
  });

  test('a missing file throws ENOENT naming it', () => {
    assert.throws(
      () => readInto(path.join(dir, 'none.conf'), Buffer.alloc(16), grower().grow),
      (e: Error & { errno?: number }) => e.message.includes('none.conf') && e.errno === 2,
    );
  });

  test('a file truncated and written again during the copies: the process lives, each read is a prefix', () => {
    // In a child process: an unguarded SIGBUS would end it with a signal, which is what is checked.
    const file = path.join(dir, 'shrinking.conf');
    const text = Buffer.alloc(8 << 20, 'virtual_server 192.0.2.1 80 { }\n');
    fs.writeFileSync(file, text);
    const writer = `const fs=require('fs'); const t=fs.readFileSync(${JSON.stringify(file)}); const end=Date.now()+6000;
      while (Date.now()<end) fs.writeFileSync(${JSON.stringify(file)}, t);`;
    const reader = `
      const { spawn } = require('child_process');
      const { nativeModule } = require(${JSON.stringify(require.resolve('../../src/net/native'))});
      const { readInto } = require(${JSON.stringify(require.resolve('../../src/config/read-into'))});
      const fs = require('fs');
      const text = fs.readFileSync(${JSON.stringify(file)});
      const w = spawn(process.execPath, ['-e', ${JSON.stringify(writer)}], { stdio: 'inherit' });
      const m = nativeModule('mappedFile');
      const into = Buffer.alloc(text.length + 1);
      let shrank = 0, reads = 0, bad = 0;
      const end = Date.now() + 5000;
      (function loop() {
        for (let i = 0; i < 20; i++) {
          if (m.read(${JSON.stringify(file)}, into) === -2) shrank++;
          const got = readInto(${JSON.stringify(file)}, into, () => { throw new Error('grown'); });
          reads++;
          if (got.compare(text, 0, got.length) !== 0) bad++;
        }
        if (Date.now() < end && shrank < 5) return setImmediate(loop);
        w.kill();
        console.log(JSON.stringify({ shrank, reads, bad }));
      })();`;
    const r = spawnSync(process.execPath, ['-e', reader], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.signal, null, `the reader died of ${r.signal}: ${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { shrank: number; reads: number; bad: number };
    assert.equal(out.bad, 0, `${out.bad} of ${out.reads} reads were not a prefix of the file`);
    assert.ok(out.shrank > 0, `no copy met a truncation in ${out.reads} reads: the case was not tested`);
  });

  test('the addon reports -1 for what it cannot map and the size for a buffer too small', () => {
    const m = nativeModule<{ read(p: string, into: Buffer): number }>('mappedFile');
    const file = path.join(dir, 'b.conf');
    fs.writeFileSync(file, 'x'.repeat(100));
    assert.equal(m.read(file, Buffer.alloc(10)), 100);
    assert.equal(m.read('/proc/self/status', Buffer.alloc(10)), -1);
    assert.equal(m.read(dir, Buffer.alloc(10)), -1);
  });
});
