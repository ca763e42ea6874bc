/**
 * State of one real server in one virtual service: up when all its checks are up, with the reason and
 * time of the last transition; and its output weight: the configured weight (or the dynamic weight a
 * check reported) when up, ramped by slow start after coming back; 0 (inhibit_on_failure) or removal
 * when down.
 */
import { CheckObserver, SharedCheck } from './check-runner';
import { ServerStateEvent, WeightEvent, WeightReason } from './events';
import { NO_WEIGHT } from './probe';
import { Scheduler, TaskSlot } from './scheduler';
import { SlowStartRamp } from './slow-start';

export interface ServerSettings {
  weight: number;
  inhibit: boolean;
  slowStartMs: number;
}

export interface ServerHost {
  readonly id: string;
  readonly scheduler: Scheduler;
  wallClock(): number;
  emitServer(e: ServerStateEvent): void;
  emitWeight(e: WeightEvent): void;
  /** A server's contribution to the sum of live weights changed by `delta`. */
  addLive(delta: number): void;
  /** A server's liveness or full weight changed: re-evaluate the quorum. */
  serversChanged(reason: string): void;
}

export interface ServerStatus {
  server: string;
  ip: string;
  port: number;
  up: boolean;
  reason: string;
  check: string;
  since: number;
  weight: number;
  present: boolean;
  fullWeight: number;
  configuredWeight: number;
  checks: { check: string; up: boolean; reason: string; since: number; weight: number }[];
}

export class ServerEntry implements CheckObserver {
  up = false;
  reason = '';
  check = '';
  since: number;
  weight = 0;
  present = false;
  private readonly ramp: SlowStartRamp;
  /** The live weight this server added to its virtual service's sum. */
  private counted = 0;
  private readonly rampTask = new TaskSlot(this, ServerEntry.prototype.onRampStep);
  private attached = false;

  constructor(
    readonly host: ServerHost,
    readonly id: string,
    readonly ip: string,
    readonly port: number,
    public settings: ServerSettings,
    public checks: SharedCheck[],
  ) {
    this.since = host.wallClock();
    this.ramp = new SlowStartRamp(settings.slowStartMs);
  }

  /** Subscribes to the checks and emits the initial state and weight (reason 'added'). */
  attach(): void {
    this.attached = true;
    for (const c of this.checks) c.observers.add(this);
    this.evaluate('added');
  }

  /** Unsubscribes; with `announce`, emits the removal as a weight event. */
  detach(announce: boolean): SharedCheck[] {
    this.attached = false;
    this.host.scheduler.cancel(this.rampTask);
    for (const c of this.checks) c.observers.delete(this);
    this.host.addLive(-this.counted);
    this.counted = 0;
    if (announce && this.present) this.setWeight(0, false, 'removed', 'removed from the configuration');
    return this.checks;
  }

  /** Replaces the checks (already started); returns the old ones for release. */
  replaceChecks(checks: SharedCheck[]): SharedCheck[] {
    const old = this.checks;
    for (const c of old) c.observers.delete(this);
    this.checks = checks;
    for (const c of checks) c.observers.add(this);
    this.evaluate('config');
    return old;
  }

  updateSettings(settings: ServerSettings): void {
    this.settings = settings;
    this.ramp.durationMs = settings.slowStartMs;
    if (settings.slowStartMs <= 0) this.stopRamp();
    this.evaluate('config');
  }

  /** Weight when up, before slow start: the latest dynamic weight a check reported, else configured. */
  fullWeight(): number {
    for (const c of this.checks) if (c.weight !== NO_WEIGHT) return c.weight;
    return this.settings.weight;
  }

  /** Weight counted for the quorum: the full weight when up, else 0. */
  liveWeight(): number {
    return this.up ? this.fullWeight() : 0;
  }

  checkChanged(): void {
    if (this.attached) this.evaluate('check');
  }

