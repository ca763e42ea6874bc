import { VERSION } from '../version';
import { UsageError, reportUsageError } from './usage-error';

export const LBCTL_USAGE = `Usage: lbctl [options]

lbctl is an ipvsadm-compatible command line for the kernel's IPVS tables and
the control client of the running lbd daemon.

Options:
  -h, --help       print this help and exit
  -V, --version    print the version and exit
`;

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
    const bad = argv.find((a) => a.startsWith('-')) ?? argv[0];
    throw new UsageError(bad === undefined ? 'no command given' : `unknown option '${bad}'`);
  } catch (err) {
    if (err instanceof UsageError) return reportUsageError('lbctl', err);
    throw err;
  }
}
