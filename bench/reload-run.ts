// The guest side of bench/reload: lbd with 10,000 virtual services x 8 real servers (90,000 kernel
// objects), in this process (the Lbd class, as bin/lbd runs it):
//   1. cold start on an empty kernel (applies 90,000 objects);
//   2. nine reloads that each change one real server's weight (EDITS, one after the other: at the end, in the
//      middle and at the start of the file; some keep the file's length, some make it longer or shorter,
//      which moves everything after them): the file is read again, only the top-level blocks the edit
//      touched are parsed and validated again (the checks across blocks run over the whole model), then
//      only the difference is applied; the kernel operations each took are counted;
//   3. lbd stopped (IPVS left as it is) and started again: it adopts the full table without a change;
//   4. keepalived, which operators would run instead, on the same file: started on an empty table, then
//      the first KEEPALIVED_RELOADS edits, each a SIGHUP timed until its checker process logs
//      "Reload complete" (then the kernel has the new weight, checked).
// Every reload is printed; the first after start also compiles the reload's code (V8 compiles a function
// when it first runs). The figure is the median of the reloads, the kernel operations the most any took.
// Last line: reload: one change <ms> ms; adopt 90000 objects <ms> ms; kernel ops for one change <n>
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { validateConfigFile } from '../src/config/load';
import { Lbd } from '../src/daemon/lbd';
import { Logs } from '../src/daemon/logger';
import { median } from './stats';

const SERVICES = Number(process.env.SERVICES ?? 10000);
const REALS = Number(process.env.REALS ?? 8);

/** Each reload sets the weight of one more service's last real server (the others stay 1). */
const EDITS = [
  { service: SERVICES - 1, weight: 5 },
  { service: Math.floor(SERVICES / 2), weight: 12 },
  { service: 0, weight: 3 },
  { service: Math.floor(SERVICES / 4), weight: 100 },
  { service: SERVICES - 1, weight: 7 },
  { service: Math.floor((SERVICES * 3) / 4), weight: 33 },
  { service: 1, weight: 9 },
  { service: Math.floor((SERVICES * 9) / 10), weight: 1000 },
  { service: Math.floor(SERVICES / 2), weight: 2 },
];

const KEEPALIVED_RELOADS = Number(process.env.KEEPALIVED_RELOADS ?? 3);

const vip = (i: number) => `198.51.100.${1 + (i % 100)} ${1000 + Math.floor(i / 100)}`;
const rip = (i: number, j: number) => `203.0.113.${((i * REALS + j) % 250) + 1}`;

/** The configuration with these weights (service -> weight of its last real server). */
function config(weights: ReadonlyMap<number, number>): string {
  const out: string[] = [];
  for (let i = 0; i < SERVICES; i++) {
    out.push(`virtual_server ${vip(i)} {`, '    lb_algo wlc', '    lb_kind DR', '    protocol TCP');
    for (let j = 0; j < REALS; j++) {
      const weight = j === REALS - 1 ? (weights.get(i) ?? 1) : 1;
      out.push(
        `    real_server ${rip(i, j)} ${1000 + Math.floor(i / 100)} {`,
        `        weight ${weight}`,
        '    }',
      );
    }
    out.push('}');
  }
  return out.join('\n') + '\n';
}

