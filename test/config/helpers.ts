/** Paths and small helpers shared by the configuration tests. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  type LoadOptions,
  type ValidationResult,
  validateConfigFile,
  validateConfigText,
} from '../../src/config/load';
import type { Diagnostic } from '../../src/config/diagnostics';

/** The checkout (dist/test/config -> ../../..). */
export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const FIXTURES = path.join(ROOT, 'test', 'config', 'fixtures');
export const INVALID = path.join(ROOT, 'test', 'config', 'invalid');
export const REFERENCE = path.resolve(ROOT, '..', 'shared', 'reference');

/** Validation as the tests want it: no host checks, a fixed config id. */
export function validate(file: string, opts: LoadOptions = {}): ValidationResult {
  return validateConfigFile(file, { hostChecks: 'off', configId: 'test', ...opts });
}

export function validateText(
  text: string,
  format: 'yaml' | 'keepalived',
  opts: LoadOptions = {},
): ValidationResult {
  const name = format === 'yaml' ? 'inline.yaml' : 'inline.conf';
  return validateConfigText(name, text, { hostChecks: 'off', configId: 'test', format, ...opts });
}

/** "line:column message" of each error (and of warnings with all). */
export function messages(r: ValidationResult, all = false): string[] {
  return r.diagnostics
    .filter((d) => all || d.severity === 'error')
    .map((d: Diagnostic) => `${d.line}:${d.column} ${d.message}`);
}

/** A fresh temporary directory with the given files (path -> text). */
export function tempFiles(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbd-config-test-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** A deterministic pseudo-random generator (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
