/** virtual_server_group and virtual_server sections, with their real servers. */
import { isIPv4, isIPv6 } from 'node:net';
import {
  canonicalAddress,
  familyOf,
  ipv4ToNumber,
  ipv6ToBigInt,
  netmaskToPrefix,
  numberToIpv4,
} from '../address';
import type { Position } from '../diagnostics';
import type { DocNode, MapEntry, MapNode } from '../document';
import {
  SCHEDULERS,
  SCHED_FLAGS,
  type AddressFamily,
  type Forwarding,
  type Protocol,
  type RealServer,
  type SchedFlag,
  type ServiceKey,
  type SorryServer,
  type TunnelOptions,
  type VirtualServer,
  type VirtualServerGroup,
  type VirtualServerGroupEntry,
} from '../model';
import { didYouMean } from '../suggest';
import { type CheckDefaults, readCheck } from './checks';
import { Fields, type Reader, keys, lineOf, readItems } from './reader';

const INHERITED = [
  'connect_timeout',
  'retry',
  'delay_before_retry',
  'warmup',
  'delay_loop',
  'inhibit_on_failure',
  'alpha',
  'virtualhost',
  'slow_start',
];
const INHERITED_SET: ReadonlySet<string> = new Set(INHERITED);
/** What a virtual server passes down to its real servers (and they to their checks). */
type LvsDefaults = CheckDefaults & { inhibit_on_failure: boolean; slow_start: number };
const VS_KEYS = keys(
  'address',
  'port',
  'protocol',
  'fwmark',
  'group',
  'ip_family',
  'lvs_sched',
  'sched_flags',
  'ops',
  'lvs_method',
  'tunnel',
  'persistence_timeout',
  'persistence_granularity',
  'quorum',
  'hysteresis',
  'quorum_up',
  'quorum_down',
  'sorry_server',
  'omega',
  'ha_suspend',
  'real_servers',
  ...INHERITED,
);
const RS_KEYS = keys(
  'address',
  'port',
  'weight',
  'lvs_method',
  'tunnel',
  'uthreshold',
  'lthreshold',
  'notify_up',
  'notify_down',
  'checks',
  ...INHERITED,
);
const SORRY_KEYS = keys('address', 'port', 'lvs_method', 'tunnel', 'inhibit');
const TUNNEL_KEYS = keys('type', 'port', 'checksum');
const GROUP_ENTRY_KEYS = keys('address', 'port', 'fwmark', 'ip_family');
const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];

export function readVirtualServerGroups(
  r: Reader,
  n: DocNode | undefined,
): Map<string, { group: VirtualServerGroup; entry: MapEntry }> {
  const out = new Map<string, { group: VirtualServerGroup; entry: MapEntry }>();
  const m = n ? r.map(n, "'virtual_server_groups'") : undefined;
  if (!m) return out;
  for (const e of m.entries) {
    if (out.has(e.key)) {
      r.error(e.pos, `virtual_server_group '${e.key}' is defined twice`);
      continue;
    }
    const group: VirtualServerGroup = { name: e.key, entries: [] };
    const items = r.seq(e.value, `virtual_server_group '${e.key}'`) ?? [];
    if (items.length === 0 && e.value.kind !== 'map')
      r.error(e.pos, `virtual_server_group '${e.key}' is empty`);
    for (const it of items) {
      const ge = readGroupEntry(r, it);
      if (ge) group.entries.push(ge);
    }
    out.set(e.key, { group, entry: e });
  }
  return out;
}

