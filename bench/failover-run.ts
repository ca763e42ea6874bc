// Failover benchmark: two directors (priorities 150 / 100, VRRPv3) and a client on one bridge, run
// with lbd and with keepalived. A UDP server bound to the VIP answers on each director; the client
// probes the VIP every millisecond. Measured: from the master's death (SIGTERM, kill -9) to the first
// answer from the backup's server. Medians of LBD_BENCH_TRIALS (default 5) trials each. Then both
// pairs run at 0.1 s while every CPU is saturated for LBD_BENCH_STRESS_S seconds (default 60):
// false failovers are counted.
import { ChildProcess, spawn } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { Topology } from '../test/support/netns';
import { Keepalived } from '../test/vrrp/keepalived';
import { VrrpProc, killAllVrrp, startVrrp } from '../test/vrrp/support';
import { median } from './stats';

const TRIALS = Number(process.env.LBD_BENCH_TRIALS ?? 5);
const STRESS_S = Number(process.env.LBD_BENCH_STRESS_S ?? 60);
const VIP = '198.51.100.100';
const PORT = 9000;
const UDP = path.join(__dirname, 'failover-udp.js');
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Impl = 'lbd' | 'keepalived';
type Death = 'SIGTERM' | 'SIGKILL';

class Probe {
  readonly seen: { name: string; t: number }[] = [];
  constructor(readonly child: ChildProcess) {
    readline.createInterface({ input: child.stdout! }).on('line', (l) => {
      try {
        this.seen.push(JSON.parse(l) as { name: string; t: number });
      } catch {
        /* ignore */
      }
    });
  }
  current(): string | undefined {
    return this.seen.at(-1)?.name;
  }
  async waitFor(name: string, after: number, timeoutMs: number): Promise<number> {
    const t0 = Date.now();
    for (;;) {
      const hit = this.seen.find((s) => s.name === name && s.t >= after);
      if (hit) return hit.t;
      if (Date.now() - t0 > timeoutMs)
        throw new Error(`client: no answer from ${name} within ${timeoutMs} ms`);
      await sleep(5);
    }
  }
}

async function clearVip(topo: Topology, hosts: string[]): Promise<void> {
  await Promise.all(hosts.map((h) => topo.exec(h, ['ip', 'addr', 'del', `${VIP}/24`, 'dev', 'eth0'])));
}

interface Pair {
  master: { kill(sig: Death): Promise<void> };
  describe(): string;
  stop(): Promise<void>;
}

async function startLbd(
  topo: Topology,
  advertInt: number,
  vrid: number,
  hosts: [string, string],
): Promise<Pair> {
  const cfg = (priority: number, state: 'MASTER' | 'BACKUP') => ({
    instances: [
      {
        name: 'VI_1',
        interface: 'eth0',
        vrid,
        version: 3 as const,
        priority,
        advertInt,
        state,
        vips: [`${VIP}/24`],
        garp: { masterDelay: 5, masterRepeat: 5 },
      },
    ],
  });
  const a = await startVrrp(topo, hosts[0], cfg(150, 'MASTER'));
  await a.state('VI_1', 'MASTER', 5000);
  const b = await startVrrp(topo, hosts[1], cfg(100, 'BACKUP'));
  await b.state('VI_1', 'BACKUP', 5000);
  const procs: VrrpProc[] = [a, b];
  return {
    describe: () => b.dump(),
    master: {
      kill: async (sig) => {
        a.kill(sig);
        await a.exited;
      },
    },
    stop: async () => {
      for (const p of procs) p.kill('SIGKILL');
      await Promise.all(procs.map((p) => p.exited));
    },
  };
}

async function startKeepalived(
  topo: Topology,
  advertInt: number,
  vrid: number,
  hosts: [string, string],
): Promise<Pair> {
  const mk = (host: string, priority: number, state: 'MASTER' | 'BACKUP') =>
    new Keepalived(topo, host, [{ vrid, priority, version: 3, advertInt, vips: [`${VIP}/24`], state }]);
  const a = mk(hosts[0], 150, 'MASTER');
  const b = mk(hosts[1], 100, 'BACKUP');
  a.start();
  await a.waitLog(/Entering MASTER STATE/, 10_000);
  b.start();
  await b.waitLog(/Entering BACKUP STATE/, 10_000);
  return {
    describe: () => b.log,
    master: { kill: (sig) => a.stop(sig) },
    stop: async () => {
      for (const k of [a, b]) {
        await k.stop('SIGKILL').catch(() => undefined);
        k.cleanup();
      }
    },
  };
}

async function trial(
  topo: Topology,
  probe: Probe,
  impl: Impl,
  advertInt: number,
  death: Death,
): Promise<number> {
  await clearVip(topo, ['a', 'b']);
  const pair =
    impl === 'lbd'
      ? await startLbd(topo, advertInt, 51, ['a', 'b'])
      : await startKeepalived(topo, advertInt, 51, ['a', 'b']);
  try {
    await probe.waitFor('a', 0, 10_000).then(async () => {
      // The client answers from a; and the backup has heard a few adverts.
      while (probe.current() !== 'a') await sleep(10);
    });
    // A random phase within the advert interval: the kill does not always land just after an advert.
    await sleep(Math.max(300, advertInt * 1500) + Math.random() * advertInt * 1000);
    const t0 = now();
    await pair.master.kill(death);
    try {
      const t1 = await probe.waitFor('b', t0, 30_000);
      return t1 - t0;
    } catch (e) {
      const neigh = await topo.exec('client', ['ip', 'neigh', 'show', VIP]);
      const addrs = await Promise.all(
        ['a', 'b'].map((h) => topo.exec(h, ['ip', '-br', 'addr', 'show', 'dev', 'eth0'])),
      );
      throw new Error(
        `${impl} ${advertInt}s ${death}: ${(e as Error).message}\nclient neigh: ${neigh.stdout}` +
          `addresses: ${addrs.map((a) => a.stdout.trim()).join(' | ')}\nbackup: ${pair.describe()}\nprobe: ${JSON.stringify(probe.seen.slice(-5))}`,
        { cause: e },
      );
    }
  } finally {
    await pair.stop();
  }
}

