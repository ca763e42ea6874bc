// lbd's JSON logs (pino): one line per event with time, level, subsystem and message; a level per
// subsystem (e.g. vrrp at debug, the rest at info); secrets (VRRP auth_pass, passwords) never logged.
import pino from 'pino';

import type { Level, Subsystem } from './log-levels';

export { LEVELS, SUBSYSTEMS, type Level, type Subsystem } from './log-levels';

export interface LogOptions {
  /** Default level of every subsystem. */
  level: Level;
  /** Per-subsystem overrides. */
  levels?: Partial<Record<Subsystem, Level>>;
  /** Where lines go: a stream (tests) or a file descriptor (default 1, stdout). */
  destination?: pino.DestinationStream | number;
}

export type Logger = pino.Logger;

const SECRET_KEYS = ['auth_pass', 'authPass', 'password', 'secret'];
const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `*.*.*.${k}`, `*.*.*.*.${k}`]);

export class Logs {
  readonly root: Logger;
  private readonly children = new Map<Subsystem, Logger>();

  constructor(private options: LogOptions) {
    const dest =
      typeof options.destination === 'object'
        ? options.destination
        : pino.destination({ fd: options.destination ?? 1, sync: false });
    this.root = pino(
      {
        level: 'trace',
        base: { pid: process.pid },
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      },
      dest,
    );
  }

  /** The logger of a subsystem, at its configured level. */
  for(subsystem: Subsystem): Logger {
    let child = this.children.get(subsystem);
    if (!child) {
      child = this.root.child({ subsystem }, { level: this.levelOf(subsystem) });
      this.children.set(subsystem, child);
    }
    return child;
  }

  /** Applies new levels (on reload) to the existing subsystem loggers. */
  setLevels(level: Level, levels: Partial<Record<Subsystem, Level>> = {}): void {
    this.options = { ...this.options, level, levels };
    for (const [subsystem, child] of this.children) child.level = this.levelOf(subsystem);
  }

  flush(): void {
    this.root.flush();
  }

  private levelOf(subsystem: Subsystem): Level {
    return this.options.levels?.[subsystem] ?? this.options.level;
  }
}