function readGroupEntry(r: Reader, n: DocNode): VirtualServerGroupEntry | undefined {
  const m = r.map(n, 'a virtual_server_group entry ({address, port} or {fwmark})');
  if (!m) return undefined;
  const f = r.fields(m, GROUP_ENTRY_KEYS, 'in a virtual_server_group entry');
  const fam = r.oneOf(f.get('ip_family'), ['inet', 'inet6'] as const);
  if (f.has('fwmark')) {
    if (f.has('address') || f.has('port'))
      r.error(m, `a virtual_server_group entry has either 'fwmark' or 'address'`);
    const fwmark = r.int(f.get('fwmark'), 1, 4294967295);
    if (fwmark === undefined) return undefined;
    return fam ? { kind: 'fwmark', fwmark, family: fam } : { kind: 'fwmark', fwmark };
  }
  if (fam) r.error(f.get('ip_family')!.pos, `'ip_family' is only for fwmark entries`);
  const a = f.get('address');
  if (!a) {
    r.error(m, `a virtual_server_group entry needs 'address' or 'fwmark'`);
    return undefined;
  }
  const text = r.str(a);
  if (text === undefined) return undefined;
  const range = parseRange(text);
  if (!range) {
    r.error(a.value, `'${text}' is not an address, a range (10.0.0.1-10) or a prefix (10.0.0.0/29)`);
    return undefined;
  }
  const port = r.port(f.get('port'));
  return port !== undefined ? { kind: 'range', ...range, port } : { kind: 'range', ...range };
}

/** "a.b.c.d", "a.b.c.d-e", "a.b.c.d-e.f.g.h", "a.b.c.d/nn" and IPv6 equivalents. */
function parseRange(text: string): { family: AddressFamily; first: string; last: string } | undefined {
  const fam = familyOf(text);
  if (fam) return { family: fam, first: text, last: text };
  const slash = /^(.+)\/(\d+)$/.exec(text);
  if (slash) {
    const base = slash[1];
    const bits = +slash[2];
    if (isIPv4(base) && bits <= 32) {
      const n = ipv4ToNumber(base);
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      const first = (n & mask) >>> 0;
      const last = (first | (~mask >>> 0)) >>> 0;
      return { family: 'inet', first: numberToIpv4(first), last: numberToIpv4(last) };
    }
    if (isIPv6(base) && bits <= 128) return { family: 'inet6', first: base, last: base + '/' + bits };
    return undefined;
  }
  const dash = text.lastIndexOf('-');
  if (dash < 0) return undefined;
  const first = text.slice(0, dash);
  const tail = text.slice(dash + 1);
  const f = familyOf(first);
  if (f === 'inet') {
    const last = isIPv4(tail) ? tail : /^\d{1,3}$/.test(tail) ? first.replace(/\d+$/, tail) : '';
    if (!isIPv4(last) || ipv4ToNumber(last) < ipv4ToNumber(first)) return undefined;
    return { family: f, first, last };
  }
  if (f === 'inet6') {
    const last = isIPv6(tail)
      ? tail
      : /^[0-9a-fA-F]{1,4}$/.test(tail)
        ? first.replace(/[0-9a-fA-F]+$/, tail)
        : '';
    if (!isIPv6(last) || ipv6ToBigInt(last) < ipv6ToBigInt(first)) return undefined;
    return { family: f, first, last };
  }
  return undefined;
}

export interface ServerInfo {
  vs: VirtualServer;
  node: MapNode;
}

/**
 * Builds virtual servers one at a time, as a large keepalived.conf is read, so that their documents
 * need not all be held. Those naming a virtual_server_group wait for finish(), when the groups are known.
 */
export class VirtualServerBuilder {
  /** Built so far, in parallel arrays (a reload adds thousands it reuses: no object for each). */
  private vss: VirtualServer[] = [];
  private poss: Position[] = [];
  private indexes: number[] = [];
  /**
   * Runs of virtual servers built before, added at once: starting at vss[at], numbered from `index`.
   * Their positions (in poss) and numbers (in indexes) are filled only when finish() needs them.
   */
  private runs: Array<{ at: number; index: number; positions: () => Position[] }> = [];
  private readonly deferred: Array<{ index: number; node: MapNode }> = [];
  private next = 0;
  /**
   * Set by a caller that knows the keys are all different (a reload that checked the changed ones
   * against an index of the others): finish() then skips the duplicate check.
   */
  noDuplicates = false;

  constructor(private readonly r: Reader) {}

  /** Builds a virtual server now: what was built (undefined if nothing), or 'deferred' until finish(). */
  add(n: DocNode): VirtualServer | 'deferred' | undefined {
    const index = this.next++;
    const m = this.r.map(n, 'a virtual server');
    if (!m) return undefined;
    if (m.entries.some((e) => e.key === 'group')) {
      this.deferred.push({ index, node: m });
      return 'deferred';
    }
    return this.build(index, m, undefined);
  }

