/** Builds the model from a document (YAML or keepalived.conf), reporting every error with its position. */
import type { Diagnostics } from '../diagnostics';
import type { DocNode, MapEntry } from '../document';
import type { Config, ControlSettings, LvsSyncDaemon, LvsTimeouts, MetricsSettings } from '../model';
import { VirtualServerBuilder, readVirtualServerGroups } from './lvs';
import { Fields, type HostFact, Reader, keys } from './reader';
import {
  checkVrids,
  readGlobal,
  readSyncGroups,
  readVrrpInstances,
  readVrrpScripts,
  resolveTrackScripts,
} from './vrrp';

export type { HostFact } from './reader';

export const TOP_KEYS = keys(
  'include',
  'global',
  'vrrp_scripts',
  'vrrp_instances',
  'vrrp_sync_groups',
  'virtual_server_groups',
  'virtual_servers',
  'lvs_sync_daemon',
  'lvs_timeouts',
  'metrics',
  'control',
);

/** Virtual servers built while the file is read. */
export class VirtualServerStream {
  readonly reader: Reader;
  readonly builder: VirtualServerBuilder;
  constructor(diags: Diagnostics) {
    this.reader = new Reader(diags);
    this.builder = new VirtualServerBuilder(this.reader);
  }
}

export interface BuildResult {
  config: Config;
  facts: HostFact[];
}

/**
 * Builds the model. With `stream`, the virtual servers were already fed to it as they were read (and
 * are not in the document).
 */
export function buildConfig(root: DocNode, diags: Diagnostics, stream?: VirtualServerStream): BuildResult {
  const r = stream?.reader ?? new Reader(diags);
  const top = r.map(root, 'the configuration');
  const f = top ? r.fields(top, TOP_KEYS, 'at the top level') : new Fields();
  const global = readGlobal(r, f.get('global')?.value);
  const scripts = readVrrpScripts(r, f.get('vrrp_scripts')?.value);
  const instances = readVrrpInstances(r, f.get('vrrp_instances')?.value, global);
  for (const info of instances)
    info.instance.track_script = resolveTrackScripts(
      r,
      info.instance.track_script,
      info.trackScriptNodes,
      scripts,
    );
  checkVrids(r, instances);
  const syncGroups = readSyncGroups(r, f.get('vrrp_sync_groups')?.value, instances, scripts);
  const groups = readVirtualServerGroups(r, f.get('virtual_server_groups')?.value);
  const vsb = stream?.builder ?? new VirtualServerBuilder(r);
  const vsNode = f.get('virtual_servers')?.value;
  if (vsNode) for (const it of r.seq(vsNode, "'virtual_servers'") ?? []) vsb.add(it);
  const servers = vsb.finish(groups);
  for (const c of r.pendingLogAll.splice(0)) c.log_all_failures = global.checker_log_all_failures;

  const config: Config = {
    global,
    vrrp_scripts: [...scripts.values()].map((s) => s.script),
    vrrp_instances: instances.map((i) => i.instance),
    vrrp_sync_groups: syncGroups,
    virtual_server_groups: [...groups.values()].map((g) => g.group),
    virtual_servers: servers,
    metrics: readMetrics(r, f.get('metrics')),
    control: readControl(r, f.get('control')),
  };
  const sync = readSyncDaemon(
    r,
    f.get('lvs_sync_daemon'),
    instances.map((i) => i.instance),
  );
  if (sync) config.lvs_sync_daemon = sync;
  const timeouts = readTimeouts(r, f.get('lvs_timeouts'));
  if (timeouts) config.lvs_timeouts = timeouts;
  return { config, facts: r.facts };
}

const SYNC_KEYS = keys('interface', 'instance', 'sync_id', 'maxlen', 'port', 'ttl', 'group');

