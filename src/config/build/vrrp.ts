/** Global settings, vrrp_script, vrrp_instance and vrrp_sync_group sections of the document. */
import { familyOf } from '../address';
import type { DocNode, MapEntry, MapNode } from '../document';
import type {
  GlobalSettings,
  TrackInterface,
  TrackScript,
  VipScope,
  VirtualIpAddress,
  VrrpInstance,
  VrrpScript,
  VrrpSyncGroup,
} from '../model';
import { closest, didYouMean } from '../suggest';
import { type Reader, Fields, keys, lineOf } from './reader';
import type { Position } from '../diagnostics';

const GLOBAL_KEYS = keys(
  'router_id',
  'script_user',
  'script_group',
  'enable_script_security',
  'vrrp_version',
  'vrrp_mcast_group4',
  'vrrp_mcast_group6',
  'vrrp_garp_master_delay',
  'vrrp_garp_master_repeat',
  'vrrp_garp_master_refresh',
  'vrrp_garp_master_refresh_repeat',
  'vrrp_garp_lower_prio_delay',
  'vrrp_garp_lower_prio_repeat',
  'vrrp_garp_interval',
  'vrrp_gna_interval',
  'vrrp_min_garp',
  'vrrp_strict',
  'vrrp_skip_check_adv_addr',
  'checker_log_all_failures',
  'lvs_flush',
  'lvs_flush_on_stop',
);

export function readGlobal(r: Reader, n: DocNode | undefined): GlobalSettings {
  const m = n ? r.map(n, "'global'") : undefined;
  const f = m ? r.fields(m, GLOBAL_KEYS, 'in global') : new Fields();
  const minGarp = r.bool(f.get('vrrp_min_garp')) ?? false;
  const masterDelay = r.duration(f.get('vrrp_garp_master_delay'), 0, 1000_000) ?? (minGarp ? 0 : 5000);
  const masterRepeat = r.int(f.get('vrrp_garp_master_repeat'), 1, 255) ?? (minGarp ? 1 : 5);
  const g: GlobalSettings = {
    enable_script_security: r.bool(f.get('enable_script_security')) ?? false,
    vrrp_version: (r.int(f.get('vrrp_version'), 2, 3) ?? 2) as 2 | 3,
    vrrp_mcast_group4: r.ip(f.get('vrrp_mcast_group4'), 'inet') ?? '224.0.0.18',
    vrrp_mcast_group6: r.ip(f.get('vrrp_mcast_group6'), 'inet6') ?? 'ff02::12',
    vrrp_garp_master_delay: masterDelay,
    vrrp_garp_master_repeat: masterRepeat,
    vrrp_garp_master_refresh: r.duration(f.get('vrrp_garp_master_refresh'), 0, 86_400_000) ?? 0,
    vrrp_garp_master_refresh_repeat: r.int(f.get('vrrp_garp_master_refresh_repeat'), 1, 255) ?? 1,
    vrrp_garp_lower_prio_delay: r.duration(f.get('vrrp_garp_lower_prio_delay'), 0, 1000_000) ?? masterDelay,
    vrrp_garp_lower_prio_repeat: r.int(f.get('vrrp_garp_lower_prio_repeat'), 1, 255) ?? masterRepeat,
    vrrp_garp_interval: r.duration(f.get('vrrp_garp_interval'), 0, 1000) ?? 0,
    vrrp_gna_interval: r.duration(f.get('vrrp_gna_interval'), 0, 1000) ?? 0,
    vrrp_min_garp: minGarp,
    vrrp_strict: r.bool(f.get('vrrp_strict')) ?? false,
    vrrp_skip_check_adv_addr: r.bool(f.get('vrrp_skip_check_adv_addr')) ?? false,
    checker_log_all_failures: r.bool(f.get('checker_log_all_failures')) ?? false,
    lvs_flush: r.bool(f.get('lvs_flush')) ?? false,
    lvs_flush_on_stop: r.bool(f.get('lvs_flush_on_stop')) ?? false,
  };
  const routerId = r.word(f.get('router_id'));
  if (routerId !== undefined) g.router_id = routerId;
  const user = r.word(f.get('script_user'));
  if (user !== undefined) g.script_user = user;
  const group = r.word(f.get('script_group'));
  if (group !== undefined) g.script_group = group;
  return g;
}