  /** A virtual server built before (a reload reusing it), written at pos. */
  addBuilt(vs: VirtualServer, pos: Position): void {
    this.vss.push(vs);
    this.poss.push(pos);
    this.indexes.push(this.next++);
  }

  /**
   * Virtual servers built before, in order (a reload reusing thousands: no step for each); `positions`
   * tells where each is written, asked only if finish() reports duplicates or places deferred ones.
   * The array is the builder's from now on.
   */
  addBuiltRun(vss: VirtualServer[], positions: () => Position[]): void {
    if (vss.length === 0) return;
    this.runs.push({ at: this.vss.length, index: this.next, positions });
    this.vss = this.vss.length === 0 ? vss : this.vss.concat(vss);
    this.next += vss.length;
  }

  /** poss and indexes for every virtual server, the runs' included. */
  private fillRuns(): void {
    if (this.runs.length === 0) return;
    const poss: Position[] = [];
    const indexes: number[] = [];
    let one = 0;
    let i = 0;
    const ones = (to: number) => {
      for (; i < to; i++, one++) {
        poss.push(this.poss[one]);
        indexes.push(this.indexes[one]);
      }
    };
    for (const run of this.runs) {
      ones(run.at);
      const ps = run.positions();
      for (let k = 0; k < ps.length; k++, i++) {
        poss.push(ps[k]);
        indexes.push(run.index + k);
      }
    }
    ones(this.vss.length);
    this.poss = poss;
    this.indexes = indexes;
    this.runs = [];
  }

  private build(
    index: number,
    m: MapNode,
    groups: Map<string, { group: VirtualServerGroup }> | undefined,
  ): VirtualServer | undefined {
    const vs = readVirtualServer(this.r, m, groups ?? new Map());
    if (vs) {
      this.vss.push(vs);
      this.poss.push({ file: m.file, line: m.line, column: m.column });
      this.indexes.push(index);
    }
    return vs;
  }

  /** Every virtual server in the order written; duplicates reported. */
  finish(groups: Map<string, { group: VirtualServerGroup }>): VirtualServer[] {
    const n0 = this.vss.length;
    for (const d of this.deferred) this.build(d.index, d.node, groups);
    this.deferred.length = 0;
    if (this.vss.length === n0 && this.noDuplicates) return this.vss;
    this.fillRuns();
    // Built in order, but for those that waited for their group.
    const order = Array.from({ length: this.vss.length }, (_, i) => i);
    if (this.vss.length > n0) order.sort((a, b) => this.indexes[a] - this.indexes[b]);
    const out: VirtualServer[] = [];
    const seen = new Map<string, Position>();
    for (const i of order) {
      const vs = this.vss[i];
      const pos = this.poss[i];
      const dupKey = duplicateKey(vs);
      const first = seen.get(dupKey);
      if (first) {
        this.r.error(pos, `virtual server ${vs.id} is defined twice (first at ${lineOf(first, pos)})`);
        continue;
      }
      seen.set(dupKey, pos);
      out.push(vs);
    }
    return out;
  }
}

/** Two virtual servers with the same key are the same service: one is an error. */
export function duplicateKey(vs: VirtualServer): string {
  return vs.key.kind === 'fwmark' ? `FWM ${vs.key.fwmark} ${vs.family}` : vs.id;
}

