// The guest side of bench/metrics (and its host estimate): lbd's metrics with 10,000 virtual services x 8
// real servers. In the guest, lbd (the Lbd class) programs the table into the kernel; the collector's
// refreshes (kernel dump, health states, rendering; they run on their own schedule, off the scrape path)
// are timed on one line, then scrapes (the latest snapshot and lbd's own registry) on the last line.
// The dumped table is saved (argv[2]) so the host can replay the same natively:
// `node dist/bench/metrics-run.js --replay FILE`.
// Last line: metrics: scrape <ms> ms, <KB> KB, <n> series
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { loadConfigFile } from '../src/config/load';
import { Lbd } from '../src/daemon/lbd';
import { EventLog } from '../src/daemon/event-log';
import { healthService } from '../src/daemon/health-services';
import { Logs } from '../src/daemon/logger';
import { HealthChecker } from '../src/health';
import type { VirtualServiceEntry } from '../src/ipvs';
import { Scraper, lbdMetricsSource, type MetricsSource } from '../src/metrics';
import { median } from './stats';

const SERVICES = Number(process.env.SERVICES ?? 10000);
const REALS = Number(process.env.REALS ?? 8);
const ROUNDS = Number(process.env.ROUNDS ?? 3);

function config(): string {
  const out: string[] = [];
  for (let i = 0; i < SERVICES; i++) {
    const p = 1000 + Math.floor(i / 100);
    out.push(
      `virtual_server 198.51.100.${1 + (i % 100)} ${p} {`,
      '    lb_algo wlc',
      '    lb_kind DR',
      '    protocol TCP',
    );
    for (let j = 0; j < REALS; j++) {
      out.push(
        `    real_server 203.0.113.${((i * REALS + j) % 250) + 1} ${p} {`,
        '        weight 1',
        '    }',
      );
    }
    out.push('}');
  }
  return out.join('\n') + '\n';
}

const quiet = () => new Logs({ level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;

/** Counts the sample lines (not comments) of a scrape's body. */
function countSeries(chunks: readonly (string | Buffer)[]): number {
  let series = 0;
  for (const chunk of chunks) {
    const c = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let at = 0;
    for (;;) {
      const nl = c.indexOf(10, at);
      if (nl < 0) break;
      if (c[at] !== 35 && nl > at) series++;
      at = nl + 1;
    }
  }
  return series;
}

async function timed<T>(f: () => Promise<T>): Promise<{ ms: number; cpu: number; value: T }> {
  const t = performance.now();
  const c = process.cpuUsage();
  const value = await f();
  return { ms: performance.now() - t, cpu: cpuMs(process.cpuUsage(c)), value };
}

const loadavg = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** The collector's refreshes (kernel dump, health states, rendering: off the scrape path), then scrapes
 * (what a Prometheus request costs: the latest snapshot's buffers and lbd's own registry). */
async function measure(scraper: Scraper, label: string): Promise<void> {
  const col = scraper.collector;
  const refreshes: string[] = [];
  for (let i = 0; i < 2; i++) {
    const r = await timed(() => col.refresh());
    refreshes.push(
      `${i === 0 ? 'first' : 'next'} ${Math.round(r.ms)} ms (dump ${Math.round(col.lastDumpMs)} ms, health and rendering ${Math.round(col.lastRenderMs)} ms; CPU ${Math.round(r.cpu)} ms)`,
    );
  }
  console.log(
    `${label}: collector refresh (off the scrape path): ${refreshes.join(', ')}; pause between refreshes ${Math.round(col.pauseMs)} ms; load ${loadavg()}`,
  );
  const times: number[] = [];
  const cpu: number[] = [];
  let bytes = 0;
  let series = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const r = await timed(() => scraper.scrape(false));
    times.push(r.ms);
    cpu.push(r.cpu);
    bytes = r.value.bytes;
    series = countSeries(r.value.chunks);
    r.value.release();
    await new Promise((res) => setTimeout(res, 20));
  }
  const rates = await timed(() => scraper.scrape(false, true));
  rates.value.release();
  const again = await timed(() => scraper.scrape(false, true));
  again.value.release();
  console.log(
    `${label}: with ?server_rates=1: first scrape ${Math.round(rates.ms)} ms (renders the per-server rate estimates), then ${Math.round(again.ms)} ms, ${Math.round(again.value.bytes / 1024)} KB, ${countSeries(again.value.chunks)} series`,
  );
  console.log(
    `${label}: scrapes ${times.map((t) => Math.round(t)).join(', ')} ms (median ${Math.round(median(times))}; CPU time of this process, median ${Math.round(median(cpu))} ms); snapshot age at the last scrape ${Math.round((Date.now() - (await col.latest()).takenAt) / 1000)} s; load ${loadavg()}`,
  );
  console.log(
    `metrics: scrape ${Math.round(median(times))} ms, ${Math.round(bytes / 1024)} KB, ${series} series`,
  );
}

async function replay(file: string): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbd-bench-metrics-'));
  const conf = path.join(dir, 'keepalived.conf');
  fs.writeFileSync(conf, config());
  const cfg = loadConfigFile(conf, { hostChecks: 'off' }).config;
  const table = JSON.parse(fs.readFileSync(file, 'utf8')) as VirtualServiceEntry[];
  // The health checker as lbd has it: every real server (these have no checks: up, nothing runs).
  const health = new HealthChecker();
  for (const vs of cfg.virtual_servers) health.setVirtualService(healthService(cfg, vs));
  const source: MetricsSource = {
    ipvsTable: () => Promise.resolve(table),
    health,
    vrrp: () => undefined,
    reconciler: () => undefined,
    events: new EventLog(),
    config: () => cfg,
    lastReload: () => undefined,
    startedAt: Date.now(),
  };
  await measure(new Scraper(source), `host replay of ${table.length} services`);
}

async function guest(save: string | undefined): Promise<void> {
  execFileSync('sh', [
    '-c',
    'ip link add lbdb0 type dummy && ip addr add 203.0.113.254/24 dev lbdb0 && ip link set lbdb0 up',
  ]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbd-bench-metrics-'));
  const file = path.join(dir, 'keepalived.conf');
  fs.writeFileSync(file, config());
  const lbd = new Lbd({
    configFile: file,
    logs: quiet(),
    hostChecks: 'off',
    socketPath: path.join(dir, 'lbd.sock'),
    driftIntervalMs: 3_600_000,
  });
  const t = performance.now();
  await lbd.start();
  console.log(
    `lbd programmed ${SERVICES} services x ${REALS} real servers in ${Math.round(performance.now() - t)} ms`,
  );
  const scraper = new Scraper(lbdMetricsSource(lbd));
  if (save) {
    const table = await lbd.ipvs!.table();
    fs.writeFileSync(save, JSON.stringify(table));
  }
  await measure(scraper, `guest (kernel dump included) of ${SERVICES} services`);
  scraper.close();
  await lbd.stop();
}

const args = process.argv.slice(2);
(args[0] === '--replay' ? replay(args[1]) : guest(args[0])).then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench/metrics: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