const SCRIPT_KEYS = keys(
  'script',
  'interval',
  'timeout',
  'weight',
  'reverse',
  'rise',
  'fall',
  'user',
  'group',
  'init_fail',
);

export function readVrrpScripts(
  r: Reader,
  n: DocNode | undefined,
): Map<string, { script: VrrpScript; entry: MapEntry }> {
  const out = new Map<string, { script: VrrpScript; entry: MapEntry }>();
  const m = n ? r.map(n, "'vrrp_scripts'") : undefined;
  if (!m) return out;
  for (const e of m.entries) {
    if (out.has(e.key)) {
      r.error(e.pos, `vrrp_script '${e.key}' is defined twice (first at ${where(out.get(e.key)!.entry, e)})`);
      continue;
    }
    const sm = r.map(e.value, `vrrp_script '${e.key}'`);
    if (!sm) continue;
    const f = r.fields(sm, SCRIPT_KEYS, `in vrrp_script '${e.key}'`);
    const script = r.str(f.get('script'));
    if (!f.has('script')) r.error(e.pos, `vrrp_script '${e.key}' needs 'script'`);
    else if (script !== undefined && script.trim() === '')
      r.error(f.get('script')!.value, `'script' must not be empty`);
    else if (script !== undefined)
      r.fact('script', script, `script of vrrp_script '${e.key}'`, f.get('script')!.value);
    const interval = r.duration(f.get('interval'), 1, 86_400_000) ?? 1000;
    const s: VrrpScript = {
      name: e.key,
      script: script ?? '',
      interval,
      timeout: r.duration(f.get('timeout'), 1, 86_400_000) ?? interval,
      weight: r.int(f.get('weight'), -253, 253) ?? 0,
      weight_reverse: r.bool(f.get('reverse')) ?? false,
      rise: r.int(f.get('rise'), 1, 1_000_000) ?? 1,
      fall: r.int(f.get('fall'), 1, 1_000_000) ?? 1,
      init_fail: r.bool(f.get('init_fail')) ?? false,
    };
    const user = r.word(f.get('user'));
    if (user !== undefined) s.user = user;
    const group = r.word(f.get('group'));
    if (group !== undefined) s.group = group;
    out.set(e.key, { script: s, entry: e });
  }
  return out;
}

const INSTANCE_KEYS = keys(
  'state',
  'interface',
  'virtual_router_id',
  'priority',
  'advert_int',
  'version',
  'authentication',
  'virtual_ipaddress',
  'virtual_ipaddress_excluded',
  'mcast_src_ip',
  'unicast_src_ip',
  'unicast_peer',
  'unicast_ttl',
  'track_interface',
  'track_script',
  'dont_track_primary',
  'notify_master',
  'notify_backup',
  'notify_fault',
  'notify_stop',
  'notify',
  'nopreempt',
  'preempt_delay',
  'accept',
  'strict_mode',
  'skip_check_adv_addr',
  'down_timer_adverts',
  'garp_master_delay',
  'garp_master_repeat',
  'garp_master_refresh',
  'garp_master_refresh_repeat',
  'garp_lower_prio_delay',
  'garp_lower_prio_repeat',
  'garp_interval',
  'gna_interval',
);

const AUTH_KEYS = keys('auth_type', 'auth_pass');
const SCOPES: readonly VipScope[] = ['global', 'site', 'link', 'host', 'nowhere'];

export interface InstanceInfo {
  instance: VrrpInstance;
  entry: MapEntry;
  fields: Fields;
  /** Nodes of the track_script items, for the cross-check against vrrp_scripts. */
  trackScriptNodes: DocNode[];
}

export function readVrrpInstances(r: Reader, n: DocNode | undefined, g: GlobalSettings): InstanceInfo[] {
  const out: InstanceInfo[] = [];
  const m = n ? r.map(n, "'vrrp_instances'") : undefined;
  if (!m) return out;
  const seen = new Fields();
  for (const e of m.entries) {
    if (seen.has(e.key)) {
      r.error(e.pos, `vrrp_instance '${e.key}' is defined twice (first at ${where(seen.get(e.key)!, e)})`);
      continue;
    }
    seen.set(e.key, e);
    const info = readInstance(r, e, g);
    if (info) out.push(info);
  }
  return out;
}

