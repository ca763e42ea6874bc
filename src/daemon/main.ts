import { setFlagsFromString } from 'node:v8';
import { VERSION } from '../version';
import { UsageError, reportUsageError } from '../cli/usage-error';
import { DAEMON_USAGE, parseDaemonArgs } from './args';

export async function main(argv: readonly string[]): Promise<number> {
  let args;
  try {
    args = parseDaemonArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) return reportUsageError('lbd', err);
    throw err;
  }
  if (args.help) {
    process.stdout.write(DAEMON_USAGE);
    return 0;
  }
  if (args.version) {
    process.stdout.write(`lbd ${VERSION}\n`);
    return 0;
  }
  if (args.validate) {
    // A validation is one burst of allocation whose model lives to the end: V8's pretenuring (old
    // space for allocation sites whose objects survived) only adds work here. bench/config-validate,
    // 540,000 lines, alternated on this machine: 0.72-0.77 s without it, 0.76-0.81 s with it.
    setFlagsFromString('--no-allocation-site-pretenuring');
    const { runValidate } = require('../config/report') as typeof import('../config/report');
    return runValidate('lbd', args.configFile, {
      ...(args.format ? { format: args.format } : {}),
      ...(args.hostChecks ? { hostChecks: args.hostChecks } : {}),
      ...(args.configId !== undefined ? { configId: args.configId } : {}),
    });
  }
  const { runDaemon } = require('./run') as typeof import('./run');
  return runDaemon({
    configFile: args.configFile,
    ...(args.format ? { format: args.format } : {}),
    ...(args.hostChecks ? { hostChecks: args.hostChecks } : {}),
    ...(args.configId !== undefined ? { configId: args.configId } : {}),
    pidFile: args.pidFile,
    ...(args.socketPath ? { socketPath: args.socketPath } : {}),
    stateFile: args.stateFile,
    logLevel: args.logLevel,
    logLevels: args.logLevels,
    driftIntervalMs: args.driftInterval * 1000,
    drainTimeoutMs: args.drainTimeout * 1000,
    ...(args.metricsListen ? { metricsListen: args.metricsListen } : {}),
  });
}
