/**
 * The corpus of invalid configurations: each file in test/config/invalid/ ends with the exact errors it
 * must give, one "# expect: [FILE:]LINE:COLUMN MESSAGE" line each (FILE when the error is in an included
 * file). Every error must be reported, and nothing else.
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { INVALID, validate } from './helpers';

const cases = fs
  .readdirSync(INVALID)
  .filter((f) => fs.statSync(path.join(INVALID, f)).isFile())
  .sort();

describe('invalid configurations', () => {
  test('the corpus holds at least 60 cases in each syntax together, and both syntaxes', () => {
    assert.ok(cases.length >= 60, `${cases.length} cases`);
    assert.ok(cases.filter((f) => f.endsWith('.conf')).length >= 20);
    assert.ok(cases.filter((f) => f.endsWith('.yaml')).length >= 40);
  });

  for (const name of cases) {
    test(name, () => {
      const file = path.join(INVALID, name);
      const text = fs.readFileSync(file, 'utf8');
      const expected = [...text.matchAll(/^# expect: (.*)$/gm)].map((m) => m[1]);
      assert.ok(expected.length > 0, 'the case says which errors it expects');
      const r = validate(file);
      assert.equal(r.config, undefined, 'an invalid configuration gives no model');
      const got = r.diagnostics
        .filter((d) => d.severity === 'error')
        .map(
          (d) =>
            `${path.basename(d.file) === name ? '' : path.relative(INVALID, d.file) + ':'}${d.line}:${d.column} ${d.message}`,
        );
      assert.deepEqual(got, expected);
    });
  }
});