function readInstance(r: Reader, e: MapEntry, g: GlobalSettings): InstanceInfo | undefined {
  const im = r.map(e.value, `vrrp_instance '${e.key}'`);
  if (!im) return undefined;
  const ctx = `in vrrp_instance '${e.key}'`;
  const f = r.fields(im, INSTANCE_KEYS, ctx);
  const vrid = r.int(f.get('virtual_router_id'), 1, 255);
  if (!f.has('virtual_router_id')) r.error(e.pos, `vrrp_instance '${e.key}' needs 'virtual_router_id'`);
  const iface = r.word(f.get('interface'));

  const vips = readVips(r, f.get('virtual_ipaddress'), iface);
  const excluded = readVips(r, f.get('virtual_ipaddress_excluded'), iface);
  let family: 'inet' | 'inet6' = 'inet';
  if (vips.length > 0) {
    family = vips[0].vip.family;
    for (const v of vips)
      if (v.vip.family !== family)
        r.error(
          v.node,
          `virtual_ipaddress mixes IPv4 and IPv6 (put the other family in virtual_ipaddress_excluded)`,
        );
  }

  const versionEntry = f.get('version');
  let version = (r.int(versionEntry, 2, 3) ?? g.vrrp_version) as 2 | 3;
  if (family === 'inet6') {
    if (versionEntry && version === 2)
      r.error(versionEntry.value, `VRRP version 2 does not support IPv6 addresses; use version 3`);
    version = 3;
  }

  const advEntry = f.get('advert_int');
  let advert = r.duration(advEntry, 10, 255_000) ?? 1000;
  if (advEntry && version === 2 && advert % 1000 !== 0) {
    r.error(advEntry.value, `'advert_int' must be whole seconds with VRRP version 2, got ${advert}ms`);
    advert = Math.max(1000, Math.round(advert / 1000) * 1000);
  } else if (advEntry && version === 3 && (advert % 10 !== 0 || advert > 40_950)) {
    r.error(
      advEntry.value,
      `'advert_int' must be a multiple of 10ms up to 40.95s with VRRP version 3, got ${advert}ms`,
    );
  }

  const state = r.oneOf(f.get('state'), ['MASTER', 'BACKUP'] as const) ?? 'BACKUP';
  const inst: VrrpInstance = {
    name: e.key,
    state,
    virtual_router_id: vrid ?? 0,
    priority: r.int(f.get('priority'), 1, 255) ?? 100,
    advert_int: advert,
    version,
    family,
    virtual_ipaddress: vips.map((v) => v.vip),
    virtual_ipaddress_excluded: excluded.map((v) => v.vip),
    unicast_peer: [],
    track_interface: readTrackInterfaces(r, f.get('track_interface')),
    track_script: [],
    dont_track_primary: r.bool(f.get('dont_track_primary')) ?? false,
    nopreempt: r.bool(f.get('nopreempt')) ?? false,
    preempt_delay: r.duration(f.get('preempt_delay'), 0, 1000_000) ?? 0,
    accept: r.bool(f.get('accept')) ?? !g.vrrp_strict,
    strict_mode: r.bool(f.get('strict_mode')) ?? g.vrrp_strict,
    skip_check_adv_addr: r.bool(f.get('skip_check_adv_addr')) ?? g.vrrp_skip_check_adv_addr,
    down_timer_adverts: r.int(f.get('down_timer_adverts'), 1, 100) ?? 3,
    garp_master_delay: r.duration(f.get('garp_master_delay'), 0, 1000_000) ?? g.vrrp_garp_master_delay,
    garp_master_repeat: r.int(f.get('garp_master_repeat'), 1, 255) ?? g.vrrp_garp_master_repeat,
    garp_master_refresh:
      r.duration(f.get('garp_master_refresh'), 0, 86_400_000) ?? g.vrrp_garp_master_refresh,
    garp_master_refresh_repeat:
      r.int(f.get('garp_master_refresh_repeat'), 1, 255) ?? g.vrrp_garp_master_refresh_repeat,
    garp_lower_prio_delay:
      r.duration(f.get('garp_lower_prio_delay'), 0, 1000_000) ?? g.vrrp_garp_lower_prio_delay,
    garp_lower_prio_repeat: r.int(f.get('garp_lower_prio_repeat'), 1, 255) ?? g.vrrp_garp_lower_prio_repeat,
    garp_interval: r.duration(f.get('garp_interval'), 0, 1000) ?? g.vrrp_garp_interval,
    gna_interval: r.duration(f.get('gna_interval'), 0, 1000) ?? g.vrrp_gna_interval,
  };
  if (iface !== undefined) {
    inst.interface = iface;
    r.fact('interface', iface, `interface of vrrp_instance '${e.key}'`, f.get('interface')!.value);
  }
  for (const t of inst.track_interface)
    r.fact(
      'interface',
      t.interface,
      `track_interface of vrrp_instance '${e.key}'`,
      f.get('track_interface')!.value,
    );
  for (const v of [...vips, ...excluded])
    if (v.vip.dev !== undefined) r.fact('interface', v.vip.dev, `dev of ${v.vip.address}`, v.node);

  const auth = f.get('authentication');
  if (auth) {
    const am = r.map(auth.value, "'authentication'");
    if (am) {
      const af = r.fields(am, AUTH_KEYS, `in the authentication of vrrp_instance '${e.key}'`);
      const typeEntry = af.get('auth_type');
      const type = typeEntry ? r.str(typeEntry) : undefined;
      const pass = r.str(af.get('auth_pass'));
      if (!typeEntry) r.error(auth.pos, `authentication needs 'auth_type'`);
      else if (type === 'AH')
        r.error(
          typeEntry.value,
          `auth_type AH (IPsec AH) is not supported by lbd; use PASS or no authentication`,
        );
      else if (type !== undefined && type !== 'PASS')
        r.error(typeEntry.value, `'auth_type' must be PASS, got '${type}'`);
      if (typeEntry && type === 'PASS') {
        if (!af.has('auth_pass')) r.error(auth.pos, `auth_type PASS needs 'auth_pass'`);
        else if (pass !== undefined) {
          if (pass === '') r.error(af.get('auth_pass')!.value, `'auth_pass' must not be empty`);
          else if (pass.length > 8)
            r.warning(
              af.get('auth_pass')!.value,
              `'auth_pass' is longer than 8 characters; only the first 8 are used`,
            );
          inst.authentication = { auth_type: 'PASS', auth_pass: pass.slice(0, 8) };
        }
      }
      if (version === 3)
        r.error(auth.pos, `authentication is not part of VRRP version 3; remove it or use version 2`);
    }
  }

  const mcastSrc = r.ip(f.get('mcast_src_ip'));
  if (mcastSrc !== undefined) inst.mcast_src_ip = mcastSrc;
  const usrc = r.ip(f.get('unicast_src_ip'));
  if (usrc !== undefined) inst.unicast_src_ip = usrc;
  for (const p of r.list(f.get('unicast_peer'))) {
    const ip = r.ipNode(p, 'a unicast_peer');
    if (ip === undefined) continue;
    if (familyOf(ip) !== family && vips.length > 0)
      r.error(p, `unicast_peer ${ip} is not of the instance's address family`);
    else if (usrc !== undefined && familyOf(usrc) !== familyOf(ip))
      r.error(p, `unicast_peer ${ip} and unicast_src_ip ${usrc} are of different address families`);
    else if (inst.unicast_peer.includes(ip)) r.error(p, `unicast_peer ${ip} is listed twice`);
    else inst.unicast_peer.push(ip);
  }
  const ttl = r.int(f.get('unicast_ttl'), 1, 255);
  if (ttl !== undefined) inst.unicast_ttl = ttl;
  if (usrc !== undefined && inst.unicast_peer.length === 0)
    r.error(f.get('unicast_src_ip')!.pos, `unicast_src_ip needs at least one unicast_peer`);
  if (iface === undefined && inst.unicast_peer.length === 0 && f.size > 0)
    r.error(e.pos, `vrrp_instance '${e.key}' needs 'interface' (it may only be left out with unicast_peer)`);

  for (const k of ['notify_master', 'notify_backup', 'notify_fault', 'notify_stop', 'notify'] as const) {
    const c = r.command(f.get(k), ctx);
    if (c) inst[k] = c;
  }

  const trackScriptNodes: DocNode[] = [];
  for (const item of r.list(f.get('track_script'))) {
    const ts = readTrackScript(r, item);
    if (ts) {
      inst.track_script.push(ts);
      trackScriptNodes.push(item);
    }
  }

  if (inst.nopreempt && state === 'MASTER')
    r.error(f.get('nopreempt')!.pos, `nopreempt needs state BACKUP (a MASTER always takes over at start)`);
  if (f.has('preempt_delay') && state === 'MASTER')
    r.warning(f.get('preempt_delay')!.pos, `preempt_delay has no effect with state MASTER`);
  if (f.has('preempt_delay') && inst.nopreempt)
    r.warning(f.get('preempt_delay')!.pos, `preempt_delay has no effect with nopreempt`);
  if (inst.priority === 255 && state === 'BACKUP' && f.has('state'))
    r.warning(
      f.get('priority')!.value,
      `priority 255 makes the instance the address owner; its state should be MASTER`,
    );
  return { instance: inst, entry: e, fields: f, trackScriptNodes };
}

