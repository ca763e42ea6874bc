/** Health checkers of a real server (TCP_CHECK, HTTP_GET, SSL_GET, MISC_CHECK, DNS_CHECK). */
import type { DocNode } from '../document';
import { describe } from '../document';
import {
  DNS_TYPES,
  type CheckCommon,
  type CheckerType,
  type HealthCheck,
  type HttpCheck,
  type HttpUrl,
  type MiscCheck,
} from '../model';
import { didYouMean } from '../suggest';
import { type Reader, Fields, keys, readItems } from './reader';

export const CHECKERS: readonly CheckerType[] = [
  'TCP_CHECK',
  'HTTP_GET',
  'SSL_GET',
  'MISC_CHECK',
  'DNS_CHECK',
];

/** Settings a checker inherits from its real server (and the real server from its virtual server). */
export interface CheckDefaults {
  connect_timeout?: number;
  retry?: number;
  delay_before_retry?: number;
  delay_loop: number;
  warmup?: number;
  alpha: boolean;
  /** undefined: the global checker_log_all_failures, filled in when known. */
  log_all_failures?: boolean;
  virtualhost?: string;
}

const TIMING = [
  'alpha',
  'connect_timeout',
  'retry',
  'delay_before_retry',
  'warmup',
  'delay_loop',
  'log_all_failures',
];
const CONNECT = ['connect_ip', 'connect_port', 'bindto', 'bind_if', 'bind_port', 'fwmark'];
const CHECK_KEYS: Record<CheckerType, ReadonlySet<string>> = {
  TCP_CHECK: keys(...CONNECT, ...TIMING),
  HTTP_GET: keys(...CONNECT, ...TIMING, 'http_protocol', 'fast_recovery', 'url', 'virtualhost'),
  SSL_GET: keys(...CONNECT, ...TIMING, 'http_protocol', 'fast_recovery', 'url', 'virtualhost', 'enable_sni'),
  MISC_CHECK: keys(...TIMING, 'misc_path', 'misc_timeout', 'misc_dynamic', 'user', 'group'),
  DNS_CHECK: keys(...CONNECT, ...TIMING, 'type', 'name'),
};
const CHECK_WHERE: Record<CheckerType, string> = {
  TCP_CHECK: 'in TCP_CHECK',
  HTTP_GET: 'in HTTP_GET',
  SSL_GET: 'in SSL_GET',
  MISC_CHECK: 'in MISC_CHECK',
  DNS_CHECK: 'in DNS_CHECK',
};
const URL_KEYS = keys('path', 'digest', 'status_code', 'virtualhost', 'regex', 'regex_no_match');
const UNSUPPORTED_CHECKERS = ['SMTP_CHECK', 'BFD_CHECK', 'UDP_CHECK', 'PING_CHECK', 'FILE_CHECK'];

/** One item of `checks`: "TCP_CHECK" or {TCP_CHECK: {...}}. */
export function readCheck(
  r: Reader,
  item: DocNode,
  d: CheckDefaults,
  family: 'inet' | 'inet6',
): HealthCheck | undefined {
  const c = buildCheck(r, item, d, family);
  if (c && c.log_all_failures === undefined) {
    c.log_all_failures = false;
    r.pendingLogAll.push(c);
  }
  return c;
}

