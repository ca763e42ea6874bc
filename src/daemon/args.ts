import { UsageError } from '../cli/usage-error';

export interface DaemonArgs {
  help: boolean;
  version: boolean;
}

/** Parses lbd's command line. Throws UsageError on anything it does not know. */
export function parseDaemonArgs(argv: readonly string[]): DaemonArgs {
  const args: DaemonArgs = { help: false, version: false };
  for (const arg of argv) {
    switch (arg) {
      case '-h':
      case '--help':
        args.help = true;
        break;
      case '-V':
      case '--version':
        args.version = true;
        break;
      default:
        if (arg.startsWith('-')) throw new UsageError(`unknown option '${arg}'`);
        throw new UsageError(`unexpected argument '${arg}'`);
    }
  }
  return args;
}

export const DAEMON_USAGE = `Usage: lbd [options]

lbd programs the kernel's IPVS tables, checks the health of real servers and
holds the virtual IPs with VRRP.

Options:
  -h, --help       print this help and exit
  -V, --version    print the version and exit
`;