const VIP_KEYS = keys('address', 'dev', 'label', 'scope', 'broadcast', 'peer', 'no_track');

function readVips(
  r: Reader,
  e: MapEntry | undefined,
  iface: string | undefined,
): Array<{ vip: VirtualIpAddress; node: DocNode }> {
  const out: Array<{ vip: VirtualIpAddress; node: DocNode }> = [];
  const seen = new Set<string>();
  for (const item of r.list(e)) {
    const vip = readVip(r, item, iface);
    if (!vip) continue;
    const k = `${vip.address}/${vip.dev ?? ''}`;
    if (seen.has(k)) {
      r.error(item, `${vip.address} is listed twice in ${e!.key}`);
      continue;
    }
    seen.add(k);
    out.push({ vip, node: item });
  }
  return out;
}

/** "ADDR[/PREFIX] [dev X] [label L] [scope S] [brd B] [peer P] [no_track]" or a mapping of those. */
export function readVip(r: Reader, n: DocNode, iface: string | undefined): VirtualIpAddress | undefined {
  let opts: Record<string, string | true> = {};
  let addressText: string;
  if (n.kind === 'scalar' && typeof n.value === 'string') {
    const words = n.value.trim().split(/\s+/);
    addressText = words[0];
    for (let i = 1; i < words.length; i++) {
      const w = words[i];
      if (w === 'no_track') {
        opts.no_track = true;
        continue;
      }
      const key = w === 'brd' ? 'broadcast' : w;
      if (!['dev', 'label', 'scope', 'broadcast', 'peer'].includes(key)) {
        r.error(
          n,
          `unknown virtual_ipaddress option '${w}'${didYouMean(w, ['dev', 'label', 'scope', 'brd', 'peer', 'no_track'])}`,
        );
        return undefined;
      }
      if (i + 1 >= words.length) {
        r.error(n, `virtual_ipaddress option '${w}' needs a value`);
        return undefined;
      }
      opts[key] = words[++i];
    }
  } else if (n.kind === 'map') {
    const f = r.fields(n, VIP_KEYS, 'in a virtual_ipaddress');
    const a = r.str(f.get('address'));
    if (!f.has('address')) r.error(n, `a virtual_ipaddress needs 'address'`);
    if (a === undefined) return undefined;
    addressText = a;
    opts = {};
    for (const k of ['dev', 'label', 'scope', 'broadcast', 'peer']) {
      const v = r.word(f.get(k));
      if (v !== undefined) opts[k] = v;
    }
    if (r.bool(f.get('no_track'))) opts.no_track = true;
  } else {
    r.error(
      n,
      `a virtual_ipaddress must be an address or a mapping, got ${n.kind === 'seq' ? 'a list' : String(n.value)}`,
    );
    return undefined;
  }
  const slash = addressText.indexOf('/');
  const address = slash >= 0 ? addressText.slice(0, slash) : addressText;
  const family = familyOf(address);
  if (!family) {
    r.error(n, `'${address}' is not an IP address`);
    return undefined;
  }
  const max = family === 'inet' ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = addressText.slice(slash + 1);
    if (!/^\d+$/.test(p) || +p > max) {
      r.error(n, `prefix length '/${p}' of ${address} must be between 0 and ${max}`);
      return undefined;
    }
    prefix = +p;
  }
  const vip: VirtualIpAddress = { address, family, prefix, no_track: opts.no_track === true };
  if (typeof opts.dev === 'string') vip.dev = opts.dev;
  if (typeof opts.scope === 'string') {
    if (!(SCOPES as readonly string[]).includes(opts.scope)) {
      r.error(
        n,
        `scope '${opts.scope}' must be one of ${SCOPES.join(', ')}${didYouMean(opts.scope, SCOPES)}`,
      );
      return undefined;
    }
    vip.scope = opts.scope as VipScope;
  }
  if (typeof opts.label === 'string') {
    const dev = vip.dev ?? iface;
    if (family === 'inet6') r.error(n, `label is only for IPv4 addresses`);
    else if (dev !== undefined && !opts.label.startsWith(dev + ':') && opts.label !== dev)
      r.error(n, `label '${opts.label}' must start with the interface name '${dev}:'`);
    else if (opts.label.length > 15) r.error(n, `label '${opts.label}' is longer than 15 characters`);
    vip.label = opts.label;
  }
  for (const k of ['broadcast', 'peer'] as const) {
    const v = opts[k];
    if (typeof v !== 'string') continue;
    if (familyOf(v) !== family) {
      r.error(
        n,
        `${k === 'broadcast' ? 'brd' : 'peer'} '${v}' must be an address of the same family as ${address}`,
      );
      return undefined;
    }
    vip[k] = v;
  }
  return vip;
}

