/** keepalived statements into the configuration document (the shape of lbd's YAML). */
import type { Diagnostics } from '../diagnostics';
import {
  type DocNode,
  MapEntry,
  type MapNode,
  type SeqNode,
  entry,
  scalarAt,
  mapNode,
  scalar,
  seqNode,
} from '../document';
import { didYouMean } from '../suggest';
import { Converter, append, argPos, attachComments, put } from './convert';
import { HARMLESS, UNSUPPORTED } from './keywords';
import type { Statement } from './parse';

type Handler = (s: Statement, out: MapNode, m: Mapper) => void;
type Table = Record<string, Handler>;

const str =
  (key?: string): Handler =>
  (s, out, m) =>
    put(out, key ?? s.keyword, s, m.c.str(s), m.pending);
const int =
  (key?: string): Handler =>
  (s, out, m) =>
    put(out, key ?? s.keyword, s, m.c.int(s), m.pending);
const secs =
  (key?: string, dflt?: string): Handler =>
  (s, out, m) =>
    put(out, key ?? s.keyword, s, m.c.secs(s, dflt), m.pending);
const flag =
  (key?: string, invert = false): Handler =>
  (s, out, m) => {
    const v = m.c.flag(s);
    if (v && v.kind === 'scalar' && invert) v.value = !v.value;
    put(out, key ?? s.keyword, s, v, m.pending);
  };
const cmd =
  (key?: string): Handler =>
  (s, out, m) =>
    put(out, key ?? s.keyword, s, m.c.cmd(s), m.pending);
const userGroup =
  (userKey: string, groupKey: string): Handler =>
  (s, out, m) => {
    if (s.args.length < 1 || s.args.length > 2) {
      m.diags.error(s, `'${s.keyword}' takes a user name and optionally a group name`);
      return;
    }
    put(out, userKey, s, scalar(argPos(s, 0), s.args[0]), m.pending);
    if (s.args.length === 2) put(out, groupKey, s, scalar(argPos(s, 1), s.args[1]));
  };

/** lvs_method / lb_kind: NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]. */
const method =
  (methodKey: string, tunnelKey: string): Handler =>
  (s, out, m) => {
    if (s.args.length === 0) {
      m.diags.error(s, `'${s.keyword}' needs NAT, DR or TUN`);
      return;
    }
    put(out, methodKey, s, scalar(argPos(s, 0), s.args[0]), m.pending);
    if (s.args.length === 1) return;
    const t = mapNode(argPos(s, 1));
    for (let i = 1; i < s.args.length; i++) {
      const a = s.args[i];
      if ((a === 'type' || a === 'port') && i + 1 < s.args.length) {
        t.entries.push(
          entry(
            a,
            argPos(s, i),
            a === 'port' ? m.c.intArg(s, i + 1) : scalar(argPos(s, i + 1), s.args[i + 1]),
          ),
        );
        i++;
      } else if (a === 'nocsum' || a === 'csum' || a === 'remcsum') {
        t.entries.push(entry('checksum', argPos(s, i), scalar(argPos(s, i), a)));
      } else {
        m.diags.error(
          argPos(s, i),
          `unexpected '${a}' in ${s.keyword} (expected type, port, nocsum, csum or remcsum)`,
        );
        return;
      }
    }
    put(out, tunnelKey, s, t);
  };

const ignoreTable = (names: string[]): Table => Object.fromEntries(names.map((n) => [n, () => undefined]));

/** The empty pending list, shared (never pushed to: see Mapper.hold). */
const NONE: string[] = [];

class Mapper {
  readonly c: Converter;
  /** Comments (and ignored keywords) waiting for the next entry of the current block. */
  pending: string[] = [];
  constructor(readonly diags: Diagnostics) {
    this.c = new Converter(diags);
  }

