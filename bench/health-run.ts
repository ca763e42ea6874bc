/**
 * bench/health: lbd's health checker against HAProxy's, on loopback, in the same run.
 * 10,000 TCP servers and 1,000 HTTP servers (listeners on 127.77.x.y:20000 and 127.78.x.y:20080, in
 * two server processes) are checked every second by both lbd (TCP_CHECK, HTTP_GET; bench/health-lbd
 * in its own process) and HAProxy (`check inter 1s`, `option httpchk GET /`), in the same run: by
 * default one after the other (lbd's phase, then HAProxy's, against the same servers), so that on a
 * small machine neither steals the other's CPU; LBD_BENCH_CONCURRENT=1 runs both at once. After a
 * warm-up, CPU (utime + stime from /proc) is measured over each window; peak RSS is VmHWM.
 * Lateness: a check starting more than 10% of its interval after its scheduled time is late (the
 * scheduler records each check's due time; see CheckStats). Stalls: the event loop turning more than
 * 50 ms late, split by the main thread's schedstat into lbd's own work (on a CPU) and the machine's
 * load (runnable, waiting for a CPU); with the GC pauses, they tell where late starts come from.
 *
 * Environment: LBD_BENCH_SECONDS (30), LBD_BENCH_TCP (10000), LBD_BENCH_HTTP (1000),
 * LBD_BENCH_CONCURRENT (0).
 */
import { ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Stalls } from './health-lbd';
import { benchAddress } from './health-servers';

const SECONDS = Number(process.env.LBD_BENCH_SECONDS ?? 30);
const N_TCP = Number(process.env.LBD_BENCH_TCP ?? 10000);
const N_HTTP = Number(process.env.LBD_BENCH_HTTP ?? 1000);
/** LBD_BENCH_CONCURRENT=1: lbd and HAProxy check at the same time (default: one after the other). */
const CONCURRENT = process.env.LBD_BENCH_CONCURRENT === '1';
const WARMUP_MS = 3000;
const TCP_PORT = 20000;
const HTTP_PORT = 20080;
const HAPROXY = '/usr/sbin/haproxy';
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

const children: ChildProcess[] = [];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** CPU seconds (user + system) of a process, from /proc/PID/stat. */
function cpuSeconds(pid: number): number {
  const [user, sys] = cpuSplit(pid);
  return user + sys;
}

/** User and system CPU seconds of a process, from /proc/PID/stat. */
function cpuSplit(pid: number): [number, number] {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [Number(fields[11]) / CLK_TCK, Number(fields[12]) / CLK_TCK];
}

/** The host's TCP active opens (connect() calls), from /proc/net/snmp. */
function activeOpens(): number {
  const lines = fs
    .readFileSync('/proc/net/snmp', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('Tcp:'));
  const names = lines[0].split(/\s+/);
  return Number(lines[1].split(/\s+/)[names.indexOf('ActiveOpens')]);
}

