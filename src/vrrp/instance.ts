// The VRRP state machine of RFC 5798 section 6.4 (and RFC 3768 for v2), one per virtual router,
// independent of sockets and netlink: I/O goes through InstanceIo, time through the global timers
// (so tests drive it with node:test mock.timers).
import { EventEmitter } from 'node:events';
import { compareIp } from '../net/ip';
import { EventStream, VrrpState } from './events';
import { Advert, VrrpVersion } from './packet';
import { masterDownMs } from './timing';

export interface GarpConfig {
  /** Delay of the second burst after becoming master, ms (keepalived garp_master_delay, default 5 s; 0: none). */
  masterDelayMs: number;
  /** Packets per burst (garp_master_repeat, default 5). */
  masterRepeat: number;
  /** Period of refresh bursts while master, ms (garp_master_refresh, 0: none). */
  masterRefreshMs: number;
  /** Packets per refresh burst (garp_master_refresh_repeat, default 1). */
  masterRefreshRepeat: number;
  /** Spacing of the packets in a burst, ms (garp_interval / gna_interval, default 0). */
  intervalMs: number;
}

export const DEFAULT_GARP: GarpConfig = {
  masterDelayMs: 5000,
  masterRepeat: 5,
  masterRefreshMs: 0,
  masterRefreshRepeat: 1,
  intervalMs: 0,
};

export interface InstanceSettings {
  name: string;
  vrid: number;
  version: VrrpVersion;
  /** Configured priority, 1..255 (255: address owner). */
  priority: number;
  intervalCs: number;
  preempt: boolean;
  preemptDelayMs: number;
  /** Start as master without waiting (keepalived `state MASTER`). */
  initialMaster: boolean;
  /** Our primary address (the source of our adverts), to break priority ties. */
  primaryAddress: string;
  garp: GarpConfig;
  /**
   * Base of the Skew_Time a backup waits after a priority 0 advert, ms. RFC 5798 uses
   * Master_Adver_Interval (undefined or 0 here): 609 ms for priority 100 at 1 s. lbd defaults to
   * 20 ms (12 ms for priority 100): higher priorities still go first, by (priority difference / 256)
   * x 20 ms, far more than a LAN's latency; two backups ending up master together resolve it by the
   * usual master / master rule within one advert.
   */
  shutdownSkewBaseMs?: number;
}

export interface InstanceIo {
  /** Sends one advertisement with this priority. */
  sendAdvert(priority: number): void;
  /** Adds the virtual addresses (idempotent). */
  takeVips(): void;
  /** Removes the virtual addresses (idempotent). */
  releaseVips(): void;
  /** Sends one gratuitous ARP / unsolicited NA per virtual address. */
  sendGratuitous(): void;
}

export interface InstanceCounters {
  becameMaster: number;
  releasedMaster: number;
  advertsSent: number;
  advertsReceived: number;
  priorityZeroReceived: number;
  priorityZeroSent: number;
  duplicateMaster: number;
  gratuitousBursts: number;
}

/** Tracking inputs: each either faults the instance or moves its priority. */
interface TrackInput {
  fault: boolean;
  delta: number;
}

type Timer = ReturnType<typeof setTimeout>;

export interface SyncGate {
  /** May this member become master now? (false when another member still hears a live master) */
  canBecomeMaster(member: VrrpInstance): boolean;
}

export class VrrpInstance extends EventEmitter {
  state: VrrpState = 'INIT';
  /** Master_Adver_Interval as learnt from the master (v3), centiseconds. */
  masterAdverIntervalCs: number;
  readonly counters: InstanceCounters = {
    becameMaster: 0,
    releasedMaster: 0,
    advertsSent: 0,
    advertsReceived: 0,
    priorityZeroReceived: 0,
    priorityZeroSent: 0,
    duplicateMaster: 0,
    gratuitousBursts: 0,
  };
  /** Address of the current master as last heard (backup), or ours (master). */
  masterAddress: string | undefined;
  lastAdvertAt = 0;
  syncGate: SyncGate | undefined;