function readVirtualServer(
  r: Reader,
  m: MapNode,
  groups: Map<string, { group: VirtualServerGroup }>,
): VirtualServer | undefined {
  const f = r.fields(m, VS_KEYS, 'in a virtual server');
  const protocol = r.oneOf(f.get('protocol'), PROTOCOLS) ?? 'TCP';
  const persistence = r.duration(f.get('persistence_timeout'), 1000, 2_147_483_000);
  if (persistence !== undefined && persistence % 1000 !== 0)
    r.error(
      f.get('persistence_timeout')!.value,
      `'persistence_timeout' must be whole seconds, got ${persistence}ms`,
    );

  let key: ServiceKey | undefined;
  let family: AddressFamily | undefined;
  const kinds = ['address', 'fwmark', 'group'].filter((k) => f.has(k));
  if (kinds.length !== 1) {
    r.error(
      m,
      kinds.length === 0
        ? `a virtual server needs 'address' and 'port', 'fwmark' or 'group'`
        : `a virtual server has only one of 'address', 'fwmark' and 'group', not ${kinds.map((k) => `'${k}'`).join(' and ')}`,
    );
    return undefined;
  }
  if (f.has('address')) {
    const address = r.ip(f.get('address'));
    let port = r.int(f.get('port'), 0, 65535);
    if (!f.has('port')) {
      if (persistence === undefined)
        r.error(
          f.get('address')!.pos,
          `a virtual server with an address needs 'port' (it may only be left out when persistent)`,
        );
      port = 0;
    } else if (port === 0 && persistence === undefined) {
      r.error(f.get('port')!.value, `port 0 (any port) needs persistence_timeout`);
    }
    if (address === undefined || port === undefined) return undefined;
    key = { kind: 'address', address, port, protocol };
    family = familyOf(address);
  } else if (f.has('fwmark')) {
    if (f.has('port')) r.error(f.get('port')!.pos, `'port' is not used with 'fwmark'`);
    if (f.has('protocol')) r.error(f.get('protocol')!.pos, `'protocol' is not used with 'fwmark'`);
    const fwmark = r.int(f.get('fwmark'), 1, 4294967295);
    if (fwmark === undefined) return undefined;
    key = { kind: 'fwmark', fwmark };
  } else {
    const name = r.word(f.get('group'));
    if (name === undefined) return undefined;
    const grp = groups.get(name);
    if (!grp) {
      r.error(
        f.get('group')!.value,
        `virtual server names no virtual_server_group '${name}'${didYouMean(name, groups.keys())}`,
      );
      return undefined;
    }
    if (f.has('port'))
      r.error(f.get('port')!.pos, `'port' is not used with 'group' (the group's entries give ports)`);
    key = { kind: 'group', group: name, protocol };
    family = grp.group.entries.find((e) => e.kind === 'range')?.family;
  }
  const ipFamily = r.oneOf(f.get('ip_family'), ['inet', 'inet6'] as const);
  if (ipFamily !== undefined) {
    if (family !== undefined && ipFamily !== family && key.kind === 'address')
      r.error(f.get('ip_family')!.value, `'ip_family' ${ipFamily} contradicts the address ${key.address}`);
    family = ipFamily;
  }

  const sched = r.oneOf(f.get('lvs_sched'), SCHEDULERS) ?? 'wlc';
  const flags: SchedFlag[] = [];
  for (const it of r.list(f.get('sched_flags'))) {
    if (
      it.kind !== 'scalar' ||
      typeof it.value !== 'string' ||
      !(SCHED_FLAGS as readonly string[]).includes(it.value)
    ) {
      const v = it.kind === 'scalar' ? String(it.value) : '';
      r.error(
        it,
        `scheduler flag must be one of ${SCHED_FLAGS.join(', ')}, got '${v}'${didYouMean(v, SCHED_FLAGS)}`,
      );
      continue;
    }
    const flag = it.value as SchedFlag;
    if (flag.startsWith('sh-') && sched !== 'sh')
      r.error(it, `scheduler flag ${flag} needs lvs_sched sh, not ${sched}`);
    else if (flag.startsWith('mh-') && sched !== 'mh')
      r.error(it, `scheduler flag ${flag} needs lvs_sched mh, not ${sched}`);
    else if (flags.includes(flag)) r.error(it, `scheduler flag ${flag} is listed twice`);
    else flags.push(flag);
  }
  const ops = r.bool(f.get('ops')) ?? false;
  if (ops && protocol !== 'UDP' && key.kind !== 'fwmark')
    r.error(f.get('ops')!.pos, `ops (one-packet scheduling) is only for UDP services`);

  const forwarding = readForwarding(r, f.get('lvs_method'), f.get('tunnel'), { method: 'NAT' });
  const quorum = r.int(f.get('quorum'), 1, 2_147_483_647) ?? 1;
  const hysteresis = r.int(f.get('hysteresis'), 0, 2_147_483_647) ?? 0;
  if (f.has('hysteresis') && hysteresis >= quorum && hysteresis > 0)
    r.error(f.get('hysteresis')!.value, `hysteresis (${hysteresis}) must be less than quorum (${quorum})`);

  const delayLoop = r.duration(f.get('delay_loop'), 1, 86_400_000) ?? 60_000;
  const defaults: LvsDefaults = {
    delay_loop: delayLoop,
    alpha: r.bool(f.get('alpha')) ?? false,
    inhibit_on_failure: r.bool(f.get('inhibit_on_failure')) ?? false,
    slow_start: r.duration(f.get('slow_start'), 0, 86_400_000) ?? 0,
  };
  readTimingDefaults(r, f, defaults);

  const id =
    key.kind === 'address'
      ? `${protocol} ${family === 'inet6' ? `[${key.address}]` : key.address}:${key.port}`
      : key.kind === 'fwmark'
        ? `FWM ${key.fwmark}${family === 'inet6' ? ' IPv6' : ''}`
        : `GROUP ${key.group} ${protocol}`;

  const vs: VirtualServer = {
    id,
    key,
    family: family ?? 'inet',
    protocol,
    lvs_sched: sched,
    sched_flags: flags,
    ops,
    forwarding,
    quorum,
    hysteresis,
    alpha: defaults.alpha,
    omega: r.bool(f.get('omega')) ?? false,
    ha_suspend: r.bool(f.get('ha_suspend')) ?? false,
    inhibit_on_failure: defaults.inhibit_on_failure,
    slow_start: defaults.slow_start,
    delay_loop: delayLoop,
    real_servers: [],
  };
  if (defaults.virtualhost !== undefined) vs.virtualhost = defaults.virtualhost;
  if (persistence !== undefined) vs.persistence_timeout = persistence;
  const gran = f.get('persistence_granularity');
  if (gran) {
    const v = gran.value.kind === 'scalar' ? String(gran.value.value) : undefined;
    const fam = vs.family;
    const ok =
      v !== undefined &&
      (fam === 'inet' ? netmaskToPrefix(v) !== undefined : /^\d+$/.test(v) && +v >= 1 && +v <= 128);
    if (!ok)
      r.error(
        gran.value,
        fam === 'inet'
          ? `'persistence_granularity' must be an IPv4 netmask such as 255.255.255.0, got '${v ?? ''}'`
          : `'persistence_granularity' must be an IPv6 prefix length between 1 and 128, got '${v ?? ''}'`,
      );
    else if (persistence === undefined)
      r.error(gran.pos, `persistence_granularity needs persistence_timeout`);
    else vs.persistence_granularity = v;
  }
  for (const k of ['quorum_up', 'quorum_down'] as const) {
    const c = r.command(f.get(k), 'in a virtual server');
    if (c) vs[k] = c;
  }

  // Duplicates by (address, port): a linear search (services have few real servers), no string keys.
  const seenAddr: string[] = [];
  const seenPort: Array<number | undefined> = [];
  const seenLine: number[] = [];
  let seenIndex: Map<string, number> | undefined;
  const servers: RealServer[] = [];
  const rsItems = r.list(f.get('real_servers'));
  if (!f.has('real_servers') && !f.has('sorry_server'))
    r.warning(m, `virtual server ${id} has no real_servers`);
  for (const it of rsItems) {
    const rm = r.map(it, 'a real server');
    if (!rm) continue;
    const rs = readRealServer(r, rm, vs, defaults);
    if (!rs) continue;
    const addr = canonicalAddress(rs.address);
    let dup = -1;
    if (seenAddr.length < 64) {
      for (let i = 0; i < seenAddr.length; i++)
        if (seenAddr[i] === addr && seenPort[i] === rs.port) {
          dup = i;
          break;
        }
    } else {
      // Many real servers: an index instead of a quadratic search.
      if (!seenIndex) {
        seenIndex = new Map();
        for (let i = 0; i < seenAddr.length; i++) seenIndex.set(`${seenAddr[i]} ${seenPort[i]}`, i);
      }
      dup = seenIndex.get(`${addr} ${rs.port}`) ?? -1;
      if (dup < 0) seenIndex.set(`${addr} ${rs.port}`, seenAddr.length);
    }
    if (dup >= 0) {
      r.error(
        rm,
        `real server ${rs.address}${rs.port !== undefined ? `:${rs.port}` : ''} is listed twice in virtual server ${id} (first at line ${seenLine[dup]})`,
      );
      continue;
    }
    seenAddr.push(addr);
    seenPort.push(rs.port);
    seenLine.push(rm.line);
    servers.push(rs);
  }
  vs.real_servers = servers.slice(); // at its exact size (see readItems)
  const sorry = f.get('sorry_server');
  if (sorry) {
    const s = readSorry(r, sorry, vs);
    if (s) vs.sorry_server = s;
  }
  return vs;
}

