/** What `lbctl validate`, `lbd --validate` and `lbctl import-keepalived` print, and their exit codes. */
import { formatDiagnostic } from './diagnostics';
import { type LoadOptions, summarize, validateConfigFile } from './load';

export const EXIT_VALID = 0;
export const EXIT_INVALID = 1;
export const EXIT_UNREADABLE = 2;

export interface Output {
  out: (s: string) => void;
  err: (s: string) => void;
}

const stdio: Output = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
};

/** Validates a file: every diagnostic on stderr, the summary on stdout; 0 valid, 1 invalid, 2 unreadable. */
export function runValidate(prog: string, file: string, opts: LoadOptions, io: Output = stdio): number {
  const r = validateConfigFile(file, opts);
  if (r.unreadable) {
    io.err(`${prog}: cannot read '${file}'\n`);
    return EXIT_UNREADABLE;
  }
  for (const d of r.diagnostics) io.err(formatDiagnostic(d) + '\n');
  if (!r.config) {
    io.err(
      `${prog}: ${file}: ${r.errors} error${r.errors === 1 ? '' : 's'}, ${r.warnings} warning${r.warnings === 1 ? '' : 's'}\n`,
    );
    return EXIT_INVALID;
  }
  io.out(summarize(r) + '\n');
  return EXIT_VALID;
}

/** Prints the YAML equivalent of a keepalived.conf on stdout; diagnostics on stderr. */
export function runImport(
  prog: string,
  file: string,
  opts: Pick<LoadOptions, 'configId'>,
  io: Output = stdio,
): number {
  // Loaded here so that validating does not load the YAML emitter.
  const { importKeepalived } = require('./yaml/emit') as typeof import('./yaml/emit');
  const r = importKeepalived(file, opts);
  if (r.unreadable) {
    io.err(`${prog}: cannot read '${file}'\n`);
    return EXIT_UNREADABLE;
  }
  for (const d of r.diagnostics) io.err(formatDiagnostic(d) + '\n');
  if (r.errors > 0) {
    io.err(`${prog}: ${file}: ${r.errors} error${r.errors === 1 ? '' : 's'}; nothing imported\n`);
    return EXIT_INVALID;
  }
  io.out(r.yaml);
  return EXIT_VALID;
}
