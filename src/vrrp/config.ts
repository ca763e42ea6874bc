// Configuration of the VRRP subsystem (the daemon's config loader maps YAML / keepalived.conf onto
// it). Durations are in seconds like keepalived's; normalise() validates and fills the defaults.
import { Family, ipFamily, normalizeIp } from '../net/ip';
import { DEFAULT_GARP, GarpConfig } from './instance';
import { NotifyConfig } from './notify';
import { AuthType, VrrpVersion } from './packet';
import { TrackScriptConfig } from './track-script';

export interface VipConfig {
  address: string;
  /** Prefix length (default 32 / 128). */
  prefix?: number;
  /** Interface (default: the instance's). */
  dev?: string;
  label?: string;
  scope?: string;
}

export interface TrackRef {
  name: string;
  /** Overrides the tracker's weight for this instance. */
  weight?: number;
}

export interface VrrpInstanceConfig {
  name: string;
  interface: string;
  vrid: number;
  /** 1..255, default 100. */
  priority?: number;
  /** Default 2 (keepalived's default). */
  version?: VrrpVersion;
  /** Seconds; v3 allows centiseconds (0.01 steps). Default 1. */
  advertInt?: number;
  /** MASTER: take the VIPs at start without waiting (keepalived `state MASTER`). Default BACKUP. */
  state?: 'MASTER' | 'BACKUP';
  nopreempt?: boolean;
  /** Seconds (keepalived preempt_delay). */
  preemptDelay?: number;
  /** v2 only. AH is refused. */
  auth?: { type: 'PASS' | 'AH' | 'NONE'; pass?: string };
  /** "192.0.2.10/24 dev eth0 label eth0:1 scope global" or objects. */
  vips: (string | VipConfig)[];
  unicastSrcIp?: string;
  unicastPeers?: string[];
  /** Seconds / counts, keepalived names: garp_master_delay, garp_master_repeat, ... */
  garp?: {
    masterDelay?: number;
    masterRepeat?: number;
    masterRefresh?: number;
    masterRefreshRepeat?: number;
    interval?: number;
  };
  trackInterfaces?: (string | TrackRef)[];
  trackScripts?: (string | TrackRef)[];
  /** External inputs the daemon sets with VrrpService.setExternal (health of its virtual services). */
  trackExternal?: (string | TrackRef)[];
  notify?: NotifyConfig;
  /**
   * Skew base after a priority 0 advert, seconds (default 0.02; 0: RFC 5798's Master_Adver_Interval,
   * as keepalived). See InstanceSettings.shutdownSkewBaseMs.
   */
  shutdownSkewBase?: number;
}

export interface VrrpScriptConfig {
  name: string;
  script: string;
  /** Seconds, default 1. */
  interval?: number;
  timeout?: number;
  weight?: number;
  rise?: number;
  fall?: number;
}

export interface VrrpConfig {
  instances: VrrpInstanceConfig[];
  scripts?: VrrpScriptConfig[];
  syncGroups?: { name: string; instances: string[]; notify?: NotifyConfig }[];
}

export interface NormalVip {
  address: string;
  family: Family;
  prefix: number;
  dev: string;
  label?: string;
  scope?: string;
}

export interface NormalInstance {
  name: string;
  interface: string;
  vrid: number;
  family: Family;
  priority: number;
  version: VrrpVersion;
  intervalCs: number;
  initialMaster: boolean;
  preempt: boolean;
  preemptDelayMs: number;
  authType: AuthType;
  authPass?: string;
  vips: NormalVip[];
  unicastSrcIp?: string;
  unicastPeers: string[];
  garp: GarpConfig;
  trackInterfaces: TrackRef[];
  trackScripts: TrackRef[];
  trackExternal: TrackRef[];
  notify: NotifyConfig;
  shutdownSkewBaseMs: number;
}

export class VrrpConfigError extends Error {}

export function parseVip(v: string | VipConfig, defaultDev: string): NormalVip {
  let c: VipConfig;
  if (typeof v === 'string') {
    const words = v.trim().split(/\s+/);
    const [addr, prefix] = words[0].split('/');
    c = { address: addr, prefix: prefix === undefined ? undefined : Number(prefix) };
    for (let i = 1; i + 1 < words.length; i += 2) {
      const [k, val] = [words[i], words[i + 1]];
      if (k === 'dev') c.dev = val;
      else if (k === 'label') c.label = val;
      else if (k === 'scope') c.scope = val;
      else throw new VrrpConfigError(`virtual address '${v}': unknown keyword '${k}'`);
    }
  } else c = v;
  let family: Family;
  try {
    family = ipFamily(c.address);
  } catch {
    throw new VrrpConfigError(`virtual address '${c.address}' is not an IP address`);
  }
  const max = family === 4 ? 32 : 128;
  const prefix = c.prefix ?? max;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) {
    throw new VrrpConfigError(`virtual address ${c.address}: bad prefix ${c.prefix}`);
  }
  return {
    address: normalizeIp(c.address),
    family,
    prefix,
    dev: c.dev ?? defaultDev,
    label: c.label,
    scope: c.scope,
  };
}

