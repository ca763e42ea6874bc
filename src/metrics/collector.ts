// The collector behind /metrics and the status page. It reads the kernel's IPVS table (one netlink dump)
// and the health states into a snapshot and renders the snapshot's per-object series (IPVS and health)
// once; scrapes serve the latest complete snapshot, so neither the dump nor the rendering is on a
// scrape's path and a scrape costs the same whether one or ten Prometheus servers ask.
//
// Schedule: while someone reads (a scrape or the status page within idleMs), the collector refreshes
// the snapshot refreshMs after the previous refresh ended, and spends at most maxLoad of one CPU on it:
// a refresh that used c ms of CPU (this process's, while it ran) is followed by a pause of at least
// c * (1 - maxLoad) / maxLoad (CPU, not wall time: a small table on a busy host keeps its interval). Without
// readers it stops; the next reader then waits for a fresh snapshot (as the very first one does).
// The snapshot's age is exported (lbd_metrics_snapshot_age_seconds).
import type { VirtualServiceStatus } from '../health/virtual-service';
import type { VirtualServiceEntry } from '../ipvs';
import { Arena, type RenderedFamily } from './exposition';
import { HealthRenderer } from './health-text';
import { configuredWeights, estimate, IpvsRenderer, type PreparedTable } from './ipvs-text';
import type { MetricsSource } from './source';

export interface CollectorOptions {
  /** Pause between the end of a refresh and the start of the next, ms (default 1000). */
  refreshMs?: number;
  /** Largest share of one CPU the refreshes may take, 0 < maxLoad <= 1 (default 0.1). */
  maxLoad?: number;
  /** Refreshing stops after this long without a reader, ms (default 5 minutes, at least 10 refreshMs). */
  idleMs?: number;
}

/** The IPVS table as the status page needs it. */
export interface TableSnapshot {
  /** Epoch ms the dump started; undefined without IPVS (VRRP-only lbd). */
  readonly at: number | undefined;
  readonly table: readonly VirtualServiceEntry[];
  readonly error?: string;
}

export interface Snapshot extends TableSnapshot {
  /** Epoch ms the snapshot was started (the dump, then the health states). */
  readonly takenAt: number;
  readonly statuses: readonly VirtualServiceStatus[];
  /** The IPVS families (without the per-server rate estimates), then the health ones. */
  readonly families: readonly RenderedFamily[];
  /** The per-server rate estimates, rendered when first asked for. */
  serverRates?: readonly RenderedFamily[];
  readonly prepared?: PreparedTable;
  /** The memory of its families; recycled for a later snapshot once no response uses this one. */
  readonly arena: Arena;
}

/** A snapshot held for a response: its buffers stay as they are until release(). */
export interface Held {
  readonly snapshot: Snapshot;
  release(): void;
}

const immediate = () => new Promise<void>((r) => setImmediate(r));

export class Collector {
  private snapshot: Snapshot | undefined;
  private pending: Promise<Snapshot> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly ipvs = new IpvsRenderer();
  private readonly health = new HealthRenderer();
  private lastRead = 0;
  private ratesRead = -Infinity;
  private closed = false;
  /** Responses using each snapshot (held and not released yet). */
  private readonly users = new Map<Snapshot, number>();
  private readonly recycled = new WeakSet<Snapshot>();
  /** The largest buffer of a snapshot nobody uses any more, for the next refresh to write into. */
  private spare: Buffer | undefined;
  private lastArenaBytes = 0;
  /** Refreshes that wrote into a recycled buffer. */
  arenaReuses = 0;
  readonly refreshMs: number;
  readonly maxLoad: number;
  readonly idleMs: number;
  dumps = 0;
  dumpErrors = 0;
  refreshes = 0;
  lastDumpMs = 0;
  /** Health states and rendering of the last refresh. */
  lastRenderMs = 0;
  /** Dump, health states and rendering of the last refresh. */
  lastRefreshMs = 0;
  /** CPU time of this process while the last refresh ran. */
  lastRefreshCpuMs = 0;
  /** The pause after the last refresh (refreshMs, or longer to stay within maxLoad). */
  pauseMs = 0;

  constructor(
    private readonly source: MetricsSource,
    opts: CollectorOptions = {},
  ) {
    this.refreshMs = opts.refreshMs ?? 1000;
    this.maxLoad = opts.maxLoad ?? 0.1;
    if (!(this.refreshMs >= 0)) throw new RangeError(`refreshMs must be >= 0, got ${this.refreshMs}`);
    if (!(this.maxLoad > 0 && this.maxLoad <= 1))
      throw new RangeError(`maxLoad must be in (0, 1], got ${this.maxLoad}`);
    this.idleMs = opts.idleMs ?? Math.max(300_000, 10 * this.refreshMs);
  }