  /** Maps a block's statements with a table; unknown, harmless and unsupported keywords are reported. */
  block(stmts: Statement[] | undefined, table: Table, out: MapNode, where: string | (() => string)): MapNode {
    const saved = this.pending;
    // A fresh list only once something is pending (most blocks have no comments).
    this.pending = NONE;
    for (const s of stmts ?? []) {
      const h = table[s.keyword];
      if (h) {
        h(s, out, this);
        continue;
      }
      this.other(s, table, where);
    }
    if (this.pending.length > 0) {
      const last = out.entries[out.entries.length - 1];
      if (last) last.comment = [last.comment, ...this.pending].filter((x) => x !== undefined).join('; ');
    }
    this.pending = saved;
    return out;
  }

  /** The list comments and ignored keywords wait in (allocated on first use). */
  hold(): string[] {
    if (this.pending === NONE) this.pending = [];
    return this.pending;
  }

  other(s: Statement, table: Table, whereArg: string | (() => string)): void {
    const where = typeof whereArg === 'string' ? whereArg : whereArg();
    const text = [s.keyword, ...s.args].join(' ') + (s.block ? ' { ... }' : '');
    if (s.comments) this.hold().push(...s.comments);
    if (Object.hasOwn(HARMLESS, s.keyword)) {
      this.diags.warning(s, `'${s.keyword}' is ignored: ${HARMLESS[s.keyword]}`);
      this.hold().push(`keepalived: ${text} (ignored: ${HARMLESS[s.keyword]})`);
    } else if (Object.hasOwn(UNSUPPORTED, s.keyword)) {
      this.diags.error(s, `'${s.keyword}' is not supported by lbd: ${UNSUPPORTED[s.keyword]}`);
    } else {
      this.diags.error(
        s,
        `unknown keyword '${s.keyword}' ${where}${didYouMean(s.keyword, Object.keys(table))}`,
      );
    }
  }

  /** A block that must be present. */
  requireBlock(s: Statement): boolean {
    if (s.block) return true;
    this.diags.error(s, `'${s.keyword}' needs a block { ... }`);
    return false;
  }

  /** The single name after a keyword (vrrp_instance NAME {). */
  name(s: Statement): string | undefined {
    if (s.args.length === 1) return s.args[0];
    this.diags.error(
      s.args.length === 0 ? s : argPos(s, 1),
      s.args.length === 0
        ? `'${s.keyword}' needs a name`
        : `'${s.keyword}' takes one name, got ${s.args.length} words`,
    );
    return undefined;
  }
}

// ---------------------------------------------------------------- global_defs

const GLOBAL: Table = {
  router_id: str(),
  lvs_id: str('router_id'),
  script_user: userGroup('script_user', 'script_group'),
  enable_script_security: flag(),
  vrrp_version: int(),
  vrrp_mcast_group4: str(),
  vrrp_mcast_group6: str(),
  vrrp_garp_master_delay: secs(),
  vrrp_garp_master_repeat: int(),
  vrrp_garp_master_refresh: secs(),
  vrrp_garp_master_refresh_repeat: int(),
  vrrp_garp_lower_prio_delay: secs(),
  vrrp_garp_lower_prio_repeat: int(),
  vrrp_garp_interval: secs(),
  vrrp_gna_interval: secs(),
  vrrp_min_garp: flag(),
  vrrp_strict: flag(),
  vrrp_skip_check_adv_addr: flag(),
  checker_log_all_failures: flag(),
  lvs_flush: flag(),
  lvs_flush_on_stop: (s, out, m) => {
    if (s.args.length > 1 || (s.args.length === 1 && s.args[0] !== 'VS'))
      m.diags.error(argPos(s, 0), `'lvs_flush_on_stop' takes no value or VS`);
    else put(out, 'lvs_flush_on_stop', s, scalar(s, true), m.pending);
  },
};