function buildCheck(
  r: Reader,
  item: DocNode,
  d: CheckDefaults,
  family: 'inet' | 'inet6',
): HealthCheck | undefined {
  let type: string;
  let body: DocNode | undefined;
  let pos = item as { file: string; line: number; column: number };
  if (item.kind === 'scalar' && typeof item.value === 'string') {
    type = item.value;
  } else if (item.kind === 'map' && item.entries.length === 1) {
    type = item.entries[0].key;
    body = item.entries[0].value;
    pos = item.entries[0].pos;
  } else {
    r.error(
      item,
      `a check must be a checker name or a mapping of one checker name to its settings, got ${describe(item)}`,
    );
    return undefined;
  }
  if (!(CHECKERS as readonly string[]).includes(type)) {
    if (UNSUPPORTED_CHECKERS.includes(type))
      r.error(pos, `${type} is not supported by lbd (supported: ${CHECKERS.join(', ')})`);
    else
      r.error(
        pos,
        `unknown checker '${type}'${didYouMean(type, CHECKERS)} (supported: ${CHECKERS.join(', ')})`,
      );
    return undefined;
  }
  const checker = type as CheckerType;
  const m = body ? r.map(body, checker) : undefined;
  if (body && !m) return undefined;
  const f = m ? r.fields(m, CHECK_KEYS[checker], CHECK_WHERE[checker]) : new Fields();

  const delayLoop = r.duration(f.get('delay_loop'), 1, 86_400_000) ?? d.delay_loop;
  const retryDefault = checker === 'DNS_CHECK' ? 3 : checker === 'MISC_CHECK' ? 0 : 1;
  const dbrDefault =
    checker === 'DNS_CHECK' ? delayLoop : checker === 'HTTP_GET' || checker === 'SSL_GET' ? 3000 : 1000;
  // Built once, with the checker's type first: the check object itself (no copy for TCP_CHECK).
  const common: CheckCommon & { checker: CheckerType } = {
    checker,
    connect_timeout: r.duration(f.get('connect_timeout'), 1, 3_600_000) ?? d.connect_timeout ?? 5000,
    retry: r.int(f.get('retry'), 0, 1_000_000) ?? d.retry ?? retryDefault,
    delay_before_retry:
      r.duration(f.get('delay_before_retry'), 0, 86_400_000) ?? d.delay_before_retry ?? dbrDefault,
    delay_loop: delayLoop,
    warmup: r.duration(f.get('warmup'), 0, 86_400_000) ?? d.warmup ?? delayLoop,
    alpha: r.bool(f.get('alpha')) ?? d.alpha,
    log_all_failures: (r.bool(f.get('log_all_failures')) ?? d.log_all_failures)!,
  };
  const connectIp = r.ip(f.get('connect_ip'));
  if (connectIp !== undefined) common.connect_ip = connectIp;
  const connectPort = r.port(f.get('connect_port'));
  if (connectPort !== undefined) common.connect_port = connectPort;
  const bindto = r.ip(f.get('bindto'));
  if (bindto !== undefined) {
    const target = connectIp ?? undefined;
    const targetFamily = target !== undefined ? (target.includes(':') ? 'inet6' : 'inet') : family;
    if ((bindto.includes(':') ? 'inet6' : 'inet') !== targetFamily)
      r.error(f.get('bindto')!.value, `'bindto' ${bindto} is not of the family of the address checked`);
    else common.bindto = bindto;
  }
  const bindIf = r.word(f.get('bind_if'));
  if (bindIf !== undefined) common.bind_if = bindIf;
  const bindPort = r.port(f.get('bind_port'));
  if (bindPort !== undefined) common.bind_port = bindPort;
  const fwmark = r.int(f.get('fwmark'), 1, 4294967295);
  if (fwmark !== undefined) common.fwmark = fwmark;

  switch (checker) {
    case 'TCP_CHECK':
      return common as HealthCheck;
    case 'HTTP_GET':
    case 'SSL_GET': {
      const urls = readItems(r.list(f.get('url')), (u) => readUrl(r, u));
      if (!f.has('url')) r.error(pos, `${checker} needs at least one 'url'`);
      const check = {
        ...common,
        http_protocol: r.oneOf(f.get('http_protocol'), ['1.0', '1.0C', '1.1'] as const) ?? '1.0',
        fast_recovery: r.bool(f.get('fast_recovery')) ?? false,
        enable_sni: r.bool(f.get('enable_sni')) ?? false,
        url: urls,
      } as HttpCheck;
      const vh = r.str(f.get('virtualhost')) ?? d.virtualhost;
      if (vh !== undefined) check.virtualhost = vh;
      return check;
    }
    case 'MISC_CHECK': {
      const path = r.str(f.get('misc_path'));
      if (!f.has('misc_path')) r.error(pos, `MISC_CHECK needs 'misc_path'`);
      else if (path !== undefined && path.trim() === '')
        r.error(f.get('misc_path')!.value, `'misc_path' must not be empty`);
      else if (path !== undefined) r.fact('script', path, 'misc_path', f.get('misc_path')!.value);
      const check = {
        ...common,
        misc_path: path ?? '',
        misc_timeout: r.duration(f.get('misc_timeout'), 1, 86_400_000) ?? common.delay_loop,
        misc_dynamic: r.bool(f.get('misc_dynamic')) ?? false,
      } as MiscCheck;
      const user = r.word(f.get('user'));
      if (user !== undefined) check.user = user;
      const group = r.word(f.get('group'));
      if (group !== undefined) check.group = group;
      return check;
    }
    case 'DNS_CHECK': {
      const name = r.str(f.get('name')) ?? '.';
      if (name === '' || /\s/.test(name))
        r.error(f.get('name')!.value, `'name' must be a domain name, got '${name}'`);
      return Object.assign(common, { type: r.oneOf(f.get('type'), DNS_TYPES) ?? 'SOA', name }) as HealthCheck;
    }
  }
}

