// Planned removals of real servers: `lbctl drain` and real servers leaving the configuration on a reload.
// A draining server gets weight 0 (no new connections) and leaves the table once its active connections
// reach 0 or the drain timeout passes; UDP servers (no connection to wait for) leave at once.
import type { Destination } from '../ipvs';
import { serverId } from '../health/config';
import type { DrainView } from './desired-table';

interface Drain {
  /** Set for a server that left the configuration (it is then still programmed from here). */
  destination?: Destination;
  deadline: number;
  udp: boolean;
  done: boolean;
}

export interface DrainStatus {
  vs: string;
  server: string;
  state: 'draining' | 'drained';
  leavingConfig: boolean;
  /** Epoch ms when the drain gives up waiting for connections. */
  deadline: number;
}

export class Drainer implements DrainView {
  private readonly drains = new Map<string, Map<string, Drain>>();

  constructor(
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** `lbctl drain`: the server stays configured but takes no new connections, then leaves the table. */
  drain(vs: string, server: string, udp: boolean, timeoutMs = this.timeoutMs): void {
    this.set(vs, server, { deadline: this.now() + timeoutMs, udp, done: udp });
  }

  /** `lbctl undrain`, or a server configured again: back to normal. Returns whether it was drained. */
  undrain(vs: string, server: string): boolean {
    const m = this.drains.get(vs);
    const had = m?.delete(server) ?? false;
    if (m?.size === 0) this.drains.delete(vs);
    return had;
  }

  /** A real server removed from the configuration: drained from what is programmed now. */
  leave(vs: string, destination: Destination, udp: boolean): void {
    const server = serverId(destination.address, destination.port);
    this.set(vs, server, { destination, deadline: this.now() + this.timeoutMs, udp, done: udp });
  }

  state(vs: string, server: string): 'none' | 'draining' | 'drained' {
    const d = this.drains.get(vs)?.get(server);
    return d === undefined ? 'none' : d.done ? 'drained' : 'draining';
  }

  leaving(vs: string): readonly Destination[] {
    const out: Destination[] = [];
    for (const d of this.drains.get(vs)?.values() ?? [])
      if (d.destination && !d.done) out.push(d.destination);
    return out;
  }

  /** The drains still waiting, per virtual server (to poll their connection counts). */
  waiting(): Array<{ vs: string; server: string }> {
    const out: Array<{ vs: string; server: string }> = [];
    for (const [vs, m] of this.drains) for (const [server, d] of m) if (!d.done) out.push({ vs, server });
    return out;
  }

  /**
   * Moves drains whose connections are gone (activeConns returns 0 or undefined: not in the kernel) or
   * whose deadline passed to 'drained'; forgets leaving servers once drained. True when anything changed.
   */
  tick(activeConns: (vs: string, server: string) => number | undefined): boolean {
    let changed = false;
    const now = this.now();
    for (const [vs, m] of this.drains) {
      for (const [server, d] of m) {
        if (d.done) continue;
        const conns = activeConns(vs, server);
        if (!conns || now >= d.deadline) {
          d.done = true;
          changed = true;
        }
      }
      for (const [server, d] of m) if (d.done && d.destination) m.delete(server);
      if (m.size === 0) this.drains.delete(vs);
    }
    return changed;
  }

  list(): DrainStatus[] {
    const out: DrainStatus[] = [];
    for (const [vs, m] of this.drains) {
      for (const [server, d] of m) {
        out.push({
          vs,
          server,
          state: d.done ? 'drained' : 'draining',
          leavingConfig: !!d.destination,
          deadline: d.deadline,
        });
      }
    }
    return out;
  }

  private set(vs: string, server: string, d: Drain): void {
    let m = this.drains.get(vs);
    if (!m) this.drains.set(vs, (m = new Map()));
    m.set(server, d);
  }
}
