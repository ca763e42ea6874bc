// One scrape: lbd's registry plus the IPVS table. The kernel is dumped at most once per cacheMs and the
// IPVS text rendered once per dump and format, so any number of Prometheus servers (and status pages)
// cost one dump per interval; concurrent scrapes share the dump in flight.
import * as client from 'prom-client';
import type { VirtualServiceEntry } from '../ipvs';
import type { VirtualServiceStatus } from '../health/virtual-service';
import { renderHealth } from './health-text';
import { configuredWeights, renderIpvs, type IpvsText } from './ipvs-text';
import { buildRegistry, EventCounters } from './registry';
import type { MetricsSource } from './source';

export const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_TEXT = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

export interface ScrapeOptions {
  /** A kernel dump serves every scrape within this many ms (default 1000; 0: every scrape dumps). */
  scrapeCacheMs?: number;
}

export interface TableSnapshot {
  /** Epoch ms of the dump; undefined without IPVS. */
  at: number | undefined;
  table: readonly VirtualServiceEntry[];
  error?: string;
  text?: IpvsText;
  openMetrics?: IpvsText;
}

export interface ScrapeResult {
  contentType: string;
  chunks: (string | Buffer)[];
  bytes: number;
}

/** Accept header: OpenMetrics when the client asks for it (Prometheus does, first). */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  return accept !== undefined && /application\/openmetrics-text/i.test(accept);
}

export class Scraper {
  readonly counters: EventCounters;
  private readonly text: client.Registry;
  private readonly om: client.Registry;
  private snapshot: TableSnapshot | undefined;
  private pending: Promise<TableSnapshot> | undefined;
  private readonly cacheMs: number;
  dumps = 0;
  dumpErrors = 0;
  lastDumpMs = 0;

  constructor(
    private readonly source: MetricsSource,
    opts: ScrapeOptions = {},
  ) {
    this.cacheMs = opts.scrapeCacheMs ?? 1000;
    this.counters = new EventCounters(source);
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    const extra = (r: client.Registry) => {
      new client.Counter({
        name: 'lbd_ipvs_dumps_total',
        help: 'Kernel IPVS table dumps made for scrapes and the status page.',
        registers: [r],
        collect() {
          this.reset();
          this.inc(self.dumps);
        },
      });
      new client.Counter({
        name: 'lbd_ipvs_dump_errors_total',
        help: 'Kernel IPVS table dumps that failed.',
        registers: [r],
        collect() {
          this.reset();
          this.inc(self.dumpErrors);
        },
      });
      new client.Gauge({
        name: 'lbd_ipvs_dump_duration_seconds',
        help: 'Duration of the last kernel IPVS table dump.',
        registers: [r],
        collect() {
          this.set(self.lastDumpMs / 1000);
        },
      });
      new client.Gauge({
        name: 'lbd_ipvs_services',
        help: 'Virtual services in the kernel table (all of them, not only those lbd manages).',
        registers: [r],
        collect() {
          this.reset();
          if (self.snapshot?.at !== undefined) this.set(self.snapshot.table.length);
        },
      });
    };
    this.text = buildRegistry(source, this.counters, false, extra);
    this.om = buildRegistry(source, this.counters, true, extra);
  }

  /** The IPVS table, dumped at most once per cache interval. */
  table(): Promise<TableSnapshot> {
    const now = Date.now();
    const s = this.snapshot;
    if (s && s.at !== undefined && now - s.at < this.cacheMs) return Promise.resolve(s);
    if (this.pending) return this.pending;
    this.pending = this.dump().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async dump(): Promise<TableSnapshot> {
    const t0 = performance.now();
    const dumping = this.source.ipvsTable();
    if (dumping === undefined) return (this.snapshot = { at: undefined, table: [] });
    try {
      const table = await dumping;
      this.dumps++;
      this.lastDumpMs = performance.now() - t0;
      return (this.snapshot = { at: Date.now(), table });
    } catch (err) {
      this.dumpErrors++;
      return (this.snapshot = { at: Date.now(), table: [], error: (err as Error).message });
    }
  }

  private weights() {
    const config = this.source.config();
    return config ? configuredWeights(config) : undefined;
  }

  async scrape(openMetrics: boolean): Promise<ScrapeResult> {
    const snap = await this.table();
    let ipvs: IpvsText | undefined;
    if (snap.at !== undefined) {
      const key = openMetrics ? 'openMetrics' : 'text';
      ipvs = snap[key] ??= renderIpvs(snap.table, this.weights(), openMetrics);
    }
    const statuses: VirtualServiceStatus[] = [];
    for (const id of this.source.health.virtualServices()) {
      const st = this.source.health.status(id);
      if (st) statuses.push(st);
    }
    const registry = openMetrics ? this.om : this.text;
    this.counters.statuses = statuses;
    let own: string;
    try {
      own = await registry.metrics();
    } finally {
      this.counters.statuses = undefined;
    }
    if (openMetrics) own = own.replace(/# EOF\n$/, '');
    else own += '\n';
    const health = renderHealth(statuses);
    const chunks: (string | Buffer)[] = [own, ...health.chunks, ...(ipvs?.chunks ?? [])];
    if (openMetrics) chunks.push('# EOF\n');
    let bytes = Buffer.byteLength(own) + (ipvs?.bytes ?? 0) + (openMetrics ? 6 : 0);
    for (const c of health.chunks) bytes += c.length;
    return { contentType: openMetrics ? OPENMETRICS_TEXT : PROMETHEUS_TEXT, chunks, bytes };
  }

  close(): void {
    this.counters.close();
  }
}
