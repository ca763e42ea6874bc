// lbctl's commands for the running daemon, over its control socket:
//   lbctl status | vrrp | checks [--json]
//   lbctl drain VS RS | undrain VS RS          e.g. lbctl drain 'TCP 192.0.2.1:80' 192.0.2.11:80
//   lbctl reload                               exit 1 with every error when the new config is invalid
//   lbctl events [--follow] [--json]
// Common options: --json, --socket PATH (default /run/lbd/lbd.sock, or $LBD_CONTROL_SOCKET).
import { ControlClientError, controlRequest, controlStream } from './control-client';
import type { VirtualServiceStatus as VsHealth } from '../health';
import type { InstanceStatus as VrrpInstance } from '../vrrp/service';
import { UsageError } from './usage-error';

export const DAEMON_COMMANDS = ['status', 'vrrp', 'checks', 'drain', 'undrain', 'reload', 'events'] as const;
export type DaemonCommand = (typeof DAEMON_COMMANDS)[number];

export function isDaemonCommand(word: string | undefined): word is DaemonCommand {
  return (DAEMON_COMMANDS as readonly string[]).includes(word ?? '');
}

interface Parsed {
  cmd: DaemonCommand;
  json: boolean;
  follow: boolean;
  socket?: string;
  positional: string[];
}

function parse(argv: readonly string[]): Parsed {
  const [cmd, ...rest] = argv;
  if (!isDaemonCommand(cmd)) throw new UsageError(`unknown command '${cmd}'`);
  const p: Parsed = { cmd, json: false, follow: false, positional: [] };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--json') p.json = true;
    else if ((a === '--follow' || a === '-f') && cmd === 'events') p.follow = true;
    else if (a === '--socket') {
      const v = rest[++i];
      if (v === undefined) throw new UsageError("option '--socket' needs a path");
      p.socket = v;
    } else if (a.startsWith('--socket=')) p.socket = a.slice('--socket='.length);
    else if (a.startsWith('-')) throw new UsageError(`unknown option '${a}' for '${cmd}'`);
    else p.positional.push(a);
  }
  const want = cmd === 'drain' || cmd === 'undrain' ? 2 : 0;
  if (p.positional.length !== want) {
    throw new UsageError(
      want
        ? `'${cmd}' needs a virtual server and a real server, e.g. lbctl ${cmd} 'TCP 192.0.2.1:80' 192.0.2.11:80`
        : `'${cmd}' takes no arguments`,
    );
  }
  return p;
}

type Out = { stdout: (s: string) => void; stderr: (s: string) => void };
const stdio: Out = { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) };

