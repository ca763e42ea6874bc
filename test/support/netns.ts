// Network-namespace topologies for tests: hosts (one namespace each) wired to LANs (one bridge each,
// all inside a private "switch" namespace), built with a few batched `ip` calls and always torn down.
// Works on the host (VRRP, health checks) and inside the test VM (IPVS), where every process start is
// expensive: creation costs one `ip -batch` for the whole topology plus one per host.
//
//   const topo = await Topology.create({
//     lans: { lan: {} },
//     hosts: {
//       client: { links: [{ lan: 'lan', addrs: ['198.51.100.2/24'] }] },
//       director: { links: [{ lan: 'lan', addrs: ['198.51.100.1/24'] }], forwarding: true },
//     },
//   });
//   t.after(() => topo.destroy());
//   await topo.exec('client', ['ping', '-c1', '198.51.100.1']);
//
// Addresses: tests use the documentation ranges (198.51.100.0/24, 203.0.113.0/24, 192.0.2.0/24,
// 2001:db8::/32), which exist only inside the namespaces a test creates.
import { ChildProcess, execFile, execFileSync, spawn, SpawnOptions } from 'node:child_process';

export interface LinkSpec {
  /** The LAN (bridge) this interface plugs into. */
  lan: string;
  /** Interface name inside the host (default eth0, eth1, ... in order). */
  name?: string;
  /** Addresses with prefix length, IPv4 or IPv6 ("198.51.100.1/24", "2001:db8::1/64"). */
  addrs?: string[];
  /** MAC address (default: chosen by the kernel). */
  mac?: string;
}

export interface HostSpec {
  links: LinkSpec[];
  /** Routes as `ip route` arguments, e.g. "default via 203.0.113.1". */
  routes?: string[];
  /** Enable IPv4 and IPv6 forwarding. */
  forwarding?: boolean;
  /** Extra sysctls, e.g. { 'net.ipv4.conf.all.arp_ignore': '1' }. */
  sysctls?: Record<string, string>;
  /** Extra `ip` batch lines run inside the host after its links exist (e.g. "addr add 198.51.100.100/32 dev lo"). */
  ip?: string[];
}

export interface TopologySpec {
  /** LANs by name; each is a bridge. */
  lans: Record<string, { stp?: false }>;
  hosts: Record<string, HostSpec>;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

let counter = 0;
const PREFIX = 'lbdt';
const live = new Set<Topology>();

/** Runs a command, resolves with its result (never rejects on a non-zero exit). */
export function run(
  cmd: string,
  args: readonly string[],
  input?: string,
  timeoutMs = 60_000,
): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({
          code,
          stdout,
          stderr: stderr || (err && code !== 0 && !stderr ? String(err.message) : stderr),
        });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

async function mustRun(cmd: string, args: readonly string[], input?: string): Promise<string> {
  const r = await run(cmd, args, input);
  if (r.code !== 0) {
    throw new Error(
      `${cmd} ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}${input ? `\ninput:\n${input}` : ''}`,
    );
  }
  return r.stdout;
}

export class Topology {
  /** Namespace name of each host. */
  readonly ns: Record<string, string> = {};
  private readonly switchNs: string;
  private readonly children = new Set<ChildProcess>();
  private destroyed = false;

  private constructor(
    readonly id: string,
    readonly spec: TopologySpec,
  ) {
    this.switchNs = `${id}-sw`;
    for (const host of Object.keys(spec.hosts)) this.ns[host] = `${id}-${host}`;
  }

  /** Builds the topology. On failure everything created so far is removed before the error is thrown. */
  static async create(spec: TopologySpec): Promise<Topology> {
    const id = `${PREFIX}${process.pid}x${counter++}`;
    const topo = new Topology(id, spec);
    live.add(topo);
    try {
      await topo.build();
    } catch (err) {
      await topo.destroy();
      throw err;
    }
    return topo;
  }

