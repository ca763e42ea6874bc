// lbd as a process: starts the daemon, maps signals (SIGHUP reload, SIGTERM/SIGINT graceful stop) and
// ends with an exit code that says why it stopped.
import { ConfigError, formatDiagnostic } from '../config/diagnostics';
import { scavengeOnMainThread } from '../health';
import { IpvsError } from '../ipvs';
import type { ConfigFormat } from '../config/load';
import { Lbd, LbdStartError } from './lbd';
import { Logs, type Level, type Subsystem } from './logger';
import { PidFileError } from './pidfile';

/** Exit codes of lbd. */
export const EXIT = {
  /** Stopped by SIGTERM or SIGINT. */
  STOPPED: 0,
  /** The configuration is invalid (every error was printed). */
  CONFIG: 1,
  /** Bad command line. */
  USAGE: 2,
  /** Could not start: another lbd runs, no IPVS in the kernel, the control socket cannot be created... */
  START: 3,
  /** A fatal error while running. */
  FATAL: 4,
} as const;

export interface RunOptions {
  configFile: string;
  format?: ConfigFormat;
  hostChecks?: 'error' | 'warning' | 'off';
  configId?: string;
  pidFile?: string;
  socketPath?: string;
  stateFile?: string;
  logLevel: Level;
  logLevels: Partial<Record<Subsystem, Level>>;
  driftIntervalMs?: number;
  drainTimeoutMs?: number;
  metricsListen?: { address: string; port: number };
}

export async function runDaemon(opts: RunOptions): Promise<number> {
  scavengeOnMainThread(); // GC pauses that do not wait for helper threads (src/health/gc.ts)
  const logs = new Logs({ level: opts.logLevel, levels: opts.logLevels });
  const log = logs.for('daemon');
  const lbd = new Lbd({
    configFile: opts.configFile,
    logs,
    ...(opts.format ? { format: opts.format } : {}),
    ...(opts.hostChecks ? { hostChecks: opts.hostChecks } : {}),
    ...(opts.configId !== undefined ? { configId: opts.configId } : {}),
    ...(opts.pidFile ? { pidFile: opts.pidFile } : {}),
    ...(opts.socketPath ? { socketPath: opts.socketPath } : {}),
    stateFile: opts.stateFile ?? '/run/lbd/managed.json',
    ...(opts.driftIntervalMs ? { driftIntervalMs: opts.driftIntervalMs } : {}),
    ...(opts.drainTimeoutMs ? { drainTimeoutMs: opts.drainTimeoutMs } : {}),
    ...(opts.metricsListen ? { metricsListen: opts.metricsListen } : {}),
  });
  try {
    await lbd.start();
  } catch (err) {
    logs.flush();
    if (err instanceof ConfigError) {
      for (const d of err.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
      process.stderr.write(`lbd: ${opts.configFile}: not started, the configuration has errors\n`);
      return err.unreadable ? EXIT.USAGE : EXIT.CONFIG;
    }
    if (err instanceof LbdStartError || err instanceof PidFileError || err instanceof IpvsError) {
      process.stderr.write(`lbd: not started: ${err.message}\n`);
      return EXIT.START;
    }
    if (
      (err as NodeJS.ErrnoException).code === 'EACCES' ||
      /another lbd is running/.test((err as Error).message)
    ) {
      process.stderr.write(`lbd: not started: ${(err as Error).message}\n`);
      return EXIT.START;
    }
    throw err;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping');
      void lbd.stop().then(() => resolve(EXIT.STOPPED));
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => {
      lbd.reload().catch((err: Error) => log.error(`reload: ${err.message}`));
    });
    process.on('uncaughtException', (err) => {
      log.fatal({ err }, 'fatal error');
      void lbd.stop().then(() => resolve(EXIT.FATAL));
    });
  });
}