/** lvs_sync_daemon IFACE [[inst] NAME] [id N] [maxlen N] [port N] [ttl N] [group ADDR]. */
function syncDaemon(s: Statement, m: Mapper): MapNode | undefined {
  if (s.args.length === 0) {
    m.diags.error(s, `'lvs_sync_daemon' needs an interface`);
    return undefined;
  }
  const out = mapNode(s);
  out.entries.push(entry('interface', argPos(s, 0), scalar(argPos(s, 0), s.args[0])));
  const names: Record<string, string> = {
    inst: 'instance',
    id: 'sync_id',
    maxlen: 'maxlen',
    port: 'port',
    ttl: 'ttl',
    group: 'group',
  };
  for (let i = 1; i < s.args.length; i++) {
    const a = s.args[i];
    const key = names[a];
    if (key !== undefined && i + 1 < s.args.length) {
      const numeric = key !== 'instance' && key !== 'group';
      out.entries.push(
        entry(key, argPos(s, i), numeric ? m.c.intArg(s, i + 1) : scalar(argPos(s, i + 1), s.args[i + 1])),
      );
      i++;
    } else if (i === 1 && key === undefined) {
      out.entries.push(entry('instance', argPos(s, i), scalar(argPos(s, i), a)));
    } else {
      m.diags.error(
        argPos(s, i),
        `unexpected '${a}' in lvs_sync_daemon (expected inst, id, maxlen, port, ttl or group)`,
      );
      return undefined;
    }
  }
  return out;
}

/** lvs_timeouts [tcp SECS] [tcpfin SECS] [udp SECS]. */
function lvsTimeouts(s: Statement, m: Mapper): MapNode | undefined {
  const out = mapNode(s);
  if (s.args.length === 0 || s.args.length % 2 !== 0) {
    m.diags.error(s, `'lvs_timeouts' takes pairs: tcp SECS, tcpfin SECS, udp SECS`);
    return undefined;
  }
  for (let i = 0; i < s.args.length; i += 2) {
    const k = s.args[i];
    const key = k === 'tcp' ? 'tcp' : k === 'tcpfin' ? 'tcp_fin' : k === 'udp' ? 'udp' : undefined;
    if (!key) {
      m.diags.error(argPos(s, i), `unexpected '${k}' in lvs_timeouts (expected tcp, tcpfin or udp)`);
      return undefined;
    }
    const v = m.c.secsText(s.args[i + 1], argPos(s, i + 1), `lvs_timeouts ${k}`);
    if (v) out.entries.push(entry(key, argPos(s, i), v));
  }
  return out;
}

// ---------------------------------------------------------------- VRRP

const SCRIPT: Table = {
  script: (s, out, m) => {
    if (s.args.length === 0) m.diags.error(s, `'script' needs a command`);
    else put(out, 'script', s, scalar(argPos(s, 0), s.args.join(' ')), m.pending);
  },
  interval: secs(),
  timeout: secs(),
  weight: (s, out, m) => {
    if (s.args.length === 0 || s.args.length > 2 || (s.args.length === 2 && s.args[1] !== 'reverse')) {
      m.diags.error(s, `'weight' takes a number and optionally 'reverse'`);
      return;
    }
    put(out, 'weight', s, m.c.intArg(s, 0), m.pending);
    if (s.args.length === 2) put(out, 'reverse', s, scalar(argPos(s, 1), true));
  },
  rise: int(),
  fall: int(),
  user: userGroup('user', 'group'),
  init_fail: flag(),
};

/** "name [weight N] [reverse|noreverse|no_reverse]" of track_interface / track_script. */
function trackItems(s: Statement, m: Mapper, nameKey: string): DocNode[] {
  if (!m.requireBlock(s)) return [];
  const out: DocNode[] = [];
  for (const b of s.block!) {
    if (b.args.length === 0) {
      const n = scalar(b, b.keyword);
      attachComments(n, b);
      out.push(n);
      continue;
    }
    const item = mapNode(b);
    item.entries.push(entry(nameKey, b, scalar(b, b.keyword)));
    let ok = true;
    for (let i = 0; i < b.args.length; i++) {
      const a = b.args[i];
      if (a === 'weight' && i + 1 < b.args.length) {
        item.entries.push(entry('weight', argPos(b, i), m.c.intArg(b, i + 1)));
        i++;
      } else if (a === 'reverse')
        item.entries.push(entry('reverse', argPos(b, i), scalar(argPos(b, i), true)));
      else if (a === 'noreverse' || a === 'no_reverse') continue;
      else {
        m.diags.error(argPos(b, i), `unexpected '${a}' in ${s.keyword} (expected weight N or reverse)`);
        ok = false;
        break;
      }
    }
    attachComments(item, b);
    if (ok) out.push(item);
  }
  return out;
}

