// bench/lbctl's guest side: builds each table with lbctl -R (the batch path), then times whole
// processes `bin/lbctl -Sn` and `ipvsadm -Sn` (output to a file), best of RUNS, and checks that both
// printed the same bytes; then the same for the listing, `-Ln` (printed, not in the last line).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { runIpvsadm } from '../src/cli/ipvsadm/main';

const RUNS = Number(process.env.RUNS ?? 3);
const root = path.resolve(__dirname, '..', '..');
const lbctlBin = path.join(root, 'bin', 'lbctl');

function rules(services: number, reals: number): string {
  const lines: string[] = [];
  for (let v = 0; v < services; v++) {
    const vip = `10.${10 + (v >> 16)}.${(v >> 8) & 255}.${v & 255}:80`;
    lines.push(`-A -t ${vip} -s wrr`);
    for (let r = 1; r <= reals; r++)
      lines.push(`-a -t ${vip} -r 172.${16 + ((v >> 8) % 16)}.${v & 255}.${r}:8080 -m -w ${r}`);
  }
  return lines.join('\n') + '\n';
}

function time(cmd: string, args: string[], file: string): number {
  const fd = fs.openSync(file, 'w');
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: ['ignore', fd, 'inherit'] });
  const ms = performance.now() - t0;
  fs.closeSync(fd);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}`);
  return ms;
}

/** Best of RUNS of `lbctl ARGS` and `ipvsadm ARGS`, alternated; their outputs must be the same bytes. */
function compare(label: string, args: string[]): [number, number] {
  let best = [Infinity, Infinity];
  for (let i = 0; i < RUNS; i++) {
    const a = time(lbctlBin, args, '/tmp/lbctl.out');
    const b = time('ipvsadm', args, '/tmp/ipvsadm.out');
    console.log(
      `${label}: run ${i + 1}: lbctl ${args.join(' ')} ${a.toFixed(0)} ms, ipvsadm ${b.toFixed(0)} ms`,
    );
    best = [Math.min(best[0], a), Math.min(best[1], b)];
  }
  if (!fs.readFileSync('/tmp/lbctl.out').equals(fs.readFileSync('/tmp/ipvsadm.out')))
    throw new Error(`${label}: lbctl ${args.join(' ')} and ipvsadm ${args.join(' ')} outputs differ`);
  return best as [number, number];
}

async function measure(services: number, reals: number): Promise<[number, number]> {
  spawnSync('ipvsadm', ['-C']);
  let err = '';
  const t0 = performance.now();
  const code = await runIpvsadm(['-R'], {
    stdin: async () => rules(services, reals),
    stderr: (s) => (err += s),
  });
  if (code !== 0) throw new Error(`lbctl -R: ${err}`);
  console.log(`${services}x${reals}: table applied by lbctl -R in ${(performance.now() - t0).toFixed(0)} ms`);
  const label = `${services}x${reals}`;
  const best = compare(label, ['-Sn']);
  const lines = fs.readFileSync('/tmp/ipvsadm.out').toString().split('\n').length - 1;
  if (lines !== services * (1 + reals)) throw new Error(`${label}: ${lines} lines saved`);
  const list = compare(label, ['-Ln']);
  console.log(
    `${label}: lbctl -Ln ${list[0].toFixed(0)} ms vs ipvsadm -Ln ${list[1].toFixed(0)} ms (ratio ${(list[0] / list[1]).toFixed(2)})`,
  );
  // node's bare start-up, for the record
  const t1 = performance.now();
  spawnSync(process.execPath, ['-e', '0']);
  console.log(`node -e 0: ${(performance.now() - t1).toFixed(0)} ms`);
  return best;
}

async function main(): Promise<void> {
  const [a1, b1] = await measure(16000, 1);
  const [a2, b2] = await measure(1000, 4);
  spawnSync('ipvsadm', ['-C']);
  console.log(
    `lbctl dump: 16000x1 ${a1.toFixed(0)} ms vs ipvsadm ${b1.toFixed(0)} ms (ratio ${(a1 / b1).toFixed(2)}); ` +
      `1000x4 ${a2.toFixed(0)} ms vs ipvsadm ${b2.toFixed(0)} ms (ratio ${(a2 / b2).toFixed(2)})`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
