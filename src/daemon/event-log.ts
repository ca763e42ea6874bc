// lbd's ordered event stream: VRRP transitions, health changes, reconciler actions, reloads, drains.
// Every event gets the next sequence number and a time; the last `keep` are kept for `lbctl events`.
import { EventEmitter } from 'node:events';

export interface LbdEventBody {
  /** vrrp, health, reconcile, reload, drain, daemon */
  source: string;
  type: string;
  [field: string]: unknown;
}

export type LbdEvent = LbdEventBody & { seq: number; time: string };

export class EventLog extends EventEmitter<{ event: [LbdEvent] }> {
  private seq = 0;
  private readonly recent: LbdEvent[] = [];

  constructor(private readonly keep = 2000) {
    super();
    this.setMaxListeners(0);
  }

  publish(body: LbdEventBody): LbdEvent {
    const event: LbdEvent = { seq: ++this.seq, time: new Date().toISOString(), ...body };
    this.recent.push(event);
    if (this.recent.length > this.keep) this.recent.shift();
    this.emit('event', event);
    return event;
  }

  /** Kept events after sequence number `after`, oldest first. */
  since(after = 0): LbdEvent[] {
    return this.recent.filter((e) => e.seq > after);
  }

  get lastSeq(): number {
    return this.seq;
  }
}