const ref = (r: string | TrackRef): TrackRef => (typeof r === 'string' ? { name: r } : r);

export function normaliseInstance(c: VrrpInstanceConfig): NormalInstance {
  const where = `vrrp instance ${c.name}`;
  if (!Number.isInteger(c.vrid) || c.vrid < 1 || c.vrid > 255)
    throw new VrrpConfigError(`${where}: vrid 1..255`);
  const priority = c.priority ?? 100;
  if (!Number.isInteger(priority) || priority < 1 || priority > 255) {
    throw new VrrpConfigError(`${where}: priority 1..255`);
  }
  const version = c.version ?? 2;
  if (version !== 2 && version !== 3) throw new VrrpConfigError(`${where}: version 2 or 3`);
  const intervalCs = Math.round((c.advertInt ?? 1) * 100);
  if (version === 2 && (intervalCs % 100 !== 0 || intervalCs < 100 || intervalCs > 25500)) {
    throw new VrrpConfigError(`${where}: VRRPv2 advert_int is whole seconds, 1..255`);
  }
  if (intervalCs < 1 || intervalCs > 4095) throw new VrrpConfigError(`${where}: advert_int 0.01..40.95 s`);
  if (c.auth?.type === 'AH') {
    throw new VrrpConfigError(
      `${where}: authentication AH is not supported (RFC 3768 removed it); use PASS or none`,
    );
  }
  if (c.auth?.type === 'PASS' && version !== 2) {
    throw new VrrpConfigError(`${where}: authentication exists in VRRPv2 only`);
  }
  if (!c.vips || c.vips.length === 0) throw new VrrpConfigError(`${where}: no virtual address`);
  const vips = c.vips.map((v) => parseVip(v, c.interface));
  const family = vips[0].family;
  if (vips.some((v) => v.family !== family))
    throw new VrrpConfigError(`${where}: mixed IPv4 and IPv6 addresses`);
  if (version === 2 && family === 6) throw new VrrpConfigError(`${where}: IPv6 needs VRRPv3 (version 3)`);
  const g = c.garp ?? {};
  return {
    name: c.name,
    interface: c.interface,
    vrid: c.vrid,
    family,
    priority,
    version,
    intervalCs,
    initialMaster: c.state === 'MASTER',
    preempt: !c.nopreempt,
    preemptDelayMs: (c.preemptDelay ?? 0) * 1000,
    authType: c.auth?.type === 'PASS' ? AuthType.Pass : AuthType.None,
    authPass: c.auth?.type === 'PASS' ? (c.auth.pass ?? '') : undefined,
    vips,
    unicastSrcIp: c.unicastSrcIp,
    unicastPeers: (c.unicastPeers ?? []).map(normalizeIp),
    garp: {
      masterDelayMs: g.masterDelay !== undefined ? g.masterDelay * 1000 : DEFAULT_GARP.masterDelayMs,
      masterRepeat: g.masterRepeat ?? DEFAULT_GARP.masterRepeat,
      masterRefreshMs: (g.masterRefresh ?? 0) * 1000,
      masterRefreshRepeat: g.masterRefreshRepeat ?? DEFAULT_GARP.masterRefreshRepeat,
      intervalMs: (g.interval ?? 0) * 1000,
    },
    trackInterfaces: (c.trackInterfaces ?? []).map(ref),
    trackScripts: (c.trackScripts ?? []).map(ref),
    trackExternal: (c.trackExternal ?? []).map(ref),
    notify: c.notify ?? {},
    shutdownSkewBaseMs: (c.shutdownSkewBase ?? 0.02) * 1000,
  };
}

export function scriptConfig(s: VrrpScriptConfig): TrackScriptConfig {
  return {
    name: s.name,
    script: s.script,
    intervalMs: (s.interval ?? 1) * 1000,
    timeoutMs: s.timeout !== undefined ? s.timeout * 1000 : undefined,
    weight: s.weight ?? 0,
    rise: s.rise,
    fall: s.fall,
  };
}

export function validateConfig(cfg: VrrpConfig): NormalInstance[] {
  const out = cfg.instances.map(normaliseInstance);
  const seen = new Set<string>();
  for (const i of out) {
    const k = `${i.interface}/${i.family}/${i.vrid}`;
    if (seen.has(k))
      throw new VrrpConfigError(`vrrp instance ${i.name}: VRID ${i.vrid} used twice on ${i.interface}`);
    seen.add(k);
    for (const t of i.trackScripts) {
      if (!(cfg.scripts ?? []).some((s) => s.name === t.name)) {
        throw new VrrpConfigError(`vrrp instance ${i.name}: unknown track_script '${t.name}'`);
      }
    }
  }
  for (const g of cfg.syncGroups ?? []) {
    for (const n of g.instances) {
      if (!out.some((i) => i.name === n))
        throw new VrrpConfigError(`sync group ${g.name}: unknown instance '${n}'`);
    }
  }
  return out;
}
