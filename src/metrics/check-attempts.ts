// Every completed health-check attempt (checker type, success, duration), for the check metrics.
// The health checker has no per-attempt event, so this wraps SharedCheck's private finish() once per
// process (the wrapper only reads): an attempt started when its deadline was armed, at
// deadline.due - timeoutMs on the scheduler's clock. A proper hook (an 'attempt' event on
// HealthChecker) would replace this; see the README's Metrics section.
import { EventEmitter } from 'node:events';
import { SharedCheck } from '../health/check-runner';

export interface CheckAttempt {
  checker: string;
  ok: boolean;
  seconds: number;
}

export const checkAttempts = new EventEmitter<{ attempt: [CheckAttempt] }>();
checkAttempts.setMaxListeners(0);

interface FinishInternals {
  spec: { checker: string; timeoutMs: number };
  ctx: { scheduler: { now(): number } };
  deadline: { due: number };
  inFlight: boolean;
}
type Finish = (this: FinishInternals, ok: boolean, reason: string, weight: number) => void;

const proto = SharedCheck.prototype as unknown as { finish: Finish; __lbdMetrics?: true };
if (!proto.__lbdMetrics && typeof proto.finish === 'function') {
  const finish = proto.finish;
  proto.__lbdMetrics = true;
  proto.finish = function (this: FinishInternals, ok: boolean, reason: string, weight: number): void {
    const started = this.deadline.due - this.spec.timeoutMs;
    const seconds = Math.max(0, this.ctx.scheduler.now() - started) / 1000;
    finish.call(this, ok, reason, weight);
    if (checkAttempts.listenerCount('attempt') > 0)
      checkAttempts.emit('attempt', { checker: this.spec.checker, ok, seconds });
  };
}