  private readonly tracks = new Map<string, TrackInput>();
  private downTimer: Timer | undefined;
  private advertTimer: Timer | undefined;
  private preemptTimer: Timer | undefined;
  private readonly garpTimers = new Set<Timer>();
  private effective: number;

  constructor(
    readonly settings: InstanceSettings,
    private readonly io: InstanceIo,
    private readonly events: EventStream,
  ) {
    super();
    if (settings.priority < 1 || settings.priority > 255)
      throw new Error(`${settings.name}: priority 1..255`);
    this.masterAdverIntervalCs = settings.intervalCs;
    this.effective = settings.priority;
  }

  get name(): string {
    return this.settings.name;
  }

  /** Priority after tracking (1..254; 255 only for the address owner, which tracking does not move). */
  get priority(): number {
    return this.effective;
  }

  get faulted(): boolean {
    for (const t of this.tracks.values()) if (t.fault) return true;
    return false;
  }

  get faultReasons(): string[] {
    return [...this.tracks].filter(([, t]) => t.fault).map(([k]) => k);
  }

  get masterDownIntervalMs(): number {
    return masterDownMs(this.settings.version, this.effective, this.masterAdverIntervalCs);
  }

  start(): void {
    if (this.state !== 'INIT') return;
    if (this.faulted) return this.enter('FAULT', 'tracking failed at start');
    if (this.effective === 255 || this.settings.initialMaster) return this.becomeMaster('startup');
    this.becomeBackup('startup');
  }

  /** Shutdown: a master sends priority 0 so a backup takes over at once, then releases the VIPs. */
  stop(): void {
    if (this.state === 'STOP') return;
    const wasMaster = this.state === 'MASTER';
    this.clearTimers();
    if (wasMaster) {
      this.sendAdvert(0);
      this.io.releaseVips();
      this.counters.releasedMaster++;
    }
    this.enter('STOP', 'shutdown');
  }

  /**
   * Sets a tracking input (track_interface, track_script, external health). fault puts the instance
   * in FAULT; delta moves the priority (ignored for the address owner).
   */
  setTrack(key: string, input: { fault?: boolean; delta?: number }, why = key): void {
    const prev = this.tracks.get(key);
    const next = { fault: input.fault ?? false, delta: input.delta ?? 0 };
    if (prev && prev.fault === next.fault && prev.delta === next.delta) return;
    this.tracks.set(key, next);
    this.reevaluate(why);
  }

  clearTrack(key: string): void {
    if (this.tracks.delete(key)) this.reevaluate(`${key} removed`);
  }

  private reevaluate(why: string): void {
    const before = this.effective;
    this.effective = this.computePriority();
    if (before !== this.effective) {
      this.events.publish({
        type: 'priority',
        instance: this.name,
        from: before,
        to: this.effective,
        reason: why,
      });
      // A master announces its new priority at once so a preempting backup can react.
      if (this.state === 'MASTER') this.sendAdvert(this.effective);
    }
    if (this.state === 'STOP' || this.state === 'INIT') return;
    if (this.faulted && this.state !== 'FAULT') {
      if (this.state === 'MASTER') {
        this.sendAdvert(0);
        this.io.releaseVips();
        this.counters.releasedMaster++;
      }
      this.clearTimers();
      this.enter('FAULT', why);
    } else if (!this.faulted && this.state === 'FAULT') {
      if (this.effective === 255) this.becomeMaster(`${why} (recovered)`);
      else this.becomeBackup(`${why} (recovered)`);
    }
  }

  private computePriority(): number {
    if (this.settings.priority === 255) return 255;
    let p = this.settings.priority;
    for (const t of this.tracks.values()) p += t.delta;
    return Math.max(1, Math.min(254, p));
  }

