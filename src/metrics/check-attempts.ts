// Every completed health-check attempt (checker type, success, duration) of one health checker, for the
// check metrics: a thin view of HealthChecker's public 'attempt' event.
import type { AttemptEvent, HealthChecker } from '../health';

export interface CheckAttempt {
  checker: string;
  ok: boolean;
  seconds: number;
}

/** Calls `listener` for every attempt `health` completes; returns the unsubscribe function. */
export function onCheckAttempts(
  health: Pick<HealthChecker, 'on' | 'off'>,
  listener: (a: CheckAttempt) => void,
): () => void {
  const on = (e: AttemptEvent): void =>
    listener({ checker: e.checker, ok: e.ok, seconds: e.durationMs / 1000 });
  health.on('attempt', on);
  return () => health.off('attempt', on);
}