const quiet = () => new Logs({ level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const ms = (t: number) => Math.round(performance.now() - t);

async function main(): Promise<void> {
  // The kernel only accepts real servers it can route to.
  execFileSync('sh', [
    '-c',
    'ip link add lbdb0 type dummy && ip addr add 203.0.113.254/24 dev lbdb0 && ip link set lbdb0 up',
  ]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbd-bench-reload-'));
  const file = path.join(dir, 'keepalived.conf');
  // Every version is made up front: the 17 MB of garbage of making one must not land in a timing.
  const weights = new Map<number, number>();
  // As bytes: writing a string would make a 17 MB buffer of it right before the reload.
  const versions = [Buffer.from(config(weights))];
  for (const e of EDITS) versions.push(Buffer.from(config(weights.set(e.service, e.weight))));
  fs.writeFileSync(file, versions[0]);
  const objects = SERVICES * (REALS + 1);
  const opts = (name: string) => ({
    configFile: file,
    logs: quiet(),
    hostChecks: 'off' as const,
    socketPath: path.join(dir, `${name}.sock`),
    stateFile: path.join(dir, 'managed.json'),
    driftIntervalMs: 3_600_000,
  });

  let t = performance.now();
  const first = new Lbd(opts('first'));
  await first.start();
  console.log(
    `cold start on an empty kernel: ${ms(t)} ms (${objects} objects applied in ${Math.round(first.reconciler?.stats.lastApplyMs ?? 0)} ms)`,
  );

  const times: number[] = [];
  let maxOps = 0;
  const before = new Map<number, number>();
  for (let k = 0; k < EDITS.length; k++) {
    const e = EDITS[k];
    const was = before.get(e.service) ?? 1;
    before.set(e.service, e.weight);
    fs.writeFileSync(file, versions[k + 1]);
    t = performance.now();
    const r = await first.reload();
    const reloadMs = ms(t);
    times.push(reloadMs);
    maxOps = Math.max(maxOps, r.changes);
    const load = first.lastLoad;
    const tm = first.reloadTimings;
    const delta = versions[k + 1].length - versions[k].length;
    console.log(
      `reload ${k + 1}, service ${e.service} of ${SERVICES} (weight ${was} -> ${e.weight}, the file ${delta === 0 ? 'as long' : `${delta > 0 ? '+' : ''}${delta} bytes`}): ${reloadMs} ms in all (${load?.parsed} top-level block(s) parsed again, ${load?.reused} reused${load?.full ? ', a full load' : ''}; loading ${Math.round(tm?.load ?? 0)} ms, indexing ${Math.round(tm?.index ?? 0)} ms, the rest ${Math.round(tm?.apply ?? 0)} ms, of which the reconciler pass ${Math.round(first.reconciler?.stats.lastApplyMs ?? 0)} ms); ${r.changes} kernel operation(s)`,
    );
  }
  const mine = median(times);
  console.log(
    `reloads of one real server: first ${times[0]} ms, median ${mine} ms, slowest ${Math.max(...times)} ms`,
  );
  t = performance.now();
  const check = validateConfigFile(file, { hostChecks: 'off' });
  if (!check.config) throw new Error('the changed configuration is invalid');
  console.log(`(a full validation of the ${objects}-object file, for comparison: ${ms(t)} ms)`);
  const table = execFileSync('ipvsadm', ['-Sn'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  for (const [service, weight] of before) {
    const port = 1000 + Math.floor(service / 100);
    if (
      !table.includes(
        `-a -t ${vip(service).replace(' ', ':')} -r ${rip(service, REALS - 1)}:${port} -g -w ${weight}\n`,
      )
    )
      throw new Error(`the weight ${weight} of service ${service} is not in the kernel`);
  }
  await first.stop();

  t = performance.now();
  const second = new Lbd(opts('second'));
  await second.start();
  const adoptMs = ms(t);
  const ops = Object.values(second.reconciler?.stats.operations ?? {}).reduce((a, b) => a + b, 0);
  console.log(
    `restart adopting ${objects} objects: ${adoptMs} ms in all (reconciler pass ${Math.round(second.reconciler?.stats.lastApplyMs ?? 0)} ms), ${ops} kernel operations`,
  );
  if (ops !== 0) throw new Error(`adoption changed the kernel: ${ops} operations`);
  await second.stop();

  const count = Math.min(KEEPALIVED_RELOADS, EDITS.length);
  if (count > 0) {
    const theirs = await keepalivedReloads(file, versions, count);
    const theirMedian = median(theirs);
    const mineFirst = times.slice(0, theirs.length);
    const myMedian = median(mineFirst);
    console.log(
      `the first ${theirs.length} reloads: lbd ${mineFirst.join(', ')} ms (median ${myMedian}), keepalived ${theirs.join(', ')} ms (median ${theirMedian}); ratio ${(myMedian / theirMedian).toFixed(3)}`,
    );
  } else console.log('keepalived not run (KEEPALIVED_RELOADS=0)');
  console.log(
    `reload: one change ${mine} ms; adopt ${objects} objects ${adoptMs} ms; kernel ops for one change ${maxOps}`,
  );
}

/** The weight of the last real server of a service, as the kernel has it. */
function kernelWeight(service: number): number {
  const out = execFileSync('ipvsadm', ['-Ln', '-t', vip(service).replace(' ', ':')], { encoding: 'utf8' });
  const rs = out.split('\n').filter((l) => l.includes(`${rip(service, REALS - 1)}:`));
  return rs.length === 1 ? Number(rs[0].trim().split(/\s+/)[3]) : NaN;
}

/**
 * keepalived (its checker process programs IPVS) on the same file, from an empty table: the first
 * `count` versions after the first, each loaded by a SIGHUP, timed until the checker logs
 * "Reload complete". Returns the times (ms).
 */
async function keepalivedReloads(file: string, versions: Buffer[], count: number): Promise<number[]> {
  execFileSync('ipvsadm', ['-C']);
  fs.writeFileSync(file, versions[0]);
  const dir = path.dirname(file);
  const pid = (name: string) => path.join(dir, `keepalived-${name}.pid`);
  const k = spawn(
    'keepalived',
    ['-n', '-l', '-f', file, '-p', pid('main'), '--vrrp_pid', pid('vrrp'), '--checkers_pid', pid('checker')],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let out = '';
  let waiter: { re: RegExp; from: number; done: () => void } | undefined;
  const seen = (d: Buffer) => {
    out += d.toString();
    if (waiter && waiter.re.test(out.slice(waiter.from))) waiter.done();
  };
  k.stdout.on('data', seen);
  k.stderr.on('data', seen);
  const until = (re: RegExp, from: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`keepalived did not log ${re} in 15 minutes:\n${out.slice(-3000)}`)),
        900_000,
      );
      waiter = { re, from, done: () => (clearTimeout(timer), (waiter = undefined), resolve()) };
      if (re.test(out.slice(from))) waiter.done();
    });
  try {
    let t = performance.now();
    await until(/Startup complete/, 0);
    console.log(`keepalived: start on an empty kernel ${ms(t)} ms`);
    const times: number[] = [];
    for (let k1 = 1; k1 <= count; k1++) {
      fs.writeFileSync(file, versions[k1]);
      const from = out.length;
      t = performance.now();
      k.kill('SIGHUP');
      await until(/Reload complete/, from);
      times.push(ms(t));
      const e = EDITS[k1 - 1];
      const w = kernelWeight(e.service);
      console.log(
        `keepalived: reload ${k1}, service ${e.service} (weight -> ${e.weight}): ${times[k1 - 1]} ms`,
      );
      if (w !== e.weight)
        throw new Error(`keepalived's reload ${k1}: the kernel has weight ${w}, not ${e.weight}`);
    }
    return times;
  } finally {
    // Its stop would delete the 90,000 objects one by one: killed instead.
    const exited = k.exitCode !== null || k.signalCode !== null ? undefined : once(k, 'exit');
    process.kill(-k.pid!, 'SIGKILL');
    await exited;
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench/reload: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