  /** An advertisement that passed the receive checks, from src. */
  onAdvert(a: Advert, src: string): void {
    this.counters.advertsReceived++;
    if (a.priority === 0) this.counters.priorityZeroReceived++;
    if (this.state === 'BACKUP') return this.backupAdvert(a, src);
    if (this.state === 'MASTER') return this.masterAdvert(a, src);
  }

  private backupAdvert(a: Advert, src: string): void {
    if (a.priority === 0) {
      // The master is leaving: take over after Skew_Time only.
      this.lastAdvertAt = 0;
      const base = this.settings.shutdownSkewBaseMs
        ? this.settings.shutdownSkewBaseMs
        : this.settings.version === 2
          ? 1000
          : this.masterAdverIntervalCs * 10;
      this.armDown(((256 - this.effective) * base) / 256);
      return;
    }
    if (!this.settings.preempt || a.priority >= this.effective) {
      this.acceptMaster(a, src);
      this.cancelPreempt();
      return;
    }
    // A lower-priority master and we preempt.
    if (this.settings.preemptDelayMs > 0) {
      // preempt_delay: keep following the current master for that long after first seeing it with a
      // lower priority, then take over.
      if (this.preemptTimer === undefined) {
        this.preemptTimer = setTimeout(() => {
          this.preemptTimer = undefined;
          if (this.state === 'BACKUP') this.tryMaster('preempt_delay elapsed');
        }, this.settings.preemptDelayMs);
      }
      this.acceptMaster(a, src);
      return;
    }
    // RFC: discard; the Master_Down_Timer expires and we preempt.
  }

  private acceptMaster(a: Advert, src: string): void {
    this.setMaster(src);
    this.lastAdvertAt = Date.now();
    if (this.settings.version === 3) this.masterAdverIntervalCs = a.intervalCs;
    this.armDown(this.masterDownIntervalMs);
  }

  private masterAdvert(a: Advert, src: string): void {
    if (a.priority === 0) {
      // Another router resigned: re-assert at once.
      this.sendAdvert(this.effective);
      this.armAdvert();
      return;
    }
    const higher =
      a.priority > this.effective ||
      (a.priority === this.effective && compareIp(src, this.settings.primaryAddress) > 0);
    this.counters.duplicateMaster++;
    this.events.publish({
      type: 'duplicate_master',
      instance: this.name,
      peer: src,
      peerPriority: a.priority,
      priority: this.effective,
    });
    if (higher) {
      this.clearTimers();
      this.io.releaseVips();
      this.counters.releasedMaster++;
      this.setMaster(src);
      this.lastAdvertAt = Date.now();
      if (this.settings.version === 3) this.masterAdverIntervalCs = a.intervalCs;
      this.enter('BACKUP', `higher priority master ${src} (${a.priority})`);
      this.armDown(this.masterDownIntervalMs);
    } else {
      // We win: assert at once so the other one steps down quickly.
      this.sendAdvert(this.effective);
      this.armAdvert();
    }
  }

  /** Forces a state (sync groups). */
  force(state: 'MASTER' | 'BACKUP', reason: string): void {
    if (this.state === state || this.state === 'FAULT' || this.state === 'STOP' || this.state === 'INIT')
      return;
    if (state === 'MASTER') this.becomeMaster(reason);
    else {
      this.clearTimers();
      this.io.releaseVips();
      this.counters.releasedMaster++;
      this.becomeBackup(reason);
    }
  }

  /** True while this backup hears a live master (its down timer has not expired). */
  hearsMaster(): boolean {
    return (
      this.state === 'BACKUP' &&
      this.lastAdvertAt > 0 &&
      Date.now() - this.lastAdvertAt < this.masterDownIntervalMs
    );
  }

  private tryMaster(reason: string): void {
    if (this.syncGate && !this.syncGate.canBecomeMaster(this)) {
      this.armDown(this.masterDownIntervalMs);
      return;
    }
    this.becomeMaster(reason);
  }

