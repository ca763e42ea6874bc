/**
 * The contract between a check's scheduler (check-runner.ts) and the protocol probes (tcp, http, misc,
 * dns): the runner calls start() for each attempt and abort() at the deadline or on removal; the probe
 * reports exactly one result per attempt through its sink, never after abort().
 */

/** No dynamic weight in a result. */
export const NO_WEIGHT = -1;

export interface ProbeSink {
  /** One attempt's outcome; weight is a dynamic weight reported by the server, or NO_WEIGHT. */
  probeResult(ok: boolean, reason: string, weight: number): void;
}

export interface Probe {
  start(): void;
  /** Stops the attempt in flight, releasing its socket or process; no result follows. */
  abort(): void;
}

/** A short failure reason from a socket or system error. */
export function errorReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'reset';
    case 'ETIMEDOUT':
      return 'timeout';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'unreachable';
    case 'EADDRINUSE':
    case 'EADDRNOTAVAIL':
    case 'EACCES':
      return `bind failed (${e.code})`;
    case undefined:
      return `error: ${e?.message ?? String(err)}`;
    default:
      return `error ${e.code}`;
  }
}
