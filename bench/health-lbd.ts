/**
 * Benchmark helper: lbd's health checker alone in a process, checking the servers of bench/health.
 * Started by health-run with IPC; receives { tcp: [ip, port][], http: [ip, port][] }, answers
 * 'ready' once the targets are set, and { stats } when asked.
 */
import * as fs from 'node:fs';
import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks';
import { HealthChecker, RealServerConfig, scavengeOnMainThread } from '../src/health';

// As in the daemon (src/daemon/run.ts).
scavengeOnMainThread();

/** How long the event loop was blocked (the process's own stalls, not the checks' schedule). */
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

/** A stall: the event loop turned more than this late. */
const STALL_MS = 50;
const SAMPLE_MS = 20;

/** What StallMeter counts over a window. */
function noStalls() {
  return {
    count: 0,
    longestMs: 0,
    totalMs: 0,
    /** Main thread on a CPU during the stalls (lbd's own work). */
    runMs: 0,
    /** Main thread runnable but waiting for a CPU during the stalls (other processes). */
    waitMs: 0,
    gcCount: 0,
    gcMaxMs: 0,
    gcTotalMs: 0,
    /** Over the whole window: the main thread on a CPU, and runnable but waiting for one. */
    windowRunMs: 0,
    windowWaitMs: 0,
  };
}

/** Event loop stalls over 50 ms: the main thread's time on a CPU and waiting for one in them; GC pauses. */
export type Stalls = ReturnType<typeof noStalls>;

/**
 * Event loop stalls, told apart by the main thread's scheduler statistics (/proc schedstat: time on
 * a CPU, time runnable but waiting for one): lbd's own work, or the machine's load. Plus GC pauses.
 */
class StallMeter {
  stalls = noStalls();
  private readonly fd: number | null;
  private readonly buf = Buffer.alloc(128);
  private last = performance.now();
  private lastRun = 0;
  private lastWait = 0;
  private startRun = 0;
  private startWait = 0;

  constructor() {
    let fd: number | null;
    try {
      fd = fs.openSync(`/proc/self/task/${process.pid}/schedstat`, 'r');
    } catch {
      fd = null; // no schedstat: stalls are counted, not split
    }
    this.fd = fd;
    this.read();
    setInterval(() => this.sample(), SAMPLE_MS).unref();
    new PerformanceObserver((list) => {
      const st = this.stalls;
      for (const e of list.getEntries()) {
        st.gcCount++;
        st.gcTotalMs += e.duration;
        if (e.duration > st.gcMaxMs) st.gcMaxMs = e.duration;
      }
    }).observe({ entryTypes: ['gc'] });
  }

  reset(): void {
    this.stalls = noStalls();
    this.read();
    this.startRun = this.lastRun;
    this.startWait = this.lastWait;
  }

  /** The counts since the reset, with the main thread's times over the window. */
  snapshot(): Stalls {
    this.read();
    this.stalls.windowRunMs = this.lastRun - this.startRun;
    this.stalls.windowWaitMs = this.lastWait - this.startWait;
    return this.stalls;
  }

  private sample(): void {
    const now = performance.now();
    const run0 = this.lastRun;
    const wait0 = this.lastWait;
    this.read();
    const stall = now - this.last - SAMPLE_MS;
    this.last = now;
    if (stall <= STALL_MS) return;
    const st = this.stalls;
    st.count++;
    st.totalMs += stall;
    if (stall > st.longestMs) st.longestMs = stall;
    st.runMs += this.lastRun - run0;
    st.waitMs += this.lastWait - wait0;
  }

  /** schedstat: "<ns on a CPU> <ns waiting on a runqueue> <timeslices>". */
  private read(): void {
    if (this.fd === null) return;
    const n = fs.readSync(this.fd, this.buf, 0, this.buf.length, 0);
    const [run, wait] = this.buf.toString('latin1', 0, n).split(' ');
    this.lastRun = Number(run) / 1e6;
    this.lastWait = Number(wait) / 1e6;
  }
}

const meter = new StallMeter();

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
    meter.reset();
    process.send?.({ reset: true });
  } else if (msg.stats && hc) {
    const loop = { maxMs: loopDelay.max / 1e6, p99Ms: loopDelay.percentile(99) / 1e6 };
    process.send?.({
      stats: { ...hc.stats },
      stalls: meter.snapshot(),
      downs,
      reasons,
      loop,
      maxRssKb: process.resourceUsage().maxRSS,
    });
  }
});