const listOf =
  (key: string, items: (s: Statement, m: Mapper) => DocNode[]): Handler =>
  (s, out, m) => {
    const n = seqNode(s, items(s, m));
    put(out, key, s, n, m.pending);
  };

const AUTH: Table = { auth_type: str(), auth_pass: str() };

const INSTANCE: Table = {
  state: str(),
  interface: str(),
  virtual_router_id: int(),
  priority: int(),
  advert_int: secs(),
  version: int(),
  authentication: (s, out, m) => {
    if (m.requireBlock(s))
      put(out, 'authentication', s, m.block(s.block, AUTH, mapNode(s), 'in authentication'), m.pending);
  },
  virtual_ipaddress: listOf('virtual_ipaddress', (s, m) => m.c.lines(s)),
  virtual_ipaddress_excluded: listOf('virtual_ipaddress_excluded', (s, m) => m.c.lines(s)),
  mcast_src_ip: str(),
  unicast_src_ip: str(),
  unicast_peer: listOf('unicast_peer', (s, m) => {
    for (const b of s.block ?? [])
      if (b.args.length > 0)
        m.diags.error(argPos(b, 0), `unicast_peer options (min_ttl, max_ttl) are not supported`);
    return m.c.lines(s).filter((_, i) => (s.block![i].args.length ?? 0) === 0);
  }),
  unicast_ttl: int(),
  track_interface: listOf('track_interface', (s, m) => trackItems(s, m, 'interface')),
  track_script: listOf('track_script', (s, m) => trackItems(s, m, 'script')),
  dont_track_primary: flag(),
  notify_master: cmd(),
  notify_backup: cmd(),
  notify_fault: cmd(),
  notify_stop: cmd(),
  notify: cmd(),
  nopreempt: flag(),
  no_preempt: flag('nopreempt'),
  preempt_delay: secs(),
  accept: flag(),
  no_accept: flag('accept', true),
  strict_mode: flag(),
  skip_check_adv_addr: flag(),
  down_timer_adverts: int(),
  garp_master_delay: secs(),
  garp_master_repeat: int(),
  garp_master_refresh: secs(),
  garp_master_refresh_repeat: int(),
  garp_lower_prio_delay: secs(),
  garp_lower_prio_repeat: int(),
  garp_interval: secs(),
  gna_interval: secs(),
};

const SYNC_GROUP: Table = {
  group: listOf('group', (s, m) => m.c.words(s)),
  track_interface: INSTANCE.track_interface,
  track_script: INSTANCE.track_script,
  notify_master: cmd(),
  notify_backup: cmd(),
  notify_fault: cmd(),
  notify_stop: cmd(),
  notify: cmd(),
  ...ignoreTable([]),
};

// ---------------------------------------------------------------- LVS

const CHECK_COMMON: Table = {
  connect_ip: str(),
  connect_port: int(),
  bindto: str(),
  bind_if: str(),
  bind_port: int(),
  fwmark: int(),
  alpha: flag(),
  connect_timeout: secs(),
  retry: int(),
  nb_get_retry: int('retry'),
  delay_before_retry: secs(),
  warmup: secs(),
  delay_loop: secs(),
  log_all_failures: flag(),
};

const URL: Table = {
  path: str(),
  digest: str(),
  status_code: (s, out, m) => {
    if (s.args.length === 0) m.diags.error(s, `'status_code' needs codes or ranges`);
    else
      put(
        out,
        'status_code',
        s,
        seqNode(
          argPos(s, 0),
          s.args.map((_, i) => m.c.intArg(s, i)),
        ),
        m.pending,
      );
  },
  virtualhost: str(),
  regex: str(),
  regex_no_match: flag(),
};