function readSyncDaemon(
  r: Reader,
  e: MapEntry | undefined,
  instances: Config['vrrp_instances'],
): LvsSyncDaemon | undefined {
  if (!e) return undefined;
  const m = r.map(e.value, "'lvs_sync_daemon'");
  if (!m) return undefined;
  const f = r.fields(m, SYNC_KEYS, 'in lvs_sync_daemon');
  const iface = r.word(f.get('interface'));
  if (!f.has('interface')) r.error(e.pos, `lvs_sync_daemon needs 'interface'`);
  if (iface === undefined) return undefined;
  r.fact('interface', iface, 'interface of lvs_sync_daemon', f.get('interface')!.value);
  const s: LvsSyncDaemon = { interface: iface, sync_id: 0, port: r.port(f.get('port')) ?? 8848 };
  const instName = r.word(f.get('instance'));
  if (instName !== undefined) {
    const inst = instances.find((i) => i.name === instName);
    if (!inst) r.error(f.get('instance')!.value, `lvs_sync_daemon names no vrrp_instance '${instName}'`);
    else {
      s.instance = instName;
      s.sync_id = inst.virtual_router_id;
    }
  }
  const id = r.int(f.get('sync_id'), 0, 255);
  if (id !== undefined) s.sync_id = id;
  const maxlen = r.int(f.get('maxlen'), 1, 65507);
  if (maxlen !== undefined) s.maxlen = maxlen;
  const ttl = r.int(f.get('ttl'), 1, 255);
  if (ttl !== undefined) s.ttl = ttl;
  const group = r.ip(f.get('group'));
  if (group !== undefined) s.group = group;
  return s;
}

const TIMEOUT_KEYS = keys('tcp', 'tcp_fin', 'udp');

function readTimeouts(r: Reader, e: MapEntry | undefined): LvsTimeouts | undefined {
  if (!e) return undefined;
  const m = r.map(e.value, "'lvs_timeouts'");
  if (!m) return undefined;
  const f = r.fields(m, TIMEOUT_KEYS, 'in lvs_timeouts');
  const t: LvsTimeouts = {};
  for (const k of ['tcp', 'tcp_fin', 'udp'] as const) {
    const v = r.duration(f.get(k), 1000, 2_147_483_000);
    if (v === undefined) continue;
    if (v % 1000 !== 0) r.error(f.get(k)!.value, `'${k}' must be whole seconds, got ${v}ms`);
    else t[k] = v;
  }
  if (m.entries.length === 0) r.error(e.pos, `lvs_timeouts needs at least one of tcp, tcp_fin, udp`);
  return t;
}

const METRICS_KEYS = keys('enabled', 'listen', 'path');

function readMetrics(r: Reader, e: MapEntry | undefined): MetricsSettings {
  const out: MetricsSettings = { enabled: false, address: '127.0.0.1', port: 10100, path: '/metrics' };
  if (!e) return out;
  const m = r.map(e.value, "'metrics'");
  if (!m) return out;
  const f = r.fields(m, METRICS_KEYS, 'in metrics');
  out.enabled = r.bool(f.get('enabled')) ?? true;
  const listen = f.get('listen');
  const text = r.str(listen);
  if (text !== undefined && listen) {
    const hp = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+|[A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
    const host = hp ? (hp[1] ?? hp[2]) : undefined;
    const port = hp ? +hp[3] : 0;
    if (!hp || host === undefined || port < 1 || port > 65535)
      r.error(
        listen.value,
        `'listen' must be ADDRESS:PORT such as 127.0.0.1:10100 or [::1]:10100, got '${text}'`,
      );
    else {
      out.address = host;
      out.port = port;
    }
  }
  const path = r.str(f.get('path'));
  if (path !== undefined) {
    if (!path.startsWith('/')) r.error(f.get('path')!.value, `'path' must start with '/', got '${path}'`);
    else out.path = path;
  }
  return out;
}

const CONTROL_KEYS = keys('socket', 'mode', 'group');

function readControl(r: Reader, e: MapEntry | undefined): ControlSettings {
  const out: ControlSettings = { socket: '/run/lbd/lbd.sock', mode: 0o600 };
  if (!e) return out;
  const m = r.map(e.value, "'control'");
  if (!m) return out;
  const f = r.fields(m, CONTROL_KEYS, 'in control');
  const sock = r.str(f.get('socket'));
  if (sock !== undefined) {
    if (!sock.startsWith('/'))
      r.error(f.get('socket')!.value, `'socket' must be an absolute path, got '${sock}'`);
    else if (Buffer.byteLength(sock) > 107)
      r.error(f.get('socket')!.value, `'socket' is longer than a Unix socket path may be (107 bytes)`);
    else out.socket = sock;
  }
  const mode = f.get('mode');
  if (mode) {
    const v = mode.value.kind === 'scalar' ? mode.value.value : undefined;
    if (typeof v !== 'string' || !/^0?o?[0-7]{3,4}$/.test(v))
      r.error(
        mode.value,
        `'mode' must be an octal file mode in quotes such as '0600', got ${typeof v === 'string' ? `'${v}'` : String(v)}`,
      );
    else out.mode = parseInt(v.replace(/^0?o?/, ''), 8);
  }
  const group = r.word(f.get('group'));
  if (group !== undefined) out.group = group;
  return out;
}