async function stress(topo: Topology): Promise<{ lbd: number; keepalived: number }> {
  // lbd on a / b (VRID 61), keepalived on c / d (VRID 62), both at 0.1 s, all CPUs busy.
  await clearVip(topo, ['a', 'b', 'c', 'd']);
  const cfg = (priority: number, state: 'MASTER' | 'BACKUP') => ({
    instances: [
      {
        name: 'VI_S',
        interface: 'eth0',
        vrid: 61,
        version: 3 as const,
        priority,
        advertInt: 0.1,
        state,
        vips: ['198.51.100.150/24'],
      },
    ],
  });
  const a = await startVrrp(topo, 'a', cfg(150, 'MASTER'));
  const b = await startVrrp(topo, 'b', cfg(100, 'BACKUP'));
  const kc = new Keepalived(topo, 'c', [
    { vrid: 62, priority: 150, version: 3, advertInt: 0.1, vips: ['198.51.100.151/24'], state: 'MASTER' },
  ]);
  const kd = new Keepalived(topo, 'd', [
    { vrid: 62, priority: 100, version: 3, advertInt: 0.1, vips: ['198.51.100.151/24'], state: 'BACKUP' },
  ]);
  kc.start();
  kd.start();
  await a.state('VI_S', 'MASTER', 5000);
  await b.state('VI_S', 'BACKUP', 5000);
  await kc.waitLog(/Entering MASTER STATE/, 10_000);
  await kd.waitLog(/Entering BACKUP STATE/, 10_000);
  await sleep(1000);
  const [ma, mb, lc, ld] = [a.mark(), b.mark(), kc.log.length, kd.log.length];
  const burners: ChildProcess[] = [];
  for (let i = 0; i < os.cpus().length; i++) {
    burners.push(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
  }
  await sleep(STRESS_S * 1000);
  for (const p of burners) p.kill('SIGKILL');
  await sleep(500);
  const lbdFalse =
    a.lines.slice(ma).filter((l) => l.type === 'transition').length +
    b.lines.slice(mb).filter((l) => l.type === 'transition').length;
  const count = (s: string) => (s.match(/Entering (MASTER|BACKUP|FAULT) STATE/g) ?? []).length;
  const kaFalse = count(kc.log.slice(lc)) + count(kd.log.slice(ld));
  await killAllVrrp();
  for (const k of [kc, kd]) {
    await k.stop('SIGKILL').catch(() => undefined);
    k.cleanup();
  }
  return { lbd: lbdFalse, keepalived: kaFalse };
}

async function main(): Promise<void> {
  const host = (addr: string) => ({
    links: [{ lan: 'lan', addrs: [`${addr}/24`] }],
    sysctls: { 'net.ipv4.ip_nonlocal_bind': '1' },
  });
  const topo = await Topology.create({
    lans: { lan: {} },
    hosts: {
      a: host('198.51.100.1'),
      b: host('198.51.100.2'),
      c: host('198.51.100.3'),
      d: host('198.51.100.4'),
      client: host('198.51.100.50'),
    },
  });
  const cleanup = () => void topo.destroy();
  process.on('SIGINT', cleanup);
  try {
    for (const h of ['a', 'b']) {
      const s = topo.spawn(h, [process.execPath, UDP, 'server', VIP, String(PORT), h]);
      await new Promise((r) => s.stdout!.once('data', r));
    }
    const probe = new Probe(topo.spawn('client', [process.execPath, UDP, 'probe', VIP, String(PORT), '1']));
    const results: Record<string, number> = {};
    const scenarios: [string, number, Death][] = [
      ['term', 1, 'SIGTERM'],
      ['kill@1s', 1, 'SIGKILL'],
      ['kill@0.1s', 0.1, 'SIGKILL'],
    ];
    const only = process.env.LBD_BENCH_ONLY;
    for (const [label, adv, death] of scenarios) {
      if (only && !only.split(',').includes(label)) continue;
      for (const impl of ['lbd', 'keepalived'] as Impl[]) {
        const times: number[] = [];
        for (let i = 0; i < TRIALS; i++) times.push(await trial(topo, probe, impl, adv, death));
        results[`${label} ${impl}`] = median(times);
        process.stdout.write(
          `${label.padEnd(9)} ${impl.padEnd(10)} median ${median(times).toFixed(1)} ms  (${times.map((t) => t.toFixed(1)).join(', ')})\n`,
        );
      }
    }
    if (STRESS_S > 0) {
      const s = await stress(topo);
      process.stdout.write(
        `stress: ${STRESS_S} s with every CPU busy at advert 0.1 s: false transitions lbd ${s.lbd} keepalived ${s.keepalived}\n`,
      );
    }
    const r = (k: string) => (results[k] === undefined ? 'n/a' : Math.round(results[k]));
    process.stdout.write(
      `failover: term lbd ${r('term lbd')} ms keepalived ${r('term keepalived')} ms; ` +
        `kill lbd@1s ${r('kill@1s lbd')} ms keepalived@1s ${r('kill@1s keepalived')} ms; ` +
        `kill lbd@0.1s ${r('kill@0.1s lbd')} ms keepalived@0.1s ${r('kill@0.1s keepalived')} ms\n`,
    );
  } finally {
    await killAllVrrp();
    await topo.destroy();
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