const HTTP: Table = {
  ...CHECK_COMMON,
  http_protocol: str(),
  fast_recovery: flag(),
  virtualhost: str(),
  url: (s, out, m) => {
    if (m.requireBlock(s)) append(out, 'url', s, m.block(s.block, URL, mapNode(s), 'in url'), m.pending);
  },
};

const CHECKER_TABLES: Record<string, Table> = {
  TCP_CHECK: CHECK_COMMON,
  HTTP_GET: HTTP,
  SSL_GET: { ...HTTP, enable_sni: flag() },
  MISC_CHECK: {
    alpha: flag(),
    connect_timeout: secs(),
    retry: int(),
    nb_get_retry: int('retry'),
    delay_before_retry: secs(),
    warmup: secs(),
    delay_loop: secs(),
    log_all_failures: flag(),
    misc_path: (s, out, m) => {
      if (s.args.length === 0) m.diags.error(s, `'misc_path' needs a command`);
      else put(out, 'misc_path', s, scalar(argPos(s, 0), s.args.join(' ')), m.pending);
    },
    misc_timeout: secs(),
    misc_dynamic: flag(),
    user: userGroup('user', 'group'),
  },
  DNS_CHECK: { ...CHECK_COMMON, type: str(), name: str() },
};

const checker: Handler = (s, out, m) => {
  if (s.args.length > 0) m.diags.error(argPos(s, 0), `'${s.keyword}' takes no value`);
  const body = m.block(s.block, CHECKER_TABLES[s.keyword], mapNode(s), () => `in ${s.keyword}`);
  const item = mapNode(s, [entry(s.keyword, s, body)]);
  append(out, 'checks', s, item, m.pending);
};

const INHERITED: Table = {
  connect_timeout: secs(),
  retry: int(),
  nb_get_retry: int('retry'),
  delay_before_retry: secs(),
  warmup: secs(),
  delay_loop: secs(),
  inhibit_on_failure: flag(),
  alpha: flag(),
  virtualhost: str(),
  slow_start: secs(),
};

const REAL_SERVER: Table = {
  ...INHERITED,
  weight: int(),
  lvs_method: method('lvs_method', 'tunnel'),
  lb_kind: method('lvs_method', 'tunnel'),
  notify_up: cmd(),
  notify_down: cmd(),
  uthreshold: int(),
  lthreshold: int(),
  TCP_CHECK: checker,
  HTTP_GET: checker,
  SSL_GET: checker,
  MISC_CHECK: checker,
  DNS_CHECK: checker,
};

/** real_server ADDR [PORT] { ... }. */
function realServer(s: Statement, m: Mapper): MapNode | undefined {
  if (s.args.length < 1 || s.args.length > 2) {
    m.diags.error(s, `'real_server' takes an address and optionally a port`);
    return undefined;
  }
  const out = mapNode(s);
  const col = s.argCols[0];
  out.entries.push(new MapEntry('address', s.file, s.line, col, scalarAt(s.file, s.line, col, s.args[0])));
  if (s.args.length === 2)
    out.entries.push(new MapEntry('port', s.file, s.line, s.argCols[1], m.c.intArg(s, 1)));
  if (!s.block) m.diags.error(s, `'real_server' needs a block { ... }`);
  return m.block(s.block, REAL_SERVER, out, () => `in real_server ${s.args.join(' ')}`);
}

const SCHED_FLAG_WORDS = ['flag-1', 'flag-2', 'flag-3', 'sh-port', 'sh-fallback', 'mh-port', 'mh-fallback'];

