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
  /** A ring: event `seq` is at `(seq - 1) % keep` (a start-up publishes one event per real server: an
   * array shifted at each one would copy the whole log every time). */
  private readonly recent: LbdEvent[] = [];

  constructor(private readonly keep = 2000) {
    super();
    this.setMaxListeners(0);
  }

  publish(body: LbdEventBody): LbdEvent {
    // The log's own number and time, even over a body that has its own (a VRRP event carries the
    // VRRP stream's seq and a numeric time); seq and time stay the first keys.
    const event: LbdEvent = { seq: 0, time: '', ...body };
    event.seq = ++this.seq;
    event.time = new Date().toISOString();
    this.recent[(event.seq - 1) % this.keep] = event;
    this.emit('event', event);
    return event;
  }

  /** Kept events after sequence number `after`, oldest first. */
  since(after = 0): LbdEvent[] {
    const out: LbdEvent[] = [];
    for (let seq = Math.max(Math.floor(after), this.seq - this.keep, 0) + 1; seq <= this.seq; seq++)
      out.push(this.recent[(seq - 1) % this.keep]);
    return out;
  }

  get lastSeq(): number {
    return this.seq;
  }
}
