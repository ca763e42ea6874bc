/**
 * A virtual service's view of its real servers: the server entries, the quorum with hysteresis and the
 * sorry server while the quorum is lost.
 */
import { SorryServerConfig } from './config';
import { QuorumEvent, ServerStateEvent, WeightEvent } from './events';
import { QuorumState } from './quorum';
import { Scheduler } from './scheduler';
import { ServerEntry, ServerHost } from './target-state';

export interface VirtualServiceSink {
  server(e: ServerStateEvent): void;
  weight(e: WeightEvent): void;
  quorum(e: QuorumEvent): void;
}

export interface VirtualServiceStatus {
  vs: string;
  quorumUp: boolean;
  sum: number;
  quorum: number;
  hysteresis: number;
  sorryServer: SorryServerConfig | null;
  servers: ReturnType<ServerEntry['status']>[];
}

export class VirtualServiceEntry implements ServerHost {
  readonly servers = new Map<string, ServerEntry>();
  readonly quorumState: QuorumState;
  sorry: SorryServerConfig | null;
  /** While true (during a batch of changes), quorum evaluation waits for flush(). */
  private batching = false;
  private pendingReason = '';

  constructor(
    readonly id: string,
    readonly scheduler: Scheduler,
    private readonly sink: VirtualServiceSink,
    readonly wallClock: () => number,
    quorum: number,
    hysteresis: number,
    sorry: SorryServerConfig | null,
  ) {
    this.quorumState = new QuorumState(quorum, hysteresis);
    this.sorry = sorry;
  }

  emitServer(e: ServerStateEvent): void {
    this.sink.server(e);
  }

  emitWeight(e: WeightEvent): void {
    this.sink.weight(e);
  }

  private liveSum = 0;

  /** Sum of the live servers' full weights (kept incrementally: O(1) per transition). */
  sum(): number {
    return this.liveSum;
  }

  addLive(delta: number): void {
    this.liveSum += delta;
  }

  /** Starts a batch: quorum changes are evaluated once, at flush(). */
  begin(): void {
    this.batching = true;
  }

  flush(reason: string): void {
    this.batching = false;
    this.evaluate(this.pendingReason || reason);
    this.pendingReason = '';
  }

  serversChanged(reason: string): void {
    if (this.batching) {
      if (!this.pendingReason) this.pendingReason = reason;
      return;
    }
    this.evaluate(reason);
  }

  /** New quorum parameters or sorry server; announces the quorum state again when they changed. */
  reconfigure(quorum: number, hysteresis: number, sorry: SorryServerConfig | null): void {
    const q = this.quorumState;
    const changed =
      q.quorum !== quorum ||
      q.hysteresis !== hysteresis ||
      JSON.stringify(sorry) !== JSON.stringify(this.sorry);
    q.quorum = quorum;
    q.hysteresis = hysteresis;
    this.sorry = sorry;
    if (changed && q.up !== null) this.evaluate('config', true);
  }

  private evaluate(reason: string, force = false): void {
    const q = this.quorumState;
    const first = q.up === null;
    const sum = this.sum();
    if (!q.update(sum) && !force) return;
    this.sink.quorum({
      vs: this.id,
      up: q.up as boolean,
      sum,
      quorum: q.quorum,
      hysteresis: q.hysteresis,
      sorryServer: q.up ? null : this.sorry,
      reason: first ? 'initial' : reason,
      at: this.wallClock(),
    });
  }

  status(): VirtualServiceStatus {
    const q = this.quorumState;
    return {
      vs: this.id,
      quorumUp: q.up === true,
      sum: this.sum(),
      quorum: q.quorum,
      hysteresis: q.hysteresis,
      sorryServer: q.up === false ? this.sorry : null,
      servers: [...this.servers.values()].map((s) => s.status()),
    };
  }
}
