/**
 * Reading a file into a kept buffer (src/config/read-into.ts): through the addon's mapped copy for regular
 * files, read(2) for the rest; and the previous text made the file's in place (updateInto). The bytes
 * are the file's; a buffer too small is grown; a file that shrinks while the mapping is copied (an editor
 * truncating it in place) is reported, not a SIGBUS that kills the process.
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readInto, updateInto } from '../../src/config/read-into';
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
    const writer = `const fs=require('fs'); const t=fs.readFileSync(${JSON.stringify(file)}); const end=Date.now()+15000;
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
      const cur = Buffer.alloc(text.length + 1);
      let length = 0, lost = 0;
      let shrank = 0, reads = 0, bad = 0;
      const end = Date.now() + 10000;
      (function loop() {
        for (let i = 0; i < 20; i++) {
          if (m.read(${JSON.stringify(file)}, into) === -2) shrank++;
          const got = readInto(${JSON.stringify(file)}, into, () => { throw new Error('grown'); });
          reads++;
          if (got.compare(text, 0, got.length) !== 0) bad++;
          // In place: the text is each time a prefix of the file, or reported lost.
          const u = m.update(${JSON.stringify(file)}, cur, length);
          if (Array.isArray(u)) {
            length = u[0];
            reads++;
            if (cur.compare(text, 0, length, 0, length) !== 0) bad++;
          } else if (u === -3) {
            lost++;
            length = readInto(${JSON.stringify(file)}, cur, () => { throw new Error('grown'); }).length;
          } else if (u === -2) shrank++;
        }
        if (Date.now() < end && (shrank < 5 || lost < 1)) return setImmediate(loop);
        w.kill();
        console.log(JSON.stringify({ shrank, lost, reads, bad }));
      })();`;
    const r = spawnSync(process.execPath, ['-e', reader], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.signal, null, `the reader died of ${r.signal}: ${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { shrank: number; lost: number; reads: number; bad: number };
    assert.equal(out.bad, 0, `${out.bad} of ${out.reads} reads were not a prefix of the file`);
    assert.ok(out.shrank > 0, `no copy met a truncation in ${out.reads} reads: the case was not tested`);
    assert.ok(out.lost > 0, `no update met a truncation while writing in ${out.reads} reads: not tested`);
  });

  test('updateInto: the previous text becomes the file in place, with what changed', () => {
    const file = path.join(dir, 'update.conf');
    const lines = (n: number, w: number) =>
      Array.from(
        { length: n },
        (_, i) => `    real_server 10.0.${i >> 8}.${i & 255} 80 { weight ${i === 500 ? w : 1} }\n`,
      ).join('');
    const a = Buffer.from(lines(1000, 1));
    /** The change computed byte by byte, to compare with. */
    const expected = (x: Buffer, y: Buffer) => {
      let p = 0;
      while (p < Math.min(x.length, y.length) && x[p] === y[p]) p++;
      let q = 0;
      while (q < Math.min(x.length, y.length) - p && x[x.length - 1 - q] === y[y.length - 1 - q]) q++;
      const middle = x.subarray(p, x.length - q);
      return { prefix: p, suffix: q, oldLines: middle.toString().split('\n').length - 1, oldMiddle: middle };
    };
    const cases: Array<[string, Buffer]> = [
      ['same length', Buffer.from(lines(1000, 7))],
      ['longer', Buffer.from(lines(1000, 1234))],
      ['shorter', a.subarray(0, a.length - 300)],
      [
        'lines added in the middle',
        Buffer.concat([a.subarray(0, 5000), Buffer.from('# a\n# b\n'), a.subarray(5000)]),
      ],
      ['the same', a],
      ['all new, over 64 KiB', Buffer.alloc(a.length + 70_000, 'x\n')],
    ];
    for (const [what, b] of cases) {
      fs.writeFileSync(file, b);
      const text = Buffer.alloc(a.length + 100_000);
      a.copy(text);
      const g = grower();
      const r = updateInto(file, text, a.length, g.grow);
      assert.ok(typeof r === 'object', `${what}: ${String(r)}`);
      assert.ok(r.text.equals(b), `${what}: the text is the file`);
      assert.equal(r.text.buffer, text.buffer, `${what}: in place`);
      const want = expected(a, b);
      const big = want.oldMiddle.length > 65536;
      assert.deepEqual(r.change, { ...want, oldMiddle: big ? undefined : want.oldMiddle }, what);
      assert.deepEqual(g.asked, []);
    }
    // A buffer too small: grown (holding the old text), then updated.
    const b = Buffer.from(lines(1000, 99) + lines(200, 1));
    fs.writeFileSync(file, b);
    const small = Buffer.from(a);
    const asked: number[] = [];
    const r = updateInto(file, small, a.length, (size) => {
      asked.push(size);
      const bigger = Buffer.alloc(size + 10);
      small.copy(bigger);
      return bigger;
    });
    assert.deepEqual(asked, [b.length]);
    assert.ok(typeof r === 'object' && r.text.equals(b));
    assert.equal(updateInto('/proc/self/status', Buffer.alloc(4096), 0, grower().grow), 'unmapped');
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