/** Runs one daemon command; returns the exit status (0 ok, 1 refused by the daemon, 2 usage, 3 unreachable). */
export async function runDaemonCommand(argv: readonly string[], out: Out = stdio): Promise<number> {
  let p: Parsed;
  try {
    p = parse(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      out.stderr(`lbctl: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const opts = p.socket ? { socketPath: p.socket } : {};
  try {
    if (p.cmd === 'events' && p.follow) {
      await controlStream(
        'follow',
        {},
        (e) => out.stdout(p.json ? JSON.stringify(e) + '\n' : formatEvent(e as Ev) + '\n'),
        opts,
      );
      return 0;
    }
    const args =
      p.cmd === 'drain' || p.cmd === 'undrain' ? { vs: p.positional[0], server: p.positional[1] } : {};
    const result = await controlRequest(p.cmd, args, { ...opts, timeoutMs: 120_000 });
    out.stdout(p.json ? JSON.stringify(result, null, 2) + '\n' : format(p.cmd, result));
    return 0;
  } catch (err) {
    if (!(err instanceof ControlClientError)) throw err;
    out.stderr(`lbctl: ${err.message}\n`);
    if (Array.isArray(err.details)) for (const d of err.details) out.stderr(`${String(d)}\n`);
    return ['not-running', 'permission', 'connect', 'timeout', 'closed'].includes(err.code) ? 3 : 1;
  }
}

type Ev = { seq: number; time: string; source: string; type: string; [k: string]: unknown };

export function formatEvent(e: Ev): string {
  const { seq, time, source, type, ...rest } = e;
  const fields = Object.entries(rest)
    .filter(([, v]) => v !== undefined && v !== null && typeof v !== 'object')
    .map(([k, v]) => `${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : String(v)}`);
  return `${String(seq).padStart(6)} ${time} ${source.padEnd(9)} ${type.padEnd(14)} ${fields.join(' ')}`.trimEnd();
}

function vrrpLines(instances: VrrpInstance[]): string[] {
  if (instances.length === 0) return ['  (no VRRP instances)'];
  return instances.map((i) => {
    const prio = i.priority === i.basePriority ? `${i.priority}` : `${i.priority} (base ${i.basePriority})`;
    const master = i.state === 'MASTER' ? '' : i.masterAddress ? `  master ${i.masterAddress}` : '';
    const faults = i.faults.length ? `  faults: ${i.faults.join(', ')}` : '';
    return `  ${i.name.padEnd(12)} ${i.state.padEnd(7)} ${i.interface} vrid ${i.vrid} priority ${prio}${master}${faults}`;
  });
}

function healthLines(list: (VsHealth | null)[]): string[] {
  const lines: string[] = [];
  for (const vs of list) {
    if (!vs) continue;
    lines.push(
      `  ${vs.vs}  quorum ${vs.quorumUp ? 'up' : 'LOST'} (live weight ${vs.sum}, quorum ${vs.quorum})`,
    );
    for (const s of vs.servers) {
      const state = s.up ? 'up  ' : 'DOWN';
      const weight = s.present ? `weight ${s.weight}/${s.configuredWeight}` : 'removed';
      const since = new Date(s.since).toISOString().replace(/\.\d+Z$/, 'Z');
      lines.push(`    ${s.server.padEnd(24)} ${state} ${weight.padEnd(14)} ${s.reason} (since ${since})`);
    }
  }
  return lines.length ? lines : ['  (no virtual servers)'];
}

function format(cmd: DaemonCommand, result: unknown): string {
  const r = result as Record<string, unknown>;
  switch (cmd) {
    case 'status': {
      const st = r as {
        pid: number;
        config: string;
        uptimeSeconds: number;
        lastReload: { at: string; ok: boolean; errors: number } | null;
        vrrp: VrrpInstance[];
        virtualServers: { id: string; health: VsHealth | null }[];
        reconciler: {
          passes: number;
          operations: Record<string, number>;
          errors: number;
          driftRepaired: number;
          lastApplyMs: number;
        } | null;
        drains: { vs: string; server: string; state: string }[];
      };
      const reload = st.lastReload
        ? `, last reload ${st.lastReload.at} ${st.lastReload.ok ? 'ok' : `FAILED (${st.lastReload.errors} errors)`}`
        : '';
      const lines = [
        `lbd pid ${st.pid}, up ${duration(st.uptimeSeconds)}, config ${st.config}${reload}`,
        'VRRP',
        ...vrrpLines(st.vrrp),
        'Virtual servers',
        ...healthLines(st.virtualServers.map((v) => v.health)),
      ];
      if (st.reconciler) {
        const ops = Object.values(st.reconciler.operations).reduce((a, b) => a + b, 0);
        lines.push(
          `IPVS: ${st.reconciler.passes} passes, ${ops} operations, ${st.reconciler.errors} errors, ${st.reconciler.driftRepaired} drift repairs, last apply ${st.reconciler.lastApplyMs.toFixed(1)} ms`,
        );
      }
      lines.push(
        st.drains.length
          ? `Drains: ${st.drains.map((d) => `${d.server} in ${d.vs} (${d.state})`).join(', ')}`
          : 'Drains: none',
      );
      return lines.join('\n') + '\n';
    }
    case 'vrrp':
      return vrrpLines((r.instances as VrrpInstance[]) ?? []).join('\n') + '\n';
    case 'checks':
      return healthLines(result as (VsHealth | null)[]).join('\n') + '\n';
    case 'drain':
    case 'undrain':
      return `${String(r.server)} in ${String(r.vs)}: ${String(r.state)}\n`;
    case 'reload':
      return `reloaded: ${String(r.summary)}; ${String(r.changes)} kernel operation${r.changes === 1 ? '' : 's'}\n`;
    case 'events':
      return (result as Ev[]).map(formatEvent).join('\n') + ((result as Ev[]).length ? '\n' : '');
  }
}

function duration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(s).padStart(2, '0')}s` : `${s}s`;
}