  /** The latest complete snapshot (with the per-server rate estimates when asked); waits for a refresh
   * only when there is none or the refreshing had stopped for want of readers. */
  async latest(serverRates = false): Promise<Snapshot> {
    this.lastRead = Date.now();
    if (serverRates) this.ratesRead = this.lastRead;
    const running = this.timer !== undefined || this.pending !== undefined;
    // From the choice of the snapshot to the caller's use, no refresh can complete (it ends in a macrotask).
    const s = this.snapshot && running ? this.snapshot : await this.run();
    if (serverRates && s.prepared && !s.serverRates) s.serverRates = this.ipvs.render(s.prepared, true);
    return s;
  }

  /** The latest snapshot, held: its buffers are not recycled before release(). */
  async hold(serverRates = false): Promise<Held> {
    const snapshot = await this.latest(serverRates);
    if (this.recycled.has(snapshot)) throw new Error('metrics: a recycled snapshot was served');
    this.users.set(snapshot, (this.users.get(snapshot) ?? 0) + 1);
    let released = false;
    return {
      snapshot,
      release: () => {
        if (released) return;
        released = true;
        const n = this.users.get(snapshot)! - 1;
        if (n > 0) return void this.users.set(snapshot, n);
        this.users.delete(snapshot);
        if (snapshot !== this.snapshot) this.recycle(snapshot);
      },
    };
  }

  private recycle(s: Snapshot): void {
    this.recycled.add(s);
    const biggest = s.arena.buffers.reduce((a, b) => (b.length > a.length ? b : a));
    if (!this.spare || biggest.length > this.spare.length) this.spare = biggest;
  }

  /** The arena of a refresh: the spare buffer when it is large enough. */
  private arena(want: number): Arena {
    const spare = this.spare;
    this.spare = undefined;
    if (spare && spare.length >= want) {
      this.arenaReuses++;
      return new Arena(spare);
    }
    return new Arena(want);
  }

  /** Age of a snapshot now, seconds. */
  static age(s: Snapshot): number {
    return (Date.now() - s.takenAt) / 1000;
  }

  /** A new snapshot now (shared with a refresh in progress); counts as a read. */
  refresh(): Promise<Snapshot> {
    this.lastRead = Date.now();
    return this.run();
  }

  private run(): Promise<Snapshot> {
    this.pending ??= this.collect().finally(() => {
      this.pending = undefined;
      this.schedule();
    });
    return this.pending;
  }

  private schedule(): void {
    if (this.closed || this.timer !== undefined) return;
    if (Date.now() - this.lastRead > this.idleMs) return; // nobody reads: stop
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, this.pauseMs);
    this.timer.unref();
  }

  private async collect(): Promise<Snapshot> {
    const takenAt = Date.now();
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    let table: readonly VirtualServiceEntry[] = [];
    let error: string | undefined;
    const dumping = this.source.ipvsTable();
    if (dumping !== undefined) {
      try {
        table = await dumping;
        this.dumps++;
      } catch (err) {
        this.dumpErrors++;
        error = (err as Error).message;
      }
      this.lastDumpMs = performance.now() - t0;
    }
    const t1 = performance.now();
    const health = this.source.health;
    const statuses: VirtualServiceStatus[] = [];
    for (const id of health.virtualServices()) {
      const st = health.status(id);
      if (st) statuses.push(st);
    }
    const config = this.source.config();
    let prepared: PreparedTable | undefined;
    const families: RenderedFamily[] = [];
    if (dumping !== undefined)
      prepared = this.ipvs.prepare(table, config ? configuredWeights(config) : undefined);
    let servers = 0;
    for (const st of statuses) servers += st.servers.length;
    const guess = (prepared ? estimate(prepared, false) : 0) + (servers + statuses.length) * 3 * 128;
    const arena = this.arena(Math.max(Math.ceil(this.lastArenaBytes * 1.1), guess, 65536));
    if (prepared) {
      // One family at a time: the event loop (VRRP adverts, checks) runs between them.
      for (const step of this.ipvs.steps(prepared, false, arena)) {
        await immediate();
        families.push(step());
      }
      await immediate();
    }
    families.push(...this.health.render(statuses, arena));
    const snapshot: Snapshot = {
      at: dumping === undefined ? undefined : takenAt,
      takenAt,
      table,
      ...(error !== undefined ? { error } : {}),
      statuses,
      families,
      ...(prepared ? { prepared } : {}),
      arena,
    };
    if (prepared && Date.now() - this.ratesRead <= this.idleMs) {
      const rates: RenderedFamily[] = [];
      for (const step of this.ipvs.steps(prepared, true, arena)) {
        await immediate();
        rates.push(step());
      }
      snapshot.serverRates = rates;
    }
    this.refreshes++;
    this.lastRenderMs = performance.now() - t1;
    this.lastRefreshMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    this.lastRefreshCpuMs = (cpu.user + cpu.system) / 1000;
    this.pauseMs = Math.max(this.refreshMs, (this.lastRefreshCpuMs * (1 - this.maxLoad)) / this.maxLoad);
    this.lastArenaBytes = arena.used;
    const old = this.snapshot;
    this.snapshot = snapshot;
    if (old && !this.users.has(old)) this.recycle(old);
    return snapshot;
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
