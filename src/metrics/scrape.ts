// One scrape: lbd's own registry (prom-client: VRRP, reconciler, reloads, process; read live) plus the
// collector's latest snapshot of the per-object series (IPVS and health, rendered when the snapshot was
// taken: see collector.ts). A scrape copies no series text: it lists the snapshot's buffers.
import * as client from 'prom-client';
import { Collector, type CollectorOptions, type Snapshot, type TableSnapshot } from './collector';
import { appendFamilies } from './exposition';
import { buildRegistry, EventCounters } from './registry';
import type { MetricsSource } from './source';

export const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_TEXT = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

export interface ScrapeOptions extends CollectorOptions {
  /** Include the kernel's per-real-server rate estimates in every scrape (default false; a scrape can
   * ask with ?server_rates=1). */
  serverRates?: boolean;
}

export interface ScrapeResult {
  contentType: string;
  chunks: (string | Buffer)[];
  bytes: number;
  /** The snapshot served. */
  snapshot: Snapshot;
  /** Call once the chunks are written (or dropped): their memory may then be reused by a refresh. */
  release(): void;
}

/** Accept header: OpenMetrics when the client asks for it (Prometheus does, first). */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  return accept !== undefined && /application\/openmetrics-text/i.test(accept);
}

export class Scraper {
  readonly counters: EventCounters;
  readonly collector: Collector;
  private readonly text: client.Registry;
  private readonly om: client.Registry;
  private readonly serverRates: boolean;
  /** The snapshot the scrape in progress serves (for the gauges that describe it). */
  private serving: Snapshot | undefined;

  constructor(source: MetricsSource, opts: ScrapeOptions = {}) {
    this.collector = new Collector(source, opts);
    this.serverRates = opts.serverRates ?? false;
    this.counters = new EventCounters(source);
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    const col = this.collector;
    const extra = (r: client.Registry) => {
      new client.Counter({
        name: 'lbd_ipvs_dumps_total',
        help: 'Kernel IPVS table dumps made by the metrics collector.',
        registers: [r],
        collect() {
          this.reset();
          this.inc(col.dumps);
        },
      });
      new client.Counter({
        name: 'lbd_ipvs_dump_errors_total',
        help: 'Kernel IPVS table dumps that failed.',
        registers: [r],
        collect() {
          this.reset();
          this.inc(col.dumpErrors);
        },
      });
      new client.Gauge({
        name: 'lbd_ipvs_dump_duration_seconds',
        help: 'Duration of the last kernel IPVS table dump.',
        registers: [r],
        collect() {
          this.set(col.lastDumpMs / 1000);
        },
      });
      new client.Gauge({
        name: 'lbd_ipvs_services',
        help: 'Virtual services in the kernel table (all of them, not only those lbd manages).',
        registers: [r],
        collect() {
          this.reset();
          if (self.serving?.at !== undefined) this.set(self.serving.table.length);
        },
      });
      new client.Gauge({
        name: 'lbd_metrics_snapshot_age_seconds',
        help: 'Age of the snapshot (IPVS table and health states) this scrape serves, from the start of its dump.',
        registers: [r],
        collect() {
          this.reset();
          if (self.serving) this.set(Collector.age(self.serving));
        },
      });
      new client.Gauge({
        name: 'lbd_metrics_refresh_duration_seconds',
        help: 'Duration of the last snapshot refresh (dump, health states, rendering).',
        registers: [r],
        collect() {
          this.set(col.lastRefreshMs / 1000);
        },
      });
      new client.Gauge({
        name: 'lbd_metrics_refresh_pause_seconds',
        help: 'Pause between two snapshot refreshes (the interval, or longer to bound their CPU use).',
        registers: [r],
        collect() {
          this.set(col.pauseMs / 1000);
        },
      });
    };
    this.text = buildRegistry(source, this.counters, false, extra);
    this.om = buildRegistry(source, this.counters, true, extra);
  }

  /** The IPVS table of the latest snapshot (for the status page). */
  table(): Promise<TableSnapshot> {
    return this.collector.latest();
  }

  async scrape(openMetrics: boolean, serverRates = this.serverRates): Promise<ScrapeResult> {
    const held = await this.collector.hold(serverRates);
    const snap = held.snapshot;
    try {
      const registry = openMetrics ? this.om : this.text;
      this.serving = snap;
      this.counters.statuses = snap.statuses;
      let own: string;
      try {
        own = await registry.metrics();
      } finally {
        this.counters.statuses = undefined;
      }
      if (openMetrics) own = own.replace(/# EOF\n$/, '');
      else own += '\n';
      const chunks: Buffer[] = [Buffer.from(own)];
      let bytes = chunks[0].length;
      bytes += appendFamilies(chunks, snap.families, openMetrics);
      if (serverRates && snap.serverRates) bytes += appendFamilies(chunks, snap.serverRates, openMetrics);
      if (openMetrics) {
        chunks.push(Buffer.from('# EOF\n'));
        bytes += 6;
      }
      const contentType = openMetrics ? OPENMETRICS_TEXT : PROMETHEUS_TEXT;
      return { contentType, chunks, bytes, snapshot: snap, release: held.release };
    } catch (err) {
      held.release();
      throw err;
    }
  }

  close(): void {
    this.collector.close();
    this.counters.close();
  }
}
