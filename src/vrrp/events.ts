// The ordered event stream of the VRRP subsystem: every event gets the next sequence number, so a
// consumer (the daemon's control socket, the status page) can tell what it missed.
import { EventEmitter } from 'node:events';

export type VrrpState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP';

export type VrrpEventBody =
  | { type: 'transition'; instance: string; from: VrrpState; to: VrrpState; reason: string; priority: number }
  | { type: 'priority'; instance: string; from: number; to: number; reason: string }
  /** The master this instance hears changed (or it became master itself: self). `from` is absent the
   * first time a master is known. */
  | { type: 'master_change'; instance: string; from?: string; to: string; self: boolean }
  /** A virtual address appeared on or vanished from its interface (as the kernel reports it, whoever
   * added or removed it). */
  | { type: 'vip'; instance: string; address: string; dev: string; present: boolean }
  | { type: 'duplicate_master'; instance: string; peer: string; peerPriority: number; priority: number }
  | { type: 'interval_mismatch'; instance: string; peer: string; intervalCs: number; ourIntervalCs: number }
  | { type: 'track'; instance?: string; tracker: string; ok: boolean; detail?: string }
  | { type: 'notify'; instance: string; script: string; exitCode: number | null; signal?: string | null }
  | { type: 'error'; instance?: string; message: string };

export type VrrpEvent = VrrpEventBody & { seq: number; time: number };

export class EventStream extends EventEmitter {
  private seq = 0;
  private readonly recent: VrrpEvent[] = [];

  constructor(private readonly keep = 1000) {
    super();
  }

  publish(body: VrrpEventBody): VrrpEvent {
    const ev = { ...body, seq: ++this.seq, time: Date.now() } as VrrpEvent;
    this.recent.push(ev);
    if (this.recent.length > this.keep) this.recent.shift();
    this.emit('event', ev);
    return ev;
  }

  /** Events with a sequence number greater than `after` still kept in memory, oldest first. */
  since(after = 0): VrrpEvent[] {
    return this.recent.filter((e) => e.seq > after);
  }

  get lastSeq(): number {
    return this.seq;
  }
}