  private async build(): Promise<void> {
    const root: string[] = [`netns add ${this.switchNs}`];
    for (const ns of Object.values(this.ns)) root.push(`netns add ${ns}`);
    const sw: string[] = ['link set lo up'];
    for (const lan of Object.keys(this.spec.lans)) {
      sw.push(
        `link add ${brName(lan)} type bridge stp_state 0 forward_delay 0`,
        `link set ${brName(lan)} up`,
      );
    }
    let port = 0;
    const perHost: Record<string, string[]> = {};
    for (const [host, hs] of Object.entries(this.spec.hosts)) {
      const lines = ['link set lo up'];
      hs.links.forEach((link, i) => {
        if (!(link.lan in this.spec.lans)) throw new Error(`host ${host}: unknown LAN '${link.lan}'`);
        const ifname = link.name ?? `eth${i}`;
        const peer = `p${port++}`;
        root.push(
          `link add ${ifname} netns ${this.ns[host]} type veth peer name ${peer} netns ${this.switchNs}`,
        );
        sw.push(`link set ${peer} master ${brName(link.lan)}`, `link set ${peer} up`);
        if (link.mac) lines.push(`link set ${ifname} address ${link.mac}`);
        for (const a of link.addrs ?? [])
          lines.push(`addr add ${a} dev ${ifname}${a.includes(':') ? ' nodad' : ''}`);
        lines.push(`link set ${ifname} up`);
      });
      for (const r of hs.routes ?? []) lines.push(`route add ${r}`);
      lines.push(...(hs.ip ?? []));
      perHost[host] = lines;
    }
    await mustRun('ip', ['-batch', '-'], root.join('\n') + '\n');
    await mustRun('ip', ['-n', this.switchNs, '-batch', '-'], sw.join('\n') + '\n');
    await Promise.all(
      Object.entries(this.spec.hosts).map(async ([host, hs]) => {
        const sysctls: Record<string, string> = { ...(hs.sysctls ?? {}) };
        if (hs.forwarding) {
          sysctls['net.ipv4.ip_forward'] = '1';
          sysctls['net.ipv6.conf.all.forwarding'] = '1';
        }
        const kv = Object.entries(sysctls).map(([k, v]) => `${k}=${v}`);
        if (kv.length) await mustRun('ip', ['netns', 'exec', this.ns[host], 'sysctl', '-q', '-w', ...kv]);
        await mustRun('ip', ['-n', this.ns[host], '-batch', '-'], perHost[host].join('\n') + '\n');
      }),
    );
  }

  /** Runs a command inside a host's namespace and waits for it. */
  exec(
    host: string,
    argv: readonly string[],
    opts: { input?: string; timeoutMs?: number } = {},
  ): Promise<ExecResult> {
    return run('ip', ['netns', 'exec', this.nsOf(host), ...argv], opts.input, opts.timeoutMs);
  }

  /** Like exec, but throws with the command's stderr when it fails. */
  async sh(host: string, script: string): Promise<string> {
    const r = await this.exec(host, ['sh', '-c', script]);
    if (r.code !== 0) throw new Error(`[${host}] ${script}: exit ${r.code}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** Starts a long-running process inside a host's namespace; it is killed by destroy(). */
  spawn(host: string, argv: readonly string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.nsOf(host), ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...opts,
      detached: true,
    });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    return child;
  }

  /** Kills every process running in a host's namespace (its servers), with SIGKILL. */
  async killAll(host: string): Promise<void> {
    await killNamespacePids(this.nsOf(host));
  }

  /** Kills every process left in the namespaces, deletes them (and so the veths and bridges). Idempotent. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    live.delete(this);
    for (const child of this.children) killGroup(child);
    const all = [...Object.values(this.ns), this.switchNs];
    // SIGKILL takes effect when the process next runs (on a loaded machine, a while after the signal):
    // kill what the namespaces hold until they hold nothing (at most 250 rounds, 20 ms apart).
    for (let round = 0; round < 250; round++) {
      const found = await Promise.all(all.map((ns) => killNamespacePids(ns)));
      if (found.every((n) => n === 0)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await run('ip', ['-force', '-batch', '-'], all.map((ns) => `netns del ${ns}`).join('\n') + '\n');
  }

  private nsOf(host: string): string {
    const ns = this.ns[host];
    if (ns === undefined) throw new Error(`no host '${host}' in this topology`);
    return ns;
  }
}

function brName(lan: string): string {
  const name = `br-${lan}`;
  if (name.length > 15)
    throw new Error(`LAN name '${lan}' too long (bridge names are at most 15 characters)`);
  return name;
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** SIGKILL to every process in the namespace; returns how many there were. */
async function killNamespacePids(ns: string): Promise<number> {
  const r = await run('ip', ['netns', 'pids', ns]);
  const pids = r.stdout.split(/\s+/).filter(Boolean);
  for (const pid of pids) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return pids.length;
}

/** Deletes namespaces left behind by earlier runs that crashed (names starting with the test prefix). */
export function sweepStaleNamespaces(): void {
  const out = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  for (const line of out.split('\n')) {
    const name = line.split(' ')[0];
    if (!name || !name.startsWith(PREFIX)) continue;
    const owner = Number(/^lbdt(\d+)x/.exec(name)?.[1]);
    if (owner === process.pid) continue;
    if (Number.isFinite(owner) && processAlive(owner)) continue;
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// A test process that dies on an exception still removes its namespaces.
process.on('exit', () => {
  for (const topo of live) {
    const all = [...Object.values(topo.ns), `${topo.id}-sw`];
    for (const ns of all) {
      try {
        const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' })
          .split(/\s+/)
          .filter(Boolean);
        for (const pid of pids) process.kill(Number(pid), 'SIGKILL');
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // best effort at exit
      }
    }
  }
});
