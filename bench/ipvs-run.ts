// The IPVS benchmark's guest side (bench/ipvs boots the VM and runs this): 10,000 virtual services x 8
// real servers (90,000 objects) applied through the addon's batch path and with `ipvsadm -R`, then the
// table dumped by the addon and by `ipvsadm -Sn`; the event loop's longest timer delay during the apply.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  diff,
  ip,
  Ipvs,
  makeDestination,
  makeService,
  port,
  tableRules,
  type VirtualService,
} from '../src/ipvs';

const SERVICES = Number(process.env.SERVICES ?? 10000);
const REALS = Number(process.env.REALS ?? 8);

function table(): VirtualService[] {
  const out: VirtualService[] = [];
  for (let v = 0; v < SERVICES; v++) {
    const vip = `10.${10 + (v >> 16)}.${(v >> 8) & 255}.${v & 255}`;
    const dests = [];
    for (let r = 1; r <= REALS; r++) {
      dests.push(
        makeDestination(ip(`172.${16 + ((v >> 8) % 16)}.${v & 255}.${r}`), port(8080), {
          forward: { method: 'masq' },
          weight: r,
        }),
      );
    }
    out.push({
      ...makeService({ protocol: 'tcp', address: ip(vip), port: port(80) }, { scheduler: 'wrr' }),
      destinations: dests,
    });
  }
  return out;
}

function timed<T>(f: () => T): [T, number] {
  const t0 = performance.now();
  const r = f();
  return [r, performance.now() - t0];
}

async function main(): Promise<void> {
  const want = table();
  const objects = want.length + want.reduce((n, s) => n + s.destinations.length, 0);
  const rules = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lbd-bench-ipvs-')), 'rules');
  fs.writeFileSync(rules, tableRules(want).join('\n') + '\n');
  console.log(`table: ${want.length} virtual services x ${REALS} real servers = ${objects} objects`);

  const ipvs = await Ipvs.open();
  await ipvs.flush();

  // ipvsadm -R (process start included, as an operator runs it).
  const [r, ipvsadmApply] = timed(() =>
    spawnSync('ipvsadm', ['-R'], { input: fs.readFileSync(rules), encoding: 'utf8' }),
  );
  if (r.status !== 0) throw new Error(`ipvsadm -R failed: ${r.stderr}`);
  console.log(`ipvsadm -R: ${ipvsadmApply.toFixed(0)} ms`);

  // Dumps of the same table: the addon (decoded to objects), then ipvsadm -Sn (output to a pipe).
  const t0 = performance.now();
  const dumped = await ipvs.table();
  const lbdDump = performance.now() - t0;
  const dumpedObjects = dumped.length + dumped.reduce((n, s) => n + s.destinations.length, 0);
  if (dumpedObjects !== objects) throw new Error(`addon dump: ${dumpedObjects} objects, expected ${objects}`);
  if (diff(dumped, want).length !== 0)
    throw new Error('addon dump differs from the table ipvsadm -R applied');
  const tt = ipvs.lastTableTimings;
  console.log(
    `lbd dump: ${lbdDump.toFixed(0)} ms (${dumpedObjects} objects; service dump ${tt.servicesMs.toFixed(0)} ms, ` +
      `then waiting for real server dumps ${tt.destinationsMs.toFixed(0)} ms, decoding ${tt.decodeMs.toFixed(0)} ms)`,
  );
  const [s, ipvsadmDump] = timed(() =>
    spawnSync('ipvsadm', ['-Sn'], { encoding: 'utf8', maxBuffer: 1 << 30 }),
  );
  if (s.status !== 0) throw new Error(`ipvsadm -Sn failed: ${s.stderr}`);
  const savedLines = s.stdout.split('\n').filter(Boolean).length;
  if (savedLines !== objects) throw new Error(`ipvsadm -Sn printed ${savedLines} lines, expected ${objects}`);
  console.log(`ipvsadm -Sn: ${ipvsadmDump.toFixed(0)} ms (${savedLines} lines)`);

  await ipvs.flush();
  ipvs.close();

  // The addon's apply, into a fresh network namespace: the kernel keeps deleted real servers for two
  // minutes in a per-namespace trash list that every real server addition walks, so after the flush above
  // the root namespace would be slower than the empty one ipvsadm -R started from. A fresh namespace
  // starts from the same state. Diff against its (empty) table, then the pipelined batch, while a 10 ms
  // timer measures how late the event loop runs it.
  const ns = 'lbdbenchipvs';
  spawnSync('ip', ['netns', 'del', ns]);
  const add = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
  if (add.status !== 0) throw new Error(`ip netns add: ${add.stderr}`);
  // IPv4 real servers need the namespace's local routing table (else the kernel says EINVAL): lo up.
  spawnSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  const nsIpvs = await Ipvs.open({ netns: `/run/netns/${ns}` });
  const d0 = performance.now();
  const current = await nsIpvs.table();
  const ops = diff(current, want);
  const diffMs = performance.now() - d0;
  let maxDelay = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    maxDelay = Math.max(maxDelay, now - last - 10);
    last = now;
  }, 10);
  // Timed like ipvsadm -R, whose input is ready: the operations through the batch path.
  const a0 = performance.now();
  const results = await nsIpvs.apply(ops);
  const lbdApply = performance.now() - a0;
  clearInterval(timer);
  console.log(`lbd read + diff before the apply: ${diffMs.toFixed(0)} ms`);
  const failed = results.filter((x) => !x.ok);
  if (failed.length > 0)
    throw new Error(
      `${failed.length} operations failed, first: ${failed[0].ok ? '' : failed[0].error.message}`,
    );
  console.log(
    `lbd apply: ${lbdApply.toFixed(0)} ms (${ops.length} operations), longest event-loop timer delay ${maxDelay.toFixed(1)} ms`,
  );
  const check = await nsIpvs.table();
  if (diff(check, want).length !== 0)
    throw new Error('the kernel table after the addon apply differs from the wanted one');
  await nsIpvs.flush();
  nsIpvs.close();
  spawnSync('ip', ['netns', 'del', ns]);

  console.log(
    `event loop: longest timer delay during the ${objects}-object apply: ${maxDelay.toFixed(1)} ms`,
  );
  console.log(
    `ipvs apply: lbd ${lbdApply.toFixed(0)} ms, ipvsadm -R ${ipvsadmApply.toFixed(0)} ms, speedup ${(ipvsadmApply / lbdApply).toFixed(2)}x; ` +
      `dump: lbd ${lbdDump.toFixed(0)} ms, ipvsadm -Sn ${ipvsadmDump.toFixed(0)} ms, ratio ${(lbdDump / ipvsadmDump).toFixed(2)}x`,
  );
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
