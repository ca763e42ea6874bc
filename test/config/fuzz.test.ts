/**
 * Random mutations of valid configurations (both syntaxes): whatever the input, validation reports
 * problems as diagnostics and never throws; loading throws nothing but a ConfigError.
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../../src/config/diagnostics';
import { loadConfigFile, validateConfigText } from '../../src/config/load';
import { FIXTURES, REFERENCE, ROOT, prng, tempFiles } from './helpers';

const SEEDS = Number(process.env.LBD_FUZZ_SEEDS ?? 1500);

const TOKENS = [
  '{',
  '}',
  '{ }',
  '"',
  "'",
  ':',
  ': ',
  '- ',
  '\n',
  '  ',
  '\t',
  '#',
  '!',
  '@test ',
  '@^test ',
  '$A=1\n',
  '${A}',
  '$B',
  '~SEQ(X,1,2) ',
  '[',
  ']',
  '&a ',
  '*a',
  '<<: ',
  '0',
  '-1',
  '65536',
  '99999999999999999999',
  '1.5',
  '0x10',
  'true',
  'null',
  '~',
  '"a b"',
  '::',
  '10.0.0.1',
  'fd00::1',
  '10.0.0.1/33',
  '1s',
  '500ms',
  'TUN',
  'DR',
  'weight',
  'real_server',
  'virtual_server',
  'TCP_CHECK',
  'url',
  'include nothing-*.conf\n',
  'include: nothing-*.yaml\n',
  '\\',
  '\r',
  '\u00e9',
  '\u0000',
];

function mutate(text: string, rnd: () => number): string {
  let t = text;
  const n = 1 + Math.floor(rnd() * 4);
  for (let k = 0; k < n; k++) {
    const pos = Math.floor(rnd() * (t.length + 1));
    const op = Math.floor(rnd() * 7);
    if (op === 0) t = t.slice(0, pos) + t.slice(pos + 1 + Math.floor(rnd() * 20));
    else if (op === 1) t = t.slice(0, pos) + TOKENS[Math.floor(rnd() * TOKENS.length)] + t.slice(pos);
    else if (op === 2 || op === 3) {
      const lines = t.split('\n');
      const i = Math.floor(rnd() * lines.length);
      const j = Math.floor(rnd() * lines.length);
      if (op === 2) lines.splice(j, 0, lines[i]);
      else [lines[i], lines[j]] = [lines[j], lines[i]];
      t = lines.join('\n');
    } else if (op === 4) t = t.slice(0, pos);
    else if (op === 5) t = t.replace(/\d+/, () => String(Math.floor(rnd() * 2 ** 33) - 2 ** 31));
    else t = t.slice(0, pos) + String.fromCharCode(Math.floor(rnd() * 128)) + t.slice(pos);
  }
  return t;
}

const sources: Array<{ name: string; text: string }> = [];
for (const f of ['full.conf', 'full.yaml'])
  sources.push({ name: f, text: fs.readFileSync(path.join(FIXTURES, f), 'utf8') });
for (const f of fs.readdirSync(path.join(ROOT, 'config')).filter((x) => x.endsWith('.yaml')))
  sources.push({ name: f, text: fs.readFileSync(path.join(ROOT, 'config', f), 'utf8') });
if (fs.existsSync(REFERENCE))
  for (const f of fs.readdirSync(REFERENCE).filter((x) => x.endsWith('.conf')))
    sources.push({ name: f, text: fs.readFileSync(path.join(REFERENCE, f), 'utf8') });

describe('fuzz: mutations of valid files', () => {
  const dir = tempFiles({ 'placeholder.txt': '' });

  test(`${SEEDS} mutated files never make the loader throw`, () => {
    let invalid = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const rnd = prng(seed);
      const src = sources[seed % sources.length];
      const text = mutate(src.text, rnd);
      const file = path.join(dir, src.name);
      for (const format of [undefined, 'yaml', 'keepalived'] as const) {
        let r;
        try {
          r = validateConfigText(file, text, { hostChecks: 'off', configId: 'test', format });
        } catch (e) {
          assert.fail(
            `seed ${seed} (${src.name}, format ${format ?? 'detected'}) threw ${(e as Error).stack}\n--- input ---\n${text}`,
          );
        }
        assert.equal(
          r.config === undefined,
          r.errors > 0,
          `seed ${seed}: a model exactly when there is no error`,
        );
        for (const d of r.diagnostics) {
          assert.ok(
            d.line >= 1 && d.column >= 1,
            `seed ${seed}: positions are 1-based: ${JSON.stringify(d)}`,
          );
          assert.ok(d.message.length > 0);
        }
        if (r.errors > 0) invalid++;
      }
    }
    assert.ok(invalid > SEEDS / 2, `most mutations are caught (${invalid})`);
  });

  test('loading mutated files throws only ConfigError', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rnd = prng(seed * 7919);
      const src = sources[seed % sources.length];
      const file = path.join(dir, `m-${seed}-${src.name}`);
      fs.writeFileSync(file, mutate(src.text, rnd));
      try {
        loadConfigFile(file, { hostChecks: 'off', configId: 'test' });
      } catch (e) {
        assert.ok(e instanceof ConfigError, `seed ${seed}: ${(e as Error).stack}`);
      }
    }
    fs.rmSync(dir, { recursive: true });
  });
});