/** Peak resident set of a process in MB (VmHWM). */
function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function startServers(args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(__dirname, 'health-servers.js'), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server process exited with ${code}`)));
    child.stdout?.once('data', () => resolve(child));
  });
}

function haproxyConfig(dir: string): string {
  const lines = [
    'global',
    '  maxconn 100',
    '  nbthread 1',
    `  stats socket ${dir}/haproxy.sock mode 600 level admin`,
    'defaults',
    '  mode tcp',
    '  timeout connect 2s',
    '  timeout check 2s',
    '  timeout client 30s',
    '  timeout server 30s',
    'backend tcp_servers',
    '  default-server check inter 1s',
  ];
  for (let i = 0; i < N_TCP; i++) lines.push(`  server t${i} ${benchAddress('127.77', i)}:${TCP_PORT}`);
  lines.push(
    'backend http_servers',
    '  mode http',
    '  option httpchk GET /',
    '  default-server check inter 1s',
  );
  for (let i = 0; i < N_HTTP; i++) lines.push(`  server h${i} ${benchAddress('127.78', i)}:${HTTP_PORT}`);
  const file = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** Asks HAProxy's stats socket how many servers are UP and how many checks failed. */
function haproxyStatus(sock: string): Promise<{ up: number; total: number; chkfail: number }> {
  return new Promise((resolve, reject) => {
    let out = '';
    const c = net.connect(sock, () => c.write('show stat\n'));
    c.setTimeout(10000, () => c.destroy(new Error('haproxy stats socket timeout')));
    c.on('data', (d) => (out += d));
    c.on('error', reject);
    c.on('end', () => {
      const rows = out.split('\n').filter((l) => /^(tcp|http)_servers,[th]\d+,/.test(l));
      const header = out.split('\n')[0].replace(/^# /, '').split(',');
      const iStatus = header.indexOf('status');
      const iFail = header.indexOf('chkfail');
      let up = 0;
      let chkfail = 0;
      for (const r of rows) {
        const f = r.split(',');
        if (f[iStatus] === 'UP') up++;
        chkfail += Number(f[iFail]) || 0;
      }
      resolve({ up, total: rows.length, chkfail });
    });
  });
}

function request<T>(child: ChildProcess, msg: object, key: string, timeoutMs = 60000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`lbd process: no '${key}' answer in ${timeoutMs} ms`)),
      timeoutMs,
    );
    const on = (m: Record<string, unknown>): void => {
      if (m[key] !== undefined) {
        clearTimeout(timer);
        child.off('message', on);
        resolve(m as T);
      }
    };
    child.on('message', on);
    child.once('exit', (code) => reject(new Error(`lbd process exited with ${code}`)));
    child.send(msg);
  });
}

interface LbdStats {
  stats: {
    attempts: number;
    failures: number;
    starts: number;
    late: number;
    maxLateMs: number;
    sumLateMs: number;
  };
  /** Event loop delay (10 ms resolution) over the window. */
  loop: { maxMs: number; p99Ms: number };
  stalls: Stalls;
  downs: number;
  reasons: Record<string, number>;
}

/** What one measurement window saw of lbd, of HAProxy, or of both when they run together. */
interface Window {
  wall: number;
  cpu: { lbd: number; haproxy: number };
  /** lbd's system share of its CPU. */
  lbdSys: number;
  opens: number;
  served: { lbd: number; other: number };
  lbd?: LbdStats;
  load: string;
}

const loadavg = (): string => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbd-bench-health-'));
  const half = Math.ceil(N_TCP / 2);
  log(`servers: ${N_TCP} TCP on 127.77.x.y:${TCP_PORT}, ${N_HTTP} HTTP on 127.78.x.y:${HTTP_PORT}`);
  const [, httpServers] = await Promise.all([
    startServers([`tcp:127.77:0:${half}:${TCP_PORT}`]),
    startServers([`tcp:127.77:${half}:${N_TCP - half}:${TCP_PORT}`, `http:127.78:0:${N_HTTP}:${HTTP_PORT}`]),
  ]);
  /** HTTP requests served so far, from lbd and from HAProxy. */
  const served = (): Promise<{ lbd: number; other: number }> =>
    new Promise((resolve) => {
      httpServers.stdout?.once('data', (d: Buffer) => resolve(JSON.parse(String(d).replace(/^served /, ''))));
      httpServers.kill('SIGUSR2');
    });
  log('servers ready');
  const version = execFileSync(HAPROXY, ['-v'], { encoding: 'utf8' }).split('\n')[0];
  const cfg = haproxyConfig(dir);
  let haproxy: ChildProcess | null = null;
  let lbd: ChildProcess | null = null;
  const startHaproxy = (): ChildProcess => {
    const p = spawn(HAPROXY, ['-db', '-q', '-f', cfg], { stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(p);
    return p;
  };
  const startLbd = async (): Promise<ChildProcess> => {
    const p = fork(path.join(__dirname, 'health-lbd.js'), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(p);
    const tcp = Array.from({ length: N_TCP }, (_, i) => [benchAddress('127.77', i), TCP_PORT]);
    const http = Array.from({ length: N_HTTP }, (_, i) => [benchAddress('127.78', i), HTTP_PORT]);
    const ready = await request<{ checks: number }>(
      p,
      { targets: { tcp, http, interval: 1, timeout: 2 } },
      'ready',
    );
    log(`lbd: ${ready.checks} checks configured`);
    return p;
  };
  const stop = async (p: ChildProcess): Promise<void> => {
    if (p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), 10000);
    await gone;
    clearTimeout(timer);
  };

  /** Warms up, then measures whatever runs (lbd and/or HAProxy) for SECONDS. */
  const measure = async (what: string): Promise<Window> => {
    await sleep(WARMUP_MS);
    log(`measuring ${what} for ${SECONDS} s (load ${loadavg()})`);
    if (lbd) await request(lbd, { reset: true }, 'reset');
    const cpu = (): [number, number] => [
      lbd ? cpuSeconds(lbd.pid as number) : 0,
      haproxy ? cpuSeconds(haproxy.pid as number) : 0,
    ];
    const s0 = await served();
    const o0 = activeOpens();
    const t0 = performance.now();
    const c0 = cpu();
    const l0 = lbd ? cpuSplit(lbd.pid as number) : [0, 0];
    await sleep(SECONDS * 1000);
    const c1 = cpu();
    const l1 = lbd ? cpuSplit(lbd.pid as number) : [0, 0];
    const wall = (performance.now() - t0) / 1000;
    const o1 = activeOpens();
    const load = loadavg();
    const s1 = await served();
    const st = lbd ? await request<LbdStats>(lbd, { stats: true }, 'stats') : undefined;
    return {
      wall,
      cpu: { lbd: c1[0] - c0[0], haproxy: c1[1] - c0[1] },
      lbdSys: (l1[1] - l0[1]) / Math.max(1e-9, l1[0] + l1[1] - l0[0] - l0[1]),
      opens: o1 - o0,
      served: { lbd: s1.lbd - s0.lbd, other: s1.other - s0.other },
      lbd: st,
      load,
    };
  };

  let lw: Window;
  let hw: Window;
  let hapRss: number;
  let lbdRss: number;
  if (CONCURRENT) {
    log(`lbd and ${version} check the servers at the same time`);
    haproxy = startHaproxy();
    lbd = await startLbd();
    lw = hw = await measure('lbd and haproxy together');
    lbdRss = peakRssMb(lbd.pid as number);
    hapRss = peakRssMb(haproxy.pid as number);
  } else {
    log(`lbd, then ${version}, check the servers one after the other (LBD_BENCH_CONCURRENT=1: together)`);
    lbd = await startLbd();
    lw = await measure('lbd alone');
    lbdRss = peakRssMb(lbd.pid as number);
    await stop(lbd);
    lbd = null;
    haproxy = startHaproxy();
    hw = await measure('haproxy alone');
    hapRss = peakRssMb(haproxy.pid as number);
  }
  const hs = await haproxyStatus(path.join(dir, 'haproxy.sock')).catch(() => ({
    up: -1,
    total: -1,
    chkfail: -1,
  }));

  const st = lw.lbd as LbdStats;
  const s = st.stats;
  const lbdCpu = (lw.cpu.lbd / lw.wall) * 100;
  const hapCpu = (hw.cpu.haproxy / hw.wall) * 100;
  const rate = s.attempts / lw.wall;
  log(
    `lbd: ${s.attempts} checks in ${lw.wall.toFixed(1)} s, ${s.failures} failed, ${st.downs} servers went down`,
  );
  if (st.downs > 0) log(`lbd: down reasons ${JSON.stringify(st.reasons)}`);
  log(`haproxy: ${hs.up} of ${hs.total} servers UP, ${hs.chkfail} failed checks`);
  log(
    `HTTP checks served per second: lbd ${(lw.served.lbd / lw.wall).toFixed(0)}, ` +
      `haproxy ${(hw.served.other / hw.wall).toFixed(0)} (of ${N_HTTP} configured)`,
  );
  // HAProxy's TCP checks never reach accept() (it withholds the handshake's last ACK), so its rate is
  // the host's TCP active opens over its window (minus lbd's attempts when both run; other activity on
  // the host inflates this a little).
  const hapChecks = Math.max(0, hw.opens - (CONCURRENT ? s.attempts : 0));
  const hapRate = hapChecks / hw.wall;
  log(
    `haproxy: about ${Math.round(hapRate)} checks/s (host TCP active opens${CONCURRENT ? " minus lbd's" : ''})`,
  );
  log(
    `CPU per check: lbd ${((lw.cpu.lbd / Math.max(1, s.attempts)) * 1e6).toFixed(1)} us ` +
      `(${(lw.lbdSys * 100).toFixed(0)}% system), ` +
      `haproxy ${((hw.cpu.haproxy / Math.max(1, hapChecks)) * 1e6).toFixed(1)} us (at ${Math.round(hapRate)} checks/s)`,
  );
  log(`load average at the end of the windows: lbd ${lw.load}; haproxy ${hw.load}`);
  log(
    `lateness: lbd ${s.late} of ${s.starts} check starts more than 10% of the interval late ` +
      `(${((s.late / Math.max(1, s.starts)) * 100).toFixed(2)}%); max ${s.maxLateMs.toFixed(1)} ms, ` +
      `mean ${(s.sumLateMs / Math.max(1, s.starts)).toFixed(2)} ms; event loop delay p99 ${st.loop.p99Ms.toFixed(1)} ms, ` +
      `max ${st.loop.maxMs.toFixed(1)} ms; ${CONCURRENT ? 'with haproxy running' : 'lbd alone'}`,
  );
  const sl = st.stalls;
  log(
    `stalls: lbd's event loop stalled ${sl.count} times over 50 ms (longest ${sl.longestMs.toFixed(0)} ms, ` +
      `${sl.totalMs.toFixed(0)} ms in all); in them its main thread ran ${sl.runMs.toFixed(0)} ms (lbd's work) ` +
      `and waited ${sl.waitMs.toFixed(0)} ms for a CPU (the machine's load); ` +
      `GC ${sl.gcCount} pauses, max ${sl.gcMaxMs.toFixed(1)} ms, ${sl.gcTotalMs.toFixed(0)} ms in all; ` +
      `over the window its main thread ran ${(sl.windowRunMs / 1000).toFixed(1)} s and waited ` +
      `${(sl.windowWaitMs / 1000).toFixed(1)} s for a CPU`,
  );
  log(
    `health: lbd ${Math.round(rate)} checks/s cpu ${lbdCpu.toFixed(1)}% rss ${Math.round(lbdRss)} MB; ` +
      `haproxy cpu ${hapCpu.toFixed(1)}% rss ${Math.round(hapRss)} MB; cpu ratio ${(lbdCpu / hapCpu).toFixed(2)}`,
  );
  cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
}

function cleanup(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench/health: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
