// /status.json: what the status page shows, from the same sources and the same (cached) kernel dump.
import * as os from 'node:os';
import type { Config } from '../config/model';
import { serviceKeys } from '../daemon/desired-table';
import { serverId } from '../health';
import { serviceId, type DestinationEntry, type VirtualServiceEntry } from '../ipvs';
import { VERSION } from '../version';
import type { TableSnapshot } from './collector';
import type { MetricsSource } from './source';

export interface ServerRow {
  server: string;
  up: boolean;
  reason: string;
  check: string;
  /** Epoch ms of the last transition. */
  since: number;
  configuredWeight: number;
  /** The weight in the kernel (null: not in the kernel). */
  weight: number | null;
  activeConns: number;
  inactiveConns: number;
  cps: number;
  inBps: number;
  outBps: number;
}

export interface ServiceRow {
  id: string;
  quorumUp: boolean;
  quorum: number;
  sum: number;
  /** Services of this virtual server found in the kernel / expected. */
  inKernel: number;
  keys: number;
  cps: number;
  inBps: number;
  outBps: number;
  activeConns: number;
  servers: ServerRow[];
}

export interface StatusDocument {
  generatedAt: number;
  host: string;
  version: string;
  uptimeSeconds: number;
  lastReload: { at: string; ok: boolean; errors: number } | null;
  ipvs: { available: boolean; dumpedAt: number | null; error: string | null };
  vrrp: {
    name: string;
    state: string;
    priority: number;
    basePriority: number;
    interface: string;
    vrid: number;
    master: string | null;
    faults: string[];
    vips: { address: string; held: boolean }[];
  }[];
  services: ServiceRow[];
  events: { seq: number; time: string; source: string; type: string; text: string }[];
}

function describe(e: Record<string, unknown>): string {
  const skip = new Set(['seq', 'time', 'source', 'type']);
  return Object.entries(e)
    .filter(([k, v]) => !skip.has(k) && v !== undefined && v !== null && typeof v !== 'object')
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(1) : String(v)}`)
    .join(' ');
}

export function statusDocument(source: MetricsSource, snap: TableSnapshot, maxEvents = 30): StatusDocument {
  const config = source.config() ?? { virtual_servers: [], vrrp_instances: [] };
  const kernel = new Map<string, VirtualServiceEntry>();
  for (const s of snap.table) kernel.set(serviceId(s.key), s);
  const services: ServiceRow[] = config.virtual_servers.map((vs) => {
    const health = source.health.status(vs.id);
    const keys = serviceKeys(config as Config, vs);
    const dests = new Map<string, DestinationEntry[]>();
    const row: ServiceRow = {
      id: vs.id,
      quorumUp: health?.quorumUp ?? true,
      quorum: health?.quorum ?? vs.quorum,
      sum: health?.sum ?? 0,
      inKernel: 0,
      keys: keys.length,
      cps: 0,
      inBps: 0,
      outBps: 0,
      activeConns: 0,
      servers: [],
    };
    for (const key of keys) {
      const k = kernel.get(serviceId(key));
      if (!k) continue;
      row.inKernel++;
      row.cps += k.stats.cps;
      row.inBps += k.stats.inBps;
      row.outBps += k.stats.outBps;
      for (const d of k.destinations) {
        const id = serverId(d.address, d.port);
        const list = dests.get(id);
        if (list) list.push(d);
        else dests.set(id, [d]);
        row.activeConns += d.activeConns;
      }
    }
    for (const s of health?.servers ?? []) {
      const ds = dests.get(s.server) ?? [];
      row.servers.push({
        server: s.server,
        up: s.up,
        reason: s.reason,
        check: s.check,
        since: s.since,
        configuredWeight: s.configuredWeight,
        weight: ds.length ? ds[0].weight : null,
        activeConns: ds.reduce((a, d) => a + d.activeConns, 0),
        inactiveConns: ds.reduce((a, d) => a + d.inactiveConns, 0),
        cps: ds.reduce((a, d) => a + d.stats.cps, 0),
        inBps: ds.reduce((a, d) => a + d.stats.inBps, 0),
        outBps: ds.reduce((a, d) => a + d.stats.outBps, 0),
      });
    }
    return row;
  });
  const vrrp = (source.vrrp()?.status() ?? []).map((i) => ({
    name: i.name,
    state: i.state,
    priority: i.priority,
    basePriority: i.basePriority,
    interface: i.interface,
    vrid: i.vrid,
    master: i.masterAddress ?? null,
    faults: i.faults,
    vips: i.vips.map((v) => ({ address: v.address, held: v.present })),
  }));
  const events = source.events
    .since(Math.max(0, source.events.lastSeq - maxEvents))
    .reverse()
    .map((e) => ({ seq: e.seq, time: e.time, source: e.source, type: e.type, text: describe(e) }));
  return {
    generatedAt: Date.now(),
    host: os.hostname(),
    version: VERSION,
    uptimeSeconds: Math.round((Date.now() - source.startedAt) / 1000),
    lastReload: source.lastReload() ?? null,
    ipvs: { available: snap.at !== undefined, dumpedAt: snap.at ?? null, error: snap.error ?? null },
    vrrp,
    services,
    events,
  };
}
