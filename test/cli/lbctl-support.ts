// Helpers of the lbctl differential tests: a seeded generator of random IPVS tables written as
// ipvsadm rules, and runners for the real ipvsadm (a child process) and for lbctl (in-process).
import { spawnSync } from 'node:child_process';
import { runIpvsadm } from '../../src/cli/ipvsadm/main';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs lbctl's ipvsadm in-process, output captured, messages naming the program 'ipvsadm'. */
export async function lbctl(argv: string[], stdin = ''): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const code = await runIpvsadm(argv, {
    prog: 'ipvsadm',
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    stdin: async () => stdin,
  });
  return { code, stdout, stderr };
}

export function ipvsadm(argv: string[], stdin = ''): RunResult {
  const r = spawnSync('ipvsadm', argv, { input: stdin, encoding: 'latin1', maxBuffer: 1 << 28 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Many ipvsadm invocations in one shell process (process starts are expensive in the guest). */
export function ipvsadmMany(cases: readonly string[][]): RunResult[] {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const sep = '@@LBCTL-CASE@@';
  const script = cases
    .map(
      (argv) =>
        `ipvsadm ${argv.map(q).join(' ')} >/tmp/lbctl.o 2>/tmp/lbctl.e; c=$?; cat /tmp/lbctl.o; echo ${sep}; cat /tmp/lbctl.e; echo "${sep}$c"`,
    )
    .join('\n');
  const r = spawnSync('sh', ['-c', script], { encoding: 'latin1', maxBuffer: 1 << 28 });
  const parts = r.stdout.split(new RegExp(`${sep}(-?\\d+)\\n`));
  const out: RunResult[] = [];
  for (let i = 0; i < cases.length; i++) {
    const chunk = parts[i * 2] ?? '';
    const code = Number(parts[i * 2 + 1] ?? -1);
    const k = chunk.indexOf(`${sep}\n`);
    out.push({
      code,
      stdout: k >= 0 ? chunk.slice(0, k) : chunk,
      stderr: k >= 0 ? chunk.slice(k + sep.length + 1) : '',
    });
  }
  return out;
}

const SEPARATOR = ['-L', '--timeout'];

/** Many listings by one ipvsadm process: `ipvsadm -R` runs list commands too, in order; each
 * listing is followed by `-L --timeout` as a separator (so --timeout itself is not among them). */
export function ipvsadmListings(modes: readonly string[][]): string[] {
  const input = modes.map((m) => `${m.join(' ')}\n${SEPARATOR.join(' ')}\n`).join('');
  const r = ipvsadm(['-R'], input);
  const sep = ipvsadm(SEPARATOR).stdout;
  const parts = r.stdout.split(sep);
  if (parts.length !== modes.length + 1) throw new Error(`ipvsadm -R listings: ${r.stderr}`);
  return parts.slice(0, modes.length);
}

/** A -S output as a canonical text: services sorted, each with its sorted real servers (the
 * printed order of real servers depends on the kernel's order, ipvsadm's sort not being total). */
export function canonicalRules(saved: string): string {
  const groups = new Map<string, string[]>();
  let cur = '';
  for (const line of saved.split('\n')) {
    if (line.startsWith('-A ')) {
      cur = line;
      groups.set(cur, []);
    } else if (line.startsWith('-a ')) groups.get(cur)?.push(line);
  }
  return [...groups.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([svc, dests]) => [svc, ...dests.sort()].join('\n'))
    .join('\n');
}

/** mulberry32 */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh'];

/** A random table as ipvsadm -R input: every protocol and family, fwmark services, all schedulers
 * and their flags, persistence with netmasks, one-packet, the sip engine, every forwarding method
 * and tunnel option, thresholds and weights, mixed-family tunnel servers. */
export function randomRules(seed: number, services: number): string {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const v4 = () =>
    pick([
      () => `10.${int(4)}.${int(256)}.${1 + int(254)}`,
      () => `${1 + int(254)}.${int(256)}.${int(256)}.${1 + int(254)}`,
      () => `200.${int(3)}.0.${1 + int(20)}`,
      () => `1.2.3.${1 + int(20)}`,
    ])();
  const v6 = () =>
    pick([
      () => `2001:db8::${(1 + int(0xfffe)).toString(16)}`,
      () => `2001:db8:${int(4).toString(16)}:0:${int(3)}::${(1 + int(40)).toString(16)}`,
      () => `fd00:${int(0xffff).toString(16)}::1`,
      () => `ff00::${1 + int(9)}`.replace('ff00', 'fe80'),
      () => `::ffff:10.9.${int(4)}.${1 + int(200)}`,
      () => `2001:db8:0:0:1:0:0:${1 + int(9)}`,
    ])();
  const port = () => pick([80, 443, 53, 21, 25, 8080, 1 + int(65534), 3306, 5060]);
  const lines: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < services; i++) {
    const kind = pick(['tcp', 'tcp', 'udp', 'udp', 'sctp', 'fwm']);
    const six = r() < 0.35;
    let svc: string;
    let proto = kind;
    if (kind === 'fwm') svc = `-f ${1 + int(r() < 0.1 ? 2147483646 : 3000)}${six ? ' -6' : ''}`;
    else {
      const a = six ? `[${v6()}]` : v4();
      svc = `${kind === 'tcp' ? '-t' : kind === 'udp' ? '-u' : '--sctp-service'} ${a}:${port()}`;
      proto = kind;
    }
    if (seen.has(svc)) continue;
    seen.add(svc);
    const sched = pick(SCHEDULERS);
    let line = `-A ${svc} -s ${sched}`;
    if (r() < 0.4) {
      line += r() < 0.3 ? ' -p' : ` -p ${1 + int(r() < 0.2 ? 2678400 : 3600)}`;
      if (r() < 0.5)
        line += six
          ? ` -M ${pick([64, 96, 112, 127, 1])}`
          : ` -M ${pick(['255.255.255.0', '255.255.0.0', '255.0.0.0', '255.255.255.252'])}`;
    }
    if (r() < 0.15) line += ' --pe sip';
    if ((proto === 'udp' || proto === 'fwm') && r() < 0.3) line += ' -o';
    if (sched === 'sh' && r() < 0.6) line += ` -b ${pick(['sh-fallback', 'sh-port', 'sh-fallback,sh-port'])}`;
    else if (sched === 'mh' && r() < 0.6)
      line += ` -b ${pick(['mh-fallback', 'mh-port', 'mh-fallback,mh-port'])}`;
    else if (r() < 0.08) line += ` -b ${pick(['flag-1', 'flag-2', 'flag-3', 'flag-1,flag-3'])}`;
    lines.push(line);
    const nd = int(6);
    const dseen = new Set<string>();
    for (let j = 0; j < nd; j++) {
      const fwd = pick(['-m', '-g', '-i', '-i', '-m']);
      const dsix = fwd === '-i' && r() < 0.2 ? !six : six;
      const a = dsix ? `[${v6()}]` : v4();
      const p =
        fwd === '-m' || kind === 'fwm' ? `:${pick([port(), 0, 80])}` : dsix || r() < 0.5 ? `:${port()}` : '';
      let d = `-a ${svc} -r ${a}${p} ${fwd}`;
      const key = `${a}${fwd === '-m' || kind === 'fwm' ? p : ''}`;
      if (dseen.has(key)) continue;
      dseen.add(key);
      if (r() < 0.7) d += ` -w ${pick([0, 1, 2, 5, 100, 65535, 70000, 2147483647, int(1000)])}`;
      if (r() < 0.3) d += ` -x ${int(100000)}`;
      if (r() < 0.3) d += ` -y ${int(1000)}`;
      if (fwd === '-i' && r() < 0.7) {
        const t = pick(['ipip', 'gue', 'gre']);
        d += ` --tun-type ${t}`;
        if (t === 'gue')
          d += ` --tun-port ${1 + int(65534)}${pick(['', ' --tun-nocsum', ' --tun-csum', ' --tun-remcsum'])}`;
        if (t === 'gre') d += pick(['', ' --tun-nocsum', ' --tun-csum']);
      }
      lines.push(d);
    }
  }
  return lines.join('\n') + '\n';
}

interface JsonDest {
  address: string;
  family: string;
  port: number;
  forward: string;
  tunnel: { type: string; port?: number; checksum?: string } | null;
  weight: number;
}
interface JsonService {
  protocol: string;
  family: string;
  address?: string;
  port?: number;
  fwmark?: number;
  scheduler: string;
  flags: { persistent: boolean; onePacket: boolean; scheduler: string[] };
  timeout: number;
  netmask: string | number;
  pe: string | null;
  destinations: JsonDest[];
}

/** `lbctl -L --json` written back as ipvsadm -Sn rules (to check the JSON against ipvsadm). */
export function jsonToRules(doc: { services: JsonService[] }): string {
  const lines: string[] = [];
  const ep = (family: string, a: string, p: number) => (family === 'inet6' ? `[${a}]:${p}` : `${a}:${p}`);
  for (const s of doc.services) {
    const name =
      s.protocol === 'fwmark'
        ? `-f ${s.fwmark}${s.family === 'inet6' ? ' -6' : ''}`
        : `${s.protocol === 'tcp' ? '-t' : s.protocol === 'udp' ? '-u' : '--sctp-service'} ${ep(s.family, s.address ?? '', s.port ?? 0)}`;
    let line = `-A ${name} -s ${s.scheduler}`;
    if (s.flags.persistent) {
      line += ` -p ${s.timeout}`;
      if (s.netmask !== '255.255.255.255' && s.netmask !== 128) line += ` -M ${s.netmask}`;
    }
    if (s.pe !== null) line += ` --pe ${s.pe}`;
    if (s.flags.onePacket) line += ' -o';
    if (s.flags.scheduler.length > 0) {
      const own = s.scheduler === 'sh' || s.scheduler === 'mh';
      line += ` -b ${s.flags.scheduler.filter((f) => !own || f !== 'flag-3').join(',')}`;
    }
    lines.push(line);
    for (const d of s.destinations) {
      let dl = `-a ${name} -r ${ep(d.family, d.address, d.port)} ${d.forward === 'masq' ? '-m' : d.forward === 'tunnel' ? '-i' : '-g'} -w ${d.weight}`;
      if (d.tunnel !== null) {
        dl += ` --tun-type ${d.tunnel.type}`;
        if (d.tunnel.type === 'gue') dl += ` --tun-port ${d.tunnel.port}`;
        if (d.tunnel.type !== 'ipip') dl += ` --tun-${d.tunnel.checksum}`;
      }
      lines.push(dl);
    }
  }
  return lines.join('\n') + '\n';
}