function readTimingDefaults(r: Reader, f: Fields, d: CheckDefaults): void {
  const ct = r.duration(f.get('connect_timeout'), 1, 3_600_000);
  if (ct !== undefined) d.connect_timeout = ct;
  const retry = r.int(f.get('retry'), 0, 1_000_000);
  if (retry !== undefined) d.retry = retry;
  const dbr = r.duration(f.get('delay_before_retry'), 0, 86_400_000);
  if (dbr !== undefined) d.delay_before_retry = dbr;
  const warmup = r.duration(f.get('warmup'), 0, 86_400_000);
  if (warmup !== undefined) d.warmup = warmup;
  const vh = r.str(f.get('virtualhost'));
  if (vh !== undefined) d.virtualhost = vh;
}

function readRealServer(
  r: Reader,
  m: MapNode,
  vs: VirtualServer,
  vsDefaults: LvsDefaults,
): RealServer | undefined {
  const f = r.fields(m, RS_KEYS, 'in a real server');
  const address = r.ip(f.get('address'));
  if (!f.has('address')) r.error(m, `a real server needs 'address'`);
  if (address === undefined) return undefined;
  const family = familyOf(address)!;
  const portEntry = f.get('port');
  let port = r.port(portEntry);
  const forwarding = readForwarding(r, f.get('lvs_method'), f.get('tunnel'), vs.forwarding);
  if (family !== vs.family && forwarding.method !== 'TUN' && vs.key.kind !== 'fwmark')
    r.error(
      f.get('address')!.value,
      `real server ${address} is not of the family of virtual server ${vs.id} (only TUN real servers may differ)`,
    );
  const vsPort = vs.key.kind === 'address' ? vs.key.port : undefined;
  if (port === undefined && vsPort !== undefined && vsPort !== 0) port = vsPort;
  if (
    portEntry &&
    port !== undefined &&
    vsPort !== undefined &&
    vsPort !== 0 &&
    port !== vsPort &&
    forwarding.method !== 'NAT'
  )
    r.error(
      portEntry.value,
      `real server ${address} uses lvs_method ${forwarding.method}, which cannot change the port: use port ${vsPort} like the virtual server, or NAT`,
    );
  // The service's defaults, unless the real server overrides some (then a copy).
  let d = vsDefaults;
  if (f.hasAny(INHERITED_SET)) {
    d = {
      ...vsDefaults,
      delay_loop: r.duration(f.get('delay_loop'), 1, 86_400_000) ?? vsDefaults.delay_loop,
      alpha: r.bool(f.get('alpha')) ?? vsDefaults.alpha,
      inhibit_on_failure: r.bool(f.get('inhibit_on_failure')) ?? vsDefaults.inhibit_on_failure,
      slow_start: r.duration(f.get('slow_start'), 0, 86_400_000) ?? vsDefaults.slow_start,
    };
    readTimingDefaults(r, f, d);
  }
  const rs: RealServer = {
    address,
    family,
    weight: r.int(f.get('weight'), 0, 65535) ?? 1,
    forwarding,
    inhibit_on_failure: d.inhibit_on_failure,
    slow_start: d.slow_start,
    uthreshold: r.int(f.get('uthreshold'), 0, 2_147_483_647) ?? 0,
    lthreshold: r.int(f.get('lthreshold'), 0, 2_147_483_647) ?? 0,
    alpha: d.alpha,
    checks: [],
    // In the literal, so that it lies in the object itself (added afterwards, it would take a second
    // object in each of the many real servers); taken out again in the rare case of none.
    port,
  };
  if (port === undefined) delete rs.port;
  if (d.virtualhost !== undefined) rs.virtualhost = d.virtualhost;
  if (rs.uthreshold > 0 && rs.lthreshold > rs.uthreshold)
    r.error(
      f.get('lthreshold')!.value,
      `lthreshold (${rs.lthreshold}) must not exceed uthreshold (${rs.uthreshold})`,
    );
  for (const k of ['notify_up', 'notify_down'] as const) {
    const c = r.command(f.get(k), 'in a real server');
    if (c) rs[k] = c;
  }
  rs.checks = readItems(r.list(f.get('checks')), (it) => readCheck(r, it, d, family));
  return rs;
}

