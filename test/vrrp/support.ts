// VRRP test support: the standalone runner started in a namespace of a Topology (test/support/netns),
// its JSON event lines collected, helpers to wait for states and read addresses.
import { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { Topology } from '../support/netns';
import { VrrpConfig, VrrpInstanceConfig } from '../../src/vrrp/config';

export const STANDALONE = path.resolve(__dirname, '..', '..', 'src', 'vrrp', 'standalone.js');

export type Line = Record<string, unknown> & { type: string; time?: number };

export class VrrpProc {
  readonly lines: Line[] = [];
  private waiters: { pred: (l: Line) => boolean; resolve: (l: Line) => void }[] = [];
  readonly exited: Promise<number | null>;

  constructor(
    readonly host: string,
    readonly child: ChildProcess,
  ) {
    const rl = readline.createInterface({ input: child.stdout! });
    rl.on('line', (text) => {
      let l: Line;
      try {
        l = JSON.parse(text) as Line;
      } catch {
        l = { type: 'raw', text };
      }
      l.at = Date.now();
      this.lines.push(l);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(l)) return true;
        w.resolve(l);
        return false;
      });
    });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    this.exited = new Promise((resolve) =>
      child.on('exit', (code) => {
        if (err.trim()) this.lines.push({ type: 'stderr', text: err });
        resolve(code);
      }),
    );
  }

  /** Index to pass as `since`: only lines arriving after this call count. */
  mark(): number {
    return this.lines.length;
  }

  /** Resolves with the first line from index `since` on (seen or coming) matching pred. */
  waitFor(pred: (l: Line) => boolean, timeoutMs = 10_000, what = 'line', since = 0): Promise<Line> {
    const seen = this.lines.slice(since).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.pred !== pred);
        reject(new Error(`${this.host}: no ${what} within ${timeoutMs} ms; lines:\n${this.dump()}`));
      }, timeoutMs);
      this.waiters.push({
        pred,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  }

  /** Waits for a transition of instance into state, among the lines from index `since` on. */
  state(instance: string, to: string, timeoutMs = 10_000, since = 0): Promise<Line> {
    const pred = (l: Line) => l.type === 'transition' && l.instance === instance && l.to === to;
    return this.waitFor(pred, timeoutMs, `${instance} -> ${to}`, since);
  }

  current(instance: string): string | undefined {
    const t = this.lines.filter((l) => l.type === 'transition' && l.instance === instance).at(-1);
    return t?.to as string | undefined;
  }

  async status(): Promise<Line> {
    const p = this.waitFor((l) => l.type === 'status', 5000, 'status', this.mark());
    this.child.stdin!.write('status\n');
    return p;
  }

  command(line: string): void {
    this.child.stdin!.write(line + '\n');
  }

  kill(sig: NodeJS.Signals): void {
    // The runner is the child of `ip netns exec`, which execs it: same pid.
    this.child.kill(sig);
  }

  dump(): string {
    return this.lines.map((l) => JSON.stringify(l)).join('\n');
  }
}

const running = new Set<VrrpProc>();

/** Kills every runner still alive (afterEach: a failed test must not leave routers behind). */
export async function killAllVrrp(): Promise<void> {
  const left = [...running];
  for (const p of left) p.kill('SIGKILL');
  await Promise.all(left.map((p) => p.exited));
}

export async function startVrrp(topo: Topology, host: string, config: VrrpConfig): Promise<VrrpProc> {
  const child = topo.spawn(host, [process.execPath, STANDALONE, JSON.stringify(config)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const p = new VrrpProc(host, child);
  running.add(p);
  void p.exited.then(() => running.delete(p));
  await p.waitFor((l) => l.type === 'started' || l.type === 'stderr', 15_000, 'start');
  if (p.lines.some((l) => l.type === 'stderr')) throw new Error(`${host}: runner failed:\n${p.dump()}`);
  return p;
}

/** Addresses on an interface of a host (`ip -j addr`). */
export async function addressesOf(topo: Topology, host: string, dev = 'eth0'): Promise<string[]> {
  const out = await topo.sh(host, `ip -j addr show dev ${dev}`);
  const j = JSON.parse(out) as { addr_info: { local: string }[] }[];
  return j.flatMap((i) => i.addr_info.map((a) => a.local));
}

export async function holds(topo: Topology, host: string, vip: string, dev = 'eth0'): Promise<boolean> {
  return (await addressesOf(topo, host, dev)).includes(vip);
}

/** Polls until cond holds or timeoutMs passes; returns the elapsed ms. */
export async function until(
  cond: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
): Promise<number> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timeout after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - t0;
}

/** A v3 instance with short intervals (defaults for the multi-director tests). */
export function instance(over: Partial<VrrpInstanceConfig> & { priority: number }): VrrpInstanceConfig {
  return {
    name: 'VI_1',
    interface: 'eth0',
    vrid: 51,
    version: 3,
    advertInt: 0.1,
    vips: ['198.51.100.100/24'],
    garp: { masterDelay: 0, masterRepeat: 2 },
    ...over,
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
