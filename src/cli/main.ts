import { VERSION } from '../version';
import { UsageError, reportUsageError } from './usage-error';
import { runImport, runValidate } from '../config/report';
import type { LoadOptions } from '../config/load';

export const LBCTL_USAGE = `Usage: lbctl [options]
       lbctl validate [--format yaml|keepalived] [--host-checks MODE] [-i ID] FILE
       lbctl import-keepalived [-i ID] FILE

lbctl is an ipvsadm-compatible command line for the kernel's IPVS tables and
the control client of the running lbd daemon.

Commands:
  validate FILE           check a configuration (lbd YAML or keepalived.conf,
                          detected from the content), print every error with
                          file:line:column; exit 0 valid, 1 invalid, 2 unreadable
  import-keepalived FILE  print the lbd YAML equivalent of a keepalived.conf

Options:
  -h, --help       print this help and exit
  -V, --version    print the version and exit
`;

/** FILE and the options of validate / import-keepalived. */
function configCommand(
  cmd: string,
  argv: readonly string[],
  allowed: ReadonlySet<string>,
): { file: string; opts: LoadOptions } {
  const opts: LoadOptions = {};
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let v: string | undefined;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    if (eq > 0) {
      v = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    if (a.startsWith('-') && a !== '-') {
      if (!allowed.has(a)) throw new UsageError(`unknown option '${a}' for ${cmd}`);
      if (v === undefined) {
        if (i + 1 >= argv.length) throw new UsageError(`option '${a}' needs a value`);
        v = argv[++i];
      }
      if (a === '--format') {
        if (v !== 'yaml' && v !== 'keepalived')
          throw new UsageError(`--format must be yaml or keepalived, not '${v}'`);
        opts.format = v;
      } else if (a === '--host-checks') {
        if (v !== 'error' && v !== 'warning' && v !== 'off')
          throw new UsageError(`--host-checks must be error, warning or off, not '${v}'`);
        opts.hostChecks = v;
      } else opts.configId = v;
      continue;
    }
    if (file !== undefined) throw new UsageError(`${cmd} takes one file, got '${file}' and '${a}'`);
    file = a;
  }
  if (file === undefined) throw new UsageError(`${cmd} needs a file`);
  return { file, opts };
}

export function main(argv: readonly string[]): number {
  try {
    if (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h')) {
      process.stdout.write(LBCTL_USAGE);
      return 0;
    }
    if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
      process.stdout.write(`lbctl ${VERSION} (lbd)\n`);
      return 0;
    }
    if (argv[0] === 'validate') {
      const { file, opts } = configCommand(
        'validate',
        argv.slice(1),
        new Set(['--format', '--host-checks', '-i', '--config-id']),
      );
      return runValidate('lbctl', file, { hostChecks: 'warning', ...opts });
    }
    if (argv[0] === 'import-keepalived') {
      const { file, opts } = configCommand(
        'import-keepalived',
        argv.slice(1),
        new Set(['-i', '--config-id']),
      );
      return runImport('lbctl', file, opts);
    }
    const bad = argv.find((a) => a.startsWith('-')) ?? argv[0];
    throw new UsageError(bad === undefined ? 'no command given' : `unknown option '${bad}'`);
  } catch (err) {
    if (err instanceof UsageError) return reportUsageError('lbctl', err);
    throw err;
  }
}