  private becomeBackup(reason: string): void {
    this.clearTimers();
    this.masterAdverIntervalCs = this.settings.intervalCs;
    this.enter('BACKUP', reason);
    this.armDown(this.masterDownIntervalMs);
  }

  private becomeMaster(reason: string): void {
    this.clearTimers();
    this.sendAdvert(this.effective);
    this.io.takeVips();
    this.counters.becameMaster++;
    this.setMaster(this.settings.primaryAddress);
    this.enter('MASTER', reason);
    this.armAdvert();
    this.scheduleGratuitous();
  }

  private armDown(ms: number): void {
    if (this.downTimer) clearTimeout(this.downTimer);
    this.downTimer = setTimeout(() => {
      this.downTimer = undefined;
      if (this.state === 'BACKUP') this.tryMaster('master down timer expired');
    }, ms);
  }

  private armAdvert(): void {
    if (this.advertTimer) clearTimeout(this.advertTimer);
    this.advertTimer = setTimeout(() => {
      this.advertTimer = undefined;
      if (this.state !== 'MASTER') return;
      this.sendAdvert(this.effective);
      this.armAdvert();
    }, this.settings.intervalCs * 10);
  }

  private cancelPreempt(): void {
    if (this.preemptTimer) clearTimeout(this.preemptTimer);
    this.preemptTimer = undefined;
  }

  private sendAdvert(priority: number): void {
    this.counters.advertsSent++;
    if (priority === 0) this.counters.priorityZeroSent++;
    this.io.sendAdvert(priority);
  }

  private burst(count: number): void {
    this.counters.gratuitousBursts++;
    const g = this.settings.garp;
    for (let i = 0; i < count; i++) {
      if (i === 0 || g.intervalMs <= 0) {
        this.io.sendGratuitous();
        continue;
      }
      const t = setTimeout(() => {
        this.garpTimers.delete(t);
        if (this.state === 'MASTER') this.io.sendGratuitous();
      }, i * g.intervalMs);
      this.garpTimers.add(t);
    }
  }

  private scheduleGratuitous(): void {
    const g = this.settings.garp;
    this.burst(Math.max(1, g.masterRepeat));
    if (g.masterDelayMs > 0) {
      const t = setTimeout(() => {
        this.garpTimers.delete(t);
        if (this.state === 'MASTER') this.burst(Math.max(1, g.masterRepeat));
      }, g.masterDelayMs);
      this.garpTimers.add(t);
    }
    if (g.masterRefreshMs > 0) {
      const refresh = (): void => {
        const t = setTimeout(() => {
          this.garpTimers.delete(t);
          if (this.state !== 'MASTER') return;
          this.burst(Math.max(1, g.masterRefreshRepeat));
          refresh();
        }, g.masterRefreshMs);
        this.garpTimers.add(t);
      };
      refresh();
    }
  }

  private clearTimers(): void {
    if (this.downTimer) clearTimeout(this.downTimer);
    if (this.advertTimer) clearTimeout(this.advertTimer);
    this.downTimer = undefined;
    this.advertTimer = undefined;
    this.cancelPreempt();
    for (const t of this.garpTimers) clearTimeout(t);
    this.garpTimers.clear();
  }

  /** Records the master heard (or this router, as master); a different one than before is published
   * as a master_change event (and emitted as 'master'). */
  private setMaster(address: string): void {
    const from = this.masterAddress;
    this.masterAddress = address;
    if (from === address) return;
    this.events.publish({
      type: 'master_change',
      instance: this.name,
      ...(from !== undefined ? { from } : {}),
      to: address,
      self: address === this.settings.primaryAddress,
    });
    this.emit('master', from, address);
  }

  private enter(to: VrrpState, reason: string): void {
    const from = this.state;
    this.state = to;
    this.events.publish({
      type: 'transition',
      instance: this.name,
      from,
      to,
      reason,
      priority: this.effective,
    });
    this.emit('transition', from, to, reason);
  }
}