const TRACK_IF_KEYS = keys('interface', 'weight', 'reverse');

export function readTrackInterfaces(r: Reader, e: MapEntry | undefined): TrackInterface[] {
  const out: TrackInterface[] = [];
  for (const item of r.list(e)) {
    if (
      item.kind === 'scalar' &&
      typeof item.value === 'string' &&
      !/\s/.test(item.value) &&
      item.value !== ''
    ) {
      out.push({ interface: item.value, weight: 0, reverse: false });
      continue;
    }
    const m = r.map(item, 'a track_interface entry (a name or {interface, weight, reverse})');
    if (!m) continue;
    const f = r.fields(m, TRACK_IF_KEYS, 'in a track_interface entry');
    const name = r.word(f.get('interface'));
    if (!f.has('interface')) r.error(m, `a track_interface entry needs 'interface'`);
    if (name === undefined) continue;
    out.push({
      interface: name,
      weight: r.int(f.get('weight'), -253, 253) ?? 0,
      reverse: r.bool(f.get('reverse')) ?? false,
    });
  }
  return out;
}

const TRACK_SCRIPT_KEYS = keys('script', 'weight', 'reverse');

/** A track_script entry; weight NaN means "the script's own", resolved by the caller. */
export function readTrackScript(r: Reader, item: DocNode): TrackScript | undefined {
  if (item.kind === 'scalar' && typeof item.value === 'string' && !/\s/.test(item.value) && item.value !== '')
    return { script: item.value, weight: NaN, reverse: false };
  const m = r.map(item, 'a track_script entry (a name or {script, weight, reverse})');
  if (!m) return undefined;
  const f = r.fields(m, TRACK_SCRIPT_KEYS, 'in a track_script entry');
  const name = r.word(f.get('script'));
  if (!f.has('script')) r.error(m, `a track_script entry needs 'script'`);
  if (name === undefined) return undefined;
  return {
    script: name,
    weight: r.int(f.get('weight'), -253, 253) ?? NaN,
    reverse: r.bool(f.get('reverse')) ?? false,
  };
}