function readUrl(r: Reader, n: DocNode): HttpUrl | undefined {
  const m = r.map(n, 'a url');
  if (!m) return undefined;
  const f = r.fields(m, URL_KEYS, 'in a url');
  const path = r.str(f.get('path'));
  if (!f.has('path')) r.error(m, `a url needs 'path'`);
  if (path === undefined) return undefined;
  if (!path.startsWith('/') && !/^https?:\/\//.test(path))
    r.error(f.get('path')!.value, `'path' must start with '/', got '${path}'`);
  const url: HttpUrl = { path, status_code: [], regex_no_match: r.bool(f.get('regex_no_match')) ?? false };
  const digest = f.get('digest');
  if (digest) {
    const v = r.str(digest);
    if (v !== undefined && !/^[0-9a-fA-F]{32}$/.test(v))
      r.error(
        digest.value,
        `'digest' must be 32 hexadecimal digits (an MD5 as genhash prints it), got '${v}'`,
      );
    else if (v !== undefined) url.digest = v.toLowerCase();
  }
  const sc = f.get('status_code');
  const codes = !sc
    ? []
    : readItems(sc.value.kind === 'seq' ? sc.value.items : [sc.value], (it) => {
        const range = statusRange(it);
        if (!range)
          r.error(
            it,
            `'status_code' must be codes or ranges between 100 and 599 such as 200 or 200-299, got ${describe(it)}`,
          );
        return range;
      });
  url.status_code = codes.length > 0 ? codes : [[200, 299]];
  const vh = r.str(f.get('virtualhost'));
  if (vh !== undefined) url.virtualhost = vh;
  const re = f.get('regex');
  if (re) {
    const v = r.str(re);
    if (v !== undefined) {
      try {
        new RegExp(v);
        url.regex = v;
      } catch {
        r.error(re.value, `'regex' is not a valid regular expression: '${v}'`);
      }
    }
  }
  if (url.regex_no_match && url.regex === undefined && !re)
    r.error(f.get('regex_no_match')!.pos, `regex_no_match needs 'regex'`);
  return url;
}

function statusRange(n: DocNode): [number, number] | undefined {
  if (n.kind !== 'scalar') return undefined;
  const s = String(n.value);
  const m = /^(\d{3})(?:-(\d{3}))?$/.exec(s);
  if (!m) return undefined;
  const a = +m[1];
  const b = m[2] !== undefined ? +m[2] : a;
  if (a < 100 || b > 599 || a > b) return undefined;
  return [a, b];
}
