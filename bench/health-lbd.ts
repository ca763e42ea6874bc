/**
 * Benchmark helper: lbd's health checker alone in a process, checking the servers of bench/health.
 * Started by health-run with IPC; receives { tcp: [ip, port][], http: [ip, port][] }, answers
 * 'ready' once the targets are set, and { stats } when asked.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { HealthChecker, RealServerConfig } from '../src/health';

/** How long the event loop was blocked (the process's own stalls, not the checks' schedule). */
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

interface Targets {
  tcp: [string, number][];
  http: [string, number][];
  interval: number;
  timeout: number;
}

let hc: HealthChecker | null = null;
let downs = 0;
const reasons: Record<string, number> = {};

// A clean exit on SIGTERM, so that `node --cpu-prof` writes its profile.
process.on('SIGTERM', () => {
  hc?.close();
  process.exit(0);
});

process.on('message', (msg: { targets?: Targets; stats?: boolean; reset?: boolean }) => {
  if (msg.targets) {
    const t = msg.targets;
    hc = new HealthChecker();
    hc.on('server', (e) => {
      if (!e.up && !e.initial) {
        downs++;
        const key = `${e.check.split(' ')[0]} ${e.reason}`;
        reasons[key] = (reasons[key] ?? 0) + 1;
      }
    });
    const common = { delay_loop: t.interval, connect_timeout: t.timeout, retry: 0 };
    const tcp: RealServerConfig[] = t.tcp.map(([ip, port]) => ({
      ip,
      port,
      checks: [{ checker: 'TCP_CHECK', ...common }],
    }));
    const http: RealServerConfig[] = t.http.map(([ip, port]) => ({
      ip,
      port,
      checks: [{ checker: 'HTTP_GET', url: [{ path: '/' }], ...common }],
    }));
    hc.setVirtualService({ id: 'tcp', real_servers: tcp, quorum: 1 });
    hc.setVirtualService({ id: 'http', real_servers: http, quorum: 1 });
    process.send?.({ ready: true, checks: hc.checkCount });
  } else if (msg.reset && hc) {
    const s = hc.stats;
    s.attempts = s.failures = s.starts = s.late = s.maxLateMs = s.sumLateMs = 0;
    downs = 0;
    loopDelay.reset();
    process.send?.({ reset: true });
  } else if (msg.stats && hc) {
    const loop = { maxMs: loopDelay.max / 1e6, p99Ms: loopDelay.percentile(99) / 1e6 };
    process.send?.({
      stats: { ...hc.stats },
      downs,
      reasons,
      loop,
      maxRssKb: process.resourceUsage().maxRSS,
    });
  }
});
