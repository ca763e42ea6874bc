import { VERSION } from '../version';
import { EXIT_USAGE, UsageError, reportUsageError } from '../cli/usage-error';
import { runValidate } from '../config/report';
import type { LoadOptions } from '../config/load';
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
    if (args.configFile === undefined) {
      if (args.validate) throw new UsageError('--validate needs a configuration: -f FILE');
      process.stderr.write('lbd: no configuration given (see lbd --help)\n');
      return EXIT_USAGE;
    }
    const opts: LoadOptions = {};
    if (args.format) opts.format = args.format;
    if (args.configId !== undefined) opts.configId = args.configId;
    if (args.validate) {
      opts.hostChecks = args.hostChecks ?? 'warning';
      return runValidate('lbd', args.configFile, opts);
    }
    process.stderr.write(
      'lbd: running the daemon is not part of this build yet; use --validate to check a configuration\n',
    );
    return EXIT_USAGE;
  } catch (err) {
    if (err instanceof UsageError) return reportUsageError('lbd', err);
    throw err;
  }
}