function readSorry(r: Reader, e: MapEntry, vs: VirtualServer): SorryServer | undefined {
  const m = r.map(e.value, "'sorry_server'");
  if (!m) return undefined;
  const f = r.fields(m, SORRY_KEYS, 'in sorry_server');
  const address = r.ip(f.get('address'));
  if (!f.has('address')) r.error(m, `'sorry_server' needs 'address'`);
  if (address === undefined) return undefined;
  const forwarding = readForwarding(r, f.get('lvs_method'), f.get('tunnel'), vs.forwarding);
  if (familyOf(address) !== vs.family && forwarding.method !== 'TUN' && vs.key.kind !== 'fwmark')
    r.error(
      f.get('address')!.value,
      `sorry_server ${address} is not of the family of virtual server ${vs.id}`,
    );
  const s: SorryServer = { address, forwarding, inhibit: r.bool(f.get('inhibit')) ?? false };
  const vsPort = vs.key.kind === 'address' ? vs.key.port : undefined;
  const port = r.port(f.get('port')) ?? (vsPort ? vsPort : undefined);
  if (f.has('port') && port !== undefined && vsPort && port !== vsPort && forwarding.method !== 'NAT')
    r.error(
      f.get('port')!.value,
      `sorry_server uses lvs_method ${forwarding.method}, which cannot change the port: use port ${vsPort}`,
    );
  if (port !== undefined) s.port = port;
  return s;
}

