// The guest side of bench/reload: lbd with 10,000 virtual services x 8 real servers (90,000 kernel
// objects), in this process (the Lbd class, as bin/lbd runs it):
//   1. cold start on an empty kernel (applies 90,000 objects);
//   2. a reload that changes one real server's weight: the file is read again, only the top-level blocks
//      the edit touched are parsed and validated again (the checks across blocks run over the whole
//      model), then only the difference is applied; the kernel operations it took are counted;
//   3. lbd stopped (IPVS left as it is) and started again: it adopts the full table without a change.
// Last line: reload: one change <ms> ms; adopt 90000 objects <ms> ms; kernel ops for one change <n>
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { validateConfigFile } from '../src/config/load';
import { Lbd } from '../src/daemon/lbd';
import { Logs } from '../src/daemon/logger';

const SERVICES = Number(process.env.SERVICES ?? 10000);
const REALS = Number(process.env.REALS ?? 8);

function config(changedWeight: number): string {
  const out: string[] = [];
  for (let i = 0; i < SERVICES; i++) {
    out.push(
      `virtual_server 198.51.100.${1 + (i % 100)} ${1000 + Math.floor(i / 100)} {`,
      '    lb_algo wlc',
      '    lb_kind DR',
      '    protocol TCP',
    );
    for (let j = 0; j < REALS; j++) {
      const weight = i === SERVICES - 1 && j === REALS - 1 ? changedWeight : 1;
      out.push(
        `    real_server 203.0.113.${((i * REALS + j) % 250) + 1} ${1000 + Math.floor(i / 100)} {`,
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
  // Both versions are made up front: the 17 MB of garbage of making one must not land in a timing.
  const before = config(1);
  const after = config(5);
  fs.writeFileSync(file, before);
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

  fs.writeFileSync(file, after);
  t = performance.now();
  const r = await first.reload();
  const reloadMs = ms(t);
  const applyMs = Math.round(first.reconciler?.stats.lastApplyMs ?? 0);
  const load = first.lastLoad;
  const tm = first.reloadTimings;
  console.log(
    `reload of one changed real server: ${reloadMs} ms in all (the file read again, ${load?.parsed} top-level block(s) parsed again, ${load?.reused} reused${load?.full ? ', a full load' : ''}; loading ${Math.round(tm?.load ?? 0)} ms, indexing ${Math.round(tm?.index ?? 0)} ms, the rest ${Math.round(tm?.apply ?? 0)} ms), of which the reconciler pass (desired table, diff, kernel) ${applyMs} ms; ${r.changes} kernel operation(s)`,
  );
  t = performance.now();
  const check = validateConfigFile(file, { hostChecks: 'off' });
  if (!check.config) throw new Error('the changed configuration is invalid');
  console.log(`(a full validation of the ${objects}-object file, for comparison: ${ms(t)} ms)`);
  const table = execFileSync('ipvsadm', ['-Sn'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (
    !table.includes(
      `-r 203.0.113.${(((SERVICES - 1) * REALS + REALS - 1) % 250) + 1}:${1000 + Math.floor((SERVICES - 1) / 100)} -g -w 5`,
    )
  ) {
    throw new Error('the changed weight is not in the kernel');
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
  console.log(
    `reload: one change ${reloadMs} ms; adopt ${objects} objects ${adoptMs} ms; kernel ops for one change ${r.changes}`,
  );
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench/reload: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