/** Resolves track_script names against the vrrp_scripts, reporting unknown names. */
export function resolveTrackScripts(
  r: Reader,
  tracks: TrackScript[],
  nodes: DocNode[],
  scripts: Map<string, { script: VrrpScript }>,
): TrackScript[] {
  const out: TrackScript[] = [];
  tracks.forEach((t, i) => {
    const s = scripts.get(t.script);
    if (!s) {
      const near = closest(t.script, scripts.keys());
      r.error(
        nodes[i],
        `track_script '${t.script}' names no vrrp_script${near ? `; did you mean '${near}'?` : ''}`,
      );
      return;
    }
    out.push({
      script: t.script,
      weight: Number.isNaN(t.weight) ? s.script.weight : t.weight,
      reverse: t.reverse || s.script.weight_reverse,
    });
  });
  return out;
}

const GROUP_KEYS = keys(
  'group',
  'track_interface',
  'track_script',
  'notify_master',
  'notify_backup',
  'notify_fault',
  'notify_stop',
  'notify',
);

export function readSyncGroups(
  r: Reader,
  n: DocNode | undefined,
  instances: InstanceInfo[],
  scripts: Map<string, { script: VrrpScript }>,
): VrrpSyncGroup[] {
  const out: VrrpSyncGroup[] = [];
  const m: MapNode | undefined = n ? r.map(n, "'vrrp_sync_groups'") : undefined;
  if (!m) return out;
  const byName = new Map(instances.map((i) => [i.instance.name, i]));
  const member = new Map<string, string>();
  const seen = new Set<string>();
  for (const e of m.entries) {
    if (seen.has(e.key)) {
      r.error(e.pos, `vrrp_sync_group '${e.key}' is defined twice`);
      continue;
    }
    seen.add(e.key);
    const gm = r.map(e.value, `vrrp_sync_group '${e.key}'`);
    if (!gm) continue;
    const ctx = `in vrrp_sync_group '${e.key}'`;
    const f = r.fields(gm, GROUP_KEYS, ctx);
    const g: VrrpSyncGroup = {
      name: e.key,
      group: [],
      track_interface: readTrackInterfaces(r, f.get('track_interface')),
      track_script: [],
    };
    if (!f.has('group')) r.error(e.pos, `vrrp_sync_group '${e.key}' needs 'group' (the instances it holds)`);
    for (const item of r.list(f.get('group'))) {
      if (item.kind !== 'scalar' || typeof item.value !== 'string') {
        r.error(item, `a vrrp_sync_group member must be a vrrp_instance name`);
        continue;
      }
      const name = item.value;
      const inst = byName.get(name);
      if (!inst) {
        r.error(
          item,
          `vrrp_sync_group '${e.key}' names no vrrp_instance '${name}'${didYouMean(name, byName.keys())}`,
        );
        continue;
      }
      if (member.has(name)) {
        r.error(item, `vrrp_instance '${name}' is already in vrrp_sync_group '${member.get(name)}'`);
        continue;
      }
      member.set(name, e.key);
      inst.instance.sync_group = e.key;
      g.group.push(name);
    }
    const tsNodes: DocNode[] = [];
    const tracks: TrackScript[] = [];
    for (const item of r.list(f.get('track_script'))) {
      const ts = readTrackScript(r, item);
      if (ts) {
        tracks.push(ts);
        tsNodes.push(item);
      }
    }
    g.track_script = resolveTrackScripts(r, tracks, tsNodes, scripts);
    for (const k of ['notify_master', 'notify_backup', 'notify_fault', 'notify_stop', 'notify'] as const) {
      const c = r.command(f.get(k), ctx);
      if (c) g[k] = c;
    }
    out.push(g);
  }
  return out;
}

/** Errors for the same VRID used twice on one interface and address family. */
export function checkVrids(r: Reader, instances: InstanceInfo[]): void {
  const used = new Map<string, InstanceInfo>();
  for (const info of instances) {
    const i = info.instance;
    if (i.virtual_router_id === 0) continue;
    const k = `${i.interface ?? ''}|${i.family}|${i.virtual_router_id}`;
    const prev = used.get(k);
    if (prev) {
      const a = prev.instance.unicast_peer;
      const disjoint =
        a.length > 0 && i.unicast_peer.length > 0 && !i.unicast_peer.some((p) => a.includes(p));
      if (!disjoint) {
        const e = info.fields.get('virtual_router_id') ?? info.entry;
        r.error(
          'value' in e ? e.value : info.entry.pos,
          `virtual_router_id ${i.virtual_router_id} is already used on ${i.interface ?? 'the default interface'} by vrrp_instance '${prev.instance.name}' (${where(prev.entry, info.entry)})`,
        );
      }
      continue;
    }
    used.set(k, info);
  }
}

function where(e: MapEntry, here?: Position): string {
  return lineOf(e, here ?? e);
}