function readForwarding(
  r: Reader,
  method: MapEntry | undefined,
  tunnel: MapEntry | undefined,
  dflt: Forwarding,
): Forwarding {
  const m = r.oneOf(method, ['NAT', 'DR', 'TUN'] as const);
  if (m === undefined && !tunnel) return dflt;
  const fw: Forwarding = { method: m ?? dflt.method };
  if (tunnel) {
    if (fw.method !== 'TUN') {
      r.error(tunnel.pos, `'tunnel' needs lvs_method TUN`);
      return fw;
    }
    const t = readTunnel(r, tunnel);
    if (t) fw.tunnel = t;
  } else if (fw.method === 'TUN') {
    fw.tunnel = { type: 'ipip' };
  }
  return fw;
}

function readTunnel(r: Reader, e: MapEntry): TunnelOptions | undefined {
  const m = r.map(e.value, "'tunnel'");
  if (!m) return undefined;
  const f = r.fields(m, TUNNEL_KEYS, 'in tunnel');
  const type = r.oneOf(f.get('type'), ['ipip', 'gue', 'gre'] as const) ?? 'ipip';
  const t: TunnelOptions = { type };
  const port = r.port(f.get('port'));
  if (type === 'gue' && !f.has('port')) r.error(e.pos, `tunnel type gue needs 'port'`);
  if (type !== 'gue' && f.has('port')) r.error(f.get('port')!.pos, `'port' is only for tunnel type gue`);
  if (port !== undefined && type === 'gue') t.port = port;
  const csum = r.oneOf(f.get('checksum'), ['nocsum', 'csum', 'remcsum'] as const);
  if (csum !== undefined) {
    if (type === 'ipip') r.error(f.get('checksum')!.pos, `'checksum' is only for tunnel types gue and gre`);
    else if (type === 'gre' && csum === 'remcsum')
      r.error(f.get('checksum')!.value, `checksum remcsum is only for tunnel type gue`);
    else t.checksum = csum;
  }
  return t;
}
