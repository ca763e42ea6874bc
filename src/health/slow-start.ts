/**
 * Slow start: a server coming back ramps from weight 1 to its full weight over `durationMs`, in
 * min(20, full) equal steps, so lc/wlc schedulers do not send it every new connection at once. The
 * full weight may change during the ramp (dynamic weight); the ramp keeps its fraction.
 */
export const MAX_RAMP_STEPS = 20;

export class SlowStartRamp {
  private startedAt = -1;
  private step = 0;
  private steps = 1;

  constructor(public durationMs: number) {}

  get active(): boolean {
    return this.startedAt >= 0;
  }

  /** Starts a ramp at `now` towards `full`; returns false when no ramp is needed. */
  start(now: number, full: number): boolean {
    if (this.durationMs <= 0 || full <= 1) {
      this.stop();
      return false;
    }
    this.startedAt = now;
    this.step = 0;
    this.steps = Math.min(MAX_RAMP_STEPS, full);
    return true;
  }

  stop(): void {
    this.startedAt = -1;
  }

  /** The current weight for a full weight of `full`. */
  weight(full: number): number {
    if (!this.active) return full;
    return Math.max(1, Math.round((full * this.step) / this.steps));
  }

  /** When the next step is due (absolute, same clock as start), or -1 when not ramping. */
  nextAt(): number {
    if (!this.active) return -1;
    return this.startedAt + ((this.step + 1) * this.durationMs) / this.steps;
  }

  /** Advances one step; the ramp ends (inactive) at the last one. */
  advance(): void {
    if (!this.active) return;
    if (++this.step >= this.steps) this.stop();
  }
}
