/**
 * One check of one target, shared by every real server entry that uses it: schedules attempts on the
 * shared Scheduler (first one at a random point of the interval or warmup, then every delay_loop),
 * bounds each attempt by its deadline, retries failures while up (retry, delay_before_retry), and keeps
 * the up/down state with separate rise and fall counts, the reason and the time of the last transition.
 */
import { CheckSpec } from './config';
import { DnsProbe } from './dns-check';
import { HttpProbe } from './http-check';
import { MiscProbe } from './misc-check';
import { NativeTcp } from './native-tcp';
import { NO_WEIGHT, Probe, ProbeSink } from './probe';
import { Scheduler, TaskSlot } from './scheduler';
import { ScriptPool } from './script-pool';
import { createTcpProbe } from './tcp-check';

export interface CheckObserver {
  /** The check went up or down, or its dynamic weight changed. */
  checkChanged(check: SharedCheck): void;
}

export interface CheckHooks {
  /** A failed attempt (only for checks with log_all_failures). */
  attemptFailed(check: SharedCheck, reason: string, retrying: boolean): void;
  /** Every completed attempt, with its duration on the scheduler's clock. */
  attemptDone(check: SharedCheck, ok: boolean, reason: string, retrying: boolean, durationMs: number): void;
}

/** Scheduling statistics over all checks. */
export class CheckStats {
  /** Attempts completed. */
  attempts = 0;
  failures = 0;
  /** Scheduled (non-retry) starts. */
  starts = 0;
  /** Starts later than 10% of the interval after their due time. */
  late = 0;
  maxLateMs = 0;
  sumLateMs = 0;
}

export interface CheckContext {
  scheduler: Scheduler;
  scripts: ScriptPool;
  /** The addon's TCP prober for TCP_CHECK, null when unavailable. */
  nativeTcp: NativeTcp | null;
  stats: CheckStats;
  hooks: CheckHooks;
  random: () => number;
  /** Wall clock for transition times (epoch ms). */
  wallClock: () => number;
}

export function createProbe(spec: CheckSpec, sink: ProbeSink, ctx: CheckContext): Probe {
  switch (spec.checker) {
    case 'TCP_CHECK':
      return createTcpProbe(spec, sink, ctx.nativeTcp);
    case 'HTTP_GET':
    case 'SSL_GET':
      return new HttpProbe(spec, sink);
    case 'MISC_CHECK':
      return new MiscProbe(spec, sink, ctx.scripts);
    case 'DNS_CHECK':
      return new DnsProbe(spec, sink);
  }
}

export class SharedCheck implements ProbeSink {
  readonly observers = new Set<CheckObserver>();
  up: boolean;
  reason: string;
  /** Epoch ms of the last transition (or of creation). */
  since: number;
  /** Dynamic weight reported by the server (MISC_CHECK misc_dynamic, HTTP weight header), or NO_WEIGHT. */
  weight = NO_WEIGHT;
  okCount = 0;
  failCount = 0;
  private retriesUsed = 0;
  private inFlight = false;
  private retrying = false;
  private cycleDue = 0;
  private running = false;
  private readonly probe: Probe;
  private readonly tick = new TaskSlot(this, SharedCheck.prototype.onTick);
  private readonly deadline = new TaskSlot(this, SharedCheck.prototype.onDeadline);
  private attempt = 0;
  /** Scheduler time the attempt in flight started. */
  private startedAt = 0;
  private expiring = -1;
  private readonly confirmDeadline = (): void => this.expire();

  constructor(
    readonly key: string,
    readonly spec: CheckSpec,
    private readonly ctx: CheckContext,
  ) {
    this.up = !spec.alpha;
    this.reason = spec.alpha ? 'alpha: waiting for the first success' : 'not checked yet';
    this.since = ctx.wallClock();
    this.probe = createProbe(spec, this, ctx);
  }

  get name(): string {
    return `${this.spec.checker} ${this.spec.ip}:${this.spec.port}`;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const spread = this.spec.warmupMs ?? this.spec.intervalMs;
    this.ctx.scheduler.after(this.tick, this.ctx.random() * spread);
  }

  stop(): void {
    this.running = false;
    this.ctx.scheduler.cancel(this.tick);
    this.ctx.scheduler.cancel(this.deadline);
    if (this.inFlight) {
      this.inFlight = false;
      this.probe.abort();
    }
    this.observers.clear();
  }

  private onTick(now: number): void {
    if (this.retrying) {
      this.retrying = false;
    } else {
      const stats = this.ctx.stats;
      const late = now - this.tick.due;
      stats.starts++;
      if (late > 0) {
        stats.sumLateMs += late;
        if (late > stats.maxLateMs) stats.maxLateMs = late;
        if (late > this.spec.intervalMs * 0.1) stats.late++;
      }
      this.cycleDue = this.tick.due;
    }
    this.inFlight = true;
    this.attempt++;
    this.startedAt = now;
    this.ctx.scheduler.at(this.deadline, now + this.spec.timeoutMs);
    this.probe.start();
  }

  /**
   * The deadline passed: the attempt fails with 'timeout' after one more I/O poll (setImmediate), so
   * an answer that arrived while the event loop was busy is not mistaken for a timeout.
   */
  private onDeadline(): void {
    if (!this.inFlight || this.expiring === this.attempt) return;
    this.expiring = this.attempt;
    setImmediate(this.confirmDeadline);
  }

  private expire(): void {
    if (!this.inFlight || this.expiring !== this.attempt || !this.running) return;
    this.probe.abort();
    this.finish(false, 'timeout', NO_WEIGHT);
  }

  probeResult(ok: boolean, reason: string, weight: number): void {
    if (!this.inFlight) return;
    this.ctx.scheduler.cancel(this.deadline);
    this.finish(ok, reason, weight);
  }

  private finish(ok: boolean, reason: string, weight: number): void {
    this.inFlight = false;
    const ctx = this.ctx;
    const now = ctx.scheduler.now();
    ctx.stats.attempts++;
    const retrying = !ok && this.up && this.retriesUsed < this.spec.retry;
    ctx.hooks.attemptDone(this, ok, reason, retrying, now - this.startedAt);
    let changed = false;
    if (ok) {
      this.retriesUsed = 0;
      this.failCount = 0;
      this.okCount++;
      if (weight !== NO_WEIGHT && weight !== this.weight) {
        this.weight = weight;
        changed = true;
      }
      if (!this.up && this.okCount >= this.spec.rise) {
        this.up = true;
        this.reason = reason;
        this.since = ctx.wallClock();
        changed = true;
      } else if (this.up) this.reason = reason;
    } else {
      ctx.stats.failures++;
      if (retrying) {
        this.retriesUsed++;
        if (this.spec.logAllFailures) ctx.hooks.attemptFailed(this, reason, true);
        this.retrying = true;
        ctx.scheduler.at(this.tick, now + this.spec.retryDelayMs);
        return;
      }
      this.retriesUsed = 0;
      this.okCount = 0;
      this.failCount++;
      if (this.spec.logAllFailures) ctx.hooks.attemptFailed(this, reason, false);
      if (this.up && this.failCount >= this.spec.fall) {
        this.up = false;
        this.since = ctx.wallClock();
        changed = true;
      }
      if (!this.up) this.reason = reason;
    }
    if (this.running) {
      let next = this.cycleDue + this.spec.intervalMs;
      if (next < now) next = now;
      ctx.scheduler.at(this.tick, next);
    }
    if (changed) for (const o of this.observers) o.checkChanged(this);
  }
}