  status(): ServerStatus {
    return {
      server: this.id,
      ip: this.ip,
      port: this.port,
      up: this.up,
      reason: this.reason,
      check: this.check,
      since: this.since,
      weight: this.weight,
      present: this.present,
      fullWeight: this.fullWeight(),
      configuredWeight: this.settings.weight,
      checks: this.checks.map((c) => ({
        check: c.name,
        up: c.up,
        reason: c.reason,
        since: c.since,
        weight: c.weight,
      })),
    };
  }

  private evaluate(cause: 'added' | 'check' | 'config'): void {
    let up = true;
    let reason = 'no checks';
    let check = '';
    for (const c of this.checks) {
      if (!c.up) {
        up = false;
        reason = c.reason;
        check = c.name;
        break;
      }
    }
    if (up && this.checks.length > 0) {
      // The most recent transition explains the up state.
      let latest = this.checks[0];
      for (const c of this.checks) if (c.since > latest.since) latest = c;
      reason = latest.reason;
      check = latest.name;
    }
    const host = this.host;
    const prevUp = this.up;
    const transition = cause === 'added' || up !== prevUp;
    if (transition) {
      const now = host.wallClock();
      const previousAt = this.since;
      this.up = up;
      this.reason = reason;
      this.check = check;
      this.since = now;
      host.emitServer({
        vs: host.id,
        server: this.id,
        ip: this.ip,
        port: this.port,
        up,
        reason,
        check,
        initial: cause === 'added',
        at: now,
        previousAt: cause === 'added' ? now : previousAt,
      });
      // Coming back (not at addition, unless the server started as alpha): ramp up.
      const comingBack = up && cause !== 'added' && this.settings.slowStartMs > 0;
      if (comingBack) this.startRamp();
      if (!up) this.stopRamp();
    } else if (!up) {
      this.reason = reason;
      this.check = check;
    }
    const full = this.fullWeight();
    let weightReason: WeightReason;
    if (cause === 'added') weightReason = 'added';
    else if (transition) weightReason = up ? (this.ramp.active ? 'slow start' : 'up') : 'down';
    else weightReason = cause === 'config' ? 'config' : 'dynamic';
    if (up) {
      const w = this.ramp.weight(full);
      this.setWeight(w, true, weightReason, reason);
    } else {
      this.setWeight(0, this.settings.inhibit, weightReason, reason);
    }
    const live = this.liveWeight();
    if (live !== this.counted) {
      host.addLive(live - this.counted);
      this.counted = live;
    }
    if (cause !== 'added')
      host.serversChanged(
        transition ? `${this.id} ${up ? 'up' : 'down'}: ${reason}` : `${this.id} weight ${full}`,
      );
  }

  private startRamp(): void {
    const scheduler = this.host.scheduler;
    if (this.ramp.start(scheduler.now(), this.fullWeight())) scheduler.at(this.rampTask, this.ramp.nextAt());
  }

  private stopRamp(): void {
    this.ramp.stop();
    this.host.scheduler.cancel(this.rampTask);
  }

  private onRampStep(): void {
    if (!this.ramp.active || !this.up) return;
    this.ramp.advance();
    if (this.ramp.active) this.host.scheduler.at(this.rampTask, this.ramp.nextAt());
    this.setWeight(this.ramp.weight(this.fullWeight()), true, 'slow start', this.reason);
  }

  private setWeight(weight: number, present: boolean, reason: WeightReason, detail: string): void {
    const forced = reason === 'added';
    if (!forced && weight === this.weight && present === this.present) return;
    const previousWeight = this.weight;
    const previousPresent = this.present;
    this.weight = weight;
    this.present = present;
    this.host.emitWeight({
      vs: this.host.id,
      server: this.id,
      ip: this.ip,
      port: this.port,
      weight,
      present,
      previousWeight,
      previousPresent,
      reason,
      detail,
      at: this.host.wallClock(),
    });
  }
}