const VIRTUAL_SERVER: Table = {
  ...INHERITED,
  lvs_sched: str(),
  lb_algo: str('lvs_sched'),
  lvs_method: method('lvs_method', 'tunnel'),
  lb_kind: method('lvs_method', 'tunnel'),
  ops: flag(),
  ...Object.fromEntries(
    SCHED_FLAG_WORDS.map((w): [string, Handler] => [
      w,
      (s, out, m) => {
        if (s.args.length > 0) m.diags.error(argPos(s, 0), `'${w}' takes no value`);
        append(out, 'sched_flags', s, scalar(s, w), m.pending);
      },
    ]),
  ),
  persistence_timeout: secs(undefined, '360s'),
  persistence_granularity: str(),
  protocol: str(),
  ip_family: str(),
  quorum: int(),
  hysteresis: int(),
  quorum_up: cmd(),
  quorum_down: cmd(),
  omega: flag(),
  ha_suspend: flag(),
  real_server: (s, out, m) => {
    const rs = realServer(s, m);
    if (rs) append(out, 'real_servers', s, rs, m.pending);
  },
  sorry_server: (s, out, m) => {
    if (s.args.length < 1 || s.args.length > 2) {
      m.diags.error(s, `'sorry_server' takes an address and optionally a port`);
      return;
    }
    const so = sorryOf(out, s);
    so.entries.unshift(entry('address', argPos(s, 0), scalar(argPos(s, 0), s.args[0])));
    if (s.args.length === 2) so.entries.splice(1, 0, entry('port', argPos(s, 1), m.c.intArg(s, 1)));
  },
  sorry_server_inhibit: (s, out, m) => {
    const v = m.c.flag(s);
    if (v) sorryOf(out, s).entries.push(entry('inhibit', s, v));
  },
  sorry_server_lvs_method: (s, out, m) => method('lvs_method', 'tunnel')(s, sorryOf(out, s), m),
};

function sorryOf(out: MapNode, s: Statement): MapNode {
  let e = out.entries.find((x) => x.key === 'sorry_server');
  if (!e) {
    e = entry('sorry_server', s, mapNode(s));
    out.entries.push(e);
  }
  return e.value as MapNode;
}

/** virtual_server ADDR [PORT] | fwmark N | group NAME { ... }. */
function virtualServer(s: Statement, m: Mapper): MapNode | undefined {
  const out = mapNode(s);
  const a = s.args;
  if (a[0] === 'fwmark' && a.length === 2) out.entries.push(entry('fwmark', argPos(s, 1), m.c.intArg(s, 1)));
  else if (a[0] === 'group' && a.length === 2)
    out.entries.push(entry('group', argPos(s, 1), scalar(argPos(s, 1), a[1])));
  else if (a.length === 1 || a.length === 2) {
    const addr = a[0].startsWith('[') && a[0].endsWith(']') ? a[0].slice(1, -1) : a[0];
    out.entries.push(entry('address', argPos(s, 0), scalar(argPos(s, 0), addr)));
    if (a.length === 2) out.entries.push(entry('port', argPos(s, 1), m.c.intArg(s, 1)));
  } else {
    m.diags.error(s, `'virtual_server' takes ADDRESS [PORT], fwmark N or group NAME`);
    return undefined;
  }
  if (!s.block) m.diags.error(s, `'virtual_server' needs a block { ... }`);
  return m.block(s.block, VIRTUAL_SERVER, out, () => `in virtual_server ${a.join(' ')}`);
}

/** virtual_server_group NAME { ADDR|RANGE [PORT] ... fwmark N [inet|inet6] }. */
function serverGroup(s: Statement, m: Mapper): DocNode[] {
  const out: DocNode[] = [];
  for (const b of s.block ?? []) {
    const item = mapNode(b);
    if (b.keyword === 'fwmark') {
      if (b.args.length < 1 || b.args.length > 2) {
        m.diags.error(b, `'fwmark' in a virtual_server_group takes a number and optionally inet or inet6`);
        continue;
      }
      item.entries.push(entry('fwmark', argPos(b, 0), m.c.intArg(b, 0)));
      if (b.args.length === 2)
        item.entries.push(entry('ip_family', argPos(b, 1), scalar(argPos(b, 1), b.args[1])));
    } else {
      if (b.args.length > 1) {
        m.diags.error(argPos(b, 1), `a virtual_server_group entry is ADDRESS-or-RANGE [PORT]`);
        continue;
      }
      item.entries.push(entry('address', b, scalar(b, b.keyword)));
      if (b.args.length === 1) item.entries.push(entry('port', argPos(b, 0), m.c.intArg(b, 0)));
    }
    attachComments(item, b);
    out.push(item);
  }
  return out;
}

