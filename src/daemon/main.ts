import { VERSION } from '../version';
import { EXIT_USAGE, UsageError, reportUsageError } from '../cli/usage-error';
import { DAEMON_USAGE, parseDaemonArgs } from './args';

export function main(argv: readonly string[]): number {
  try {
    const args = parseDaemonArgs(argv);
    if (args.help) {
      process.stdout.write(DAEMON_USAGE);
      return 0;
    }
    if (args.version) {
      process.stdout.write(`lbd ${VERSION}\n`);
      return 0;
    }
    process.stderr.write('lbd: no configuration given (see lbd --help)\n');
    return EXIT_USAGE;
  } catch (err) {
    if (err instanceof UsageError) return reportUsageError('lbd', err);
    throw err;
  }
}