// ---------------------------------------------------------------- top level

const TOP_KEYWORDS = [
  'global_defs',
  'vrrp_script',
  'vrrp_instance',
  'vrrp_sync_group',
  'virtual_server_group',
  'virtual_server',
];

/** Maps top-level keepalived statements, one at a time, to the document the YAML import would give. */
export class KeepalivedMapper {
  private readonly m: Mapper;
  readonly top: MapNode;
  private readonly topTable: Table = {};

  /** With onVirtualServer, virtual servers go there instead of into the document. */
  constructor(
    private readonly diags: Diagnostics,
    file: string,
    private readonly onVirtualServer?: (vs: MapNode) => void,
  ) {
    this.m = new Mapper(diags);
    this.top = mapNode({ file, line: 1, column: 1 });
    for (const k of TOP_KEYWORDS) this.topTable[k] = () => undefined;
  }

  private section(key: string, s: Statement, kind: 'map' | 'seq'): DocNode {
    let e = this.top.entries.find((x) => x.key === key);
    if (!e) {
      e = entry(key, s, kind === 'map' ? mapNode(s) : seqNode(s));
      this.top.entries.push(e);
    }
    return e.value;
  }

  add(s: Statement): void {
    const { m, diags, top } = this;
    const pending = m.pending;
    switch (s.keyword) {
      case 'global_defs': {
        if (!m.requireBlock(s)) break;
        if (s.args.length > 0) diags.error(argPos(s, 0), `'global_defs' takes no name`);
        const g = this.section('global', s, 'map') as MapNode;
        const inner: Statement[] = [];
        for (const b of s.block!) {
          if (b.keyword === 'lvs_sync_daemon') put(top, 'lvs_sync_daemon', b, syncDaemon(b, m));
          else if (b.keyword === 'lvs_timeouts') put(top, 'lvs_timeouts', b, lvsTimeouts(b, m));
          else inner.push(b);
        }
        m.block(inner, GLOBAL, g, 'in global_defs');
        attachComments(
          top.entries.find((x) => x.key === 'global')!,
          s,
        );
        break;
      }
      case 'vrrp_script':
      case 'vrrp_instance':
      case 'vrrp_sync_group':
      case 'virtual_server_group': {
        const name = m.name(s);
        if (name === undefined || !m.requireBlock(s)) break;
        const sec = this.section(`${s.keyword}s`, s, 'map') as MapNode;
        let value: DocNode;
        if (s.keyword === 'virtual_server_group') value = seqNode(s, serverGroup(s, m));
        else {
          const table =
            s.keyword === 'vrrp_script' ? SCRIPT : s.keyword === 'vrrp_instance' ? INSTANCE : SYNC_GROUP;
          value = m.block(s.block, table, mapNode(s), `in ${s.keyword} ${name}`);
        }
        put(sec, name, s, value, pending);
        break;
      }
      case 'virtual_server': {
        const vs = virtualServer(s, m);
        if (!vs) break;
        if (this.onVirtualServer) {
          this.onVirtualServer(vs);
          break;
        }
        attachComments(vs, s);
        if (pending.length > 0) vs.commentBefore = [...pending.splice(0), ...(vs.commentBefore ?? [])];
        (this.section('virtual_servers', s, 'seq') as SeqNode).items.push(vs);
        break;
      }
      default:
        m.other(s, this.topTable, 'at the top level');
    }
  }
}

/** Maps a parsed keepalived.conf to the document the YAML import would give. */
export function mapKeepalived(stmts: Statement[], diags: Diagnostics, file: string): MapNode {
  const km = new KeepalivedMapper(diags, file);
  for (const s of stmts) km.add(s);
  return km.top;
}
