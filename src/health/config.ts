/**
 * Health-check configuration, with keepalived.conf's parameter names (times in seconds, fractions
 * allowed), and its normalisation into the internal form the checkers use (times in milliseconds,
 * defaults applied, validated).
 */
import { isIP } from 'node:net';

/** Parameters every checker takes (keepalived names). */
export interface CommonCheckParams {
  /** Address to probe; defaults to the real server's address. */
  connect_ip?: string;
  /** Port to probe; defaults to the real server's port. */
  connect_port?: number;
  /** Local address to bind the probe socket to. */
  bindto?: string;
  /** Local port to bind the probe socket to. */
  bind_port?: number;
  /** Deadline of one attempt (connect, request and full response), seconds; default 5. */
  connect_timeout?: number;
  /** Extra attempts before a failure counts, while the server is up; default 1. */
  retry?: number;
  /** Old name of retry. */
  nb_get_retry?: number;
  /** Pause between a failed attempt and its retry, seconds; default 1. */
  delay_before_retry?: number;
  /** Interval between checks, seconds; default the real server's or virtual server's, else 60. */
  delay_loop?: number;
  /** The first check runs after a random delay in [0, warmup) seconds; default: spread over delay_loop. */
  warmup?: number;
  /** Consecutive successful checks to go up from down; default 1. */
  rise?: number;
  /** Consecutive failed checks (each after its retries) to go down from up; default 1. */
  fall?: number;
  /** Report every failed attempt ('failure' events), not only the transitions. */
  log_all_failures?: boolean;
}

export interface TcpCheckConfig extends CommonCheckParams {
  checker: 'TCP_CHECK';
}

/** A status_code entry: a code, a [low, high] range, or keepalived's text form ('200', '200-299'). */
export type StatusCodeSpec = number | [number, number] | string;

export interface HttpUrlConfig {
  path: string;
  /** Accepted status codes: a code, a text ('200 300-399') or a list of codes, texts and [lo, hi] ranges; default 200-299. */
  status_code?: number | string | StatusCodeSpec[];
  /** MD5 of the body as lower-case hex, as genhash prints it. */
  digest?: string;
  /** A regular expression the body must match. */
  regex?: string;
  /** Host header for this url; overrides the checker's virtualhost. */
  virtualhost?: string;
}

export interface HttpCheckConfig extends CommonCheckParams {
  checker: 'HTTP_GET' | 'SSL_GET';
  url: HttpUrlConfig[];
  /** Host header (default: connect_ip, with :port when not 80/443). */
  virtualhost?: string;
  /** '1.0' (default), '1.0C' (1.0 with Connection: close) or '1.1' (sends Connection: close). */
  http_protocol?: '1.0' | '1.0C' | '1.1';
  /** SSL_GET: send SNI (the virtualhost, or sni_name). */
  enable_sni?: boolean;
  /** SSL_GET: SNI name to send; implies enable_sni. */
  sni_name?: string;
  /** SSL_GET: verify the certificate chain, dates and name (virtualhost/sni_name, else connect_ip). */
  verify_cert?: boolean;
  /** SSL_GET: PEM CA bundle to verify against (default: node's bundled roots). */
  ca?: string;
  /** Bodies larger than this fail the check ('body too large'); default 1 MiB. */
  max_body_size?: number;
  /**
   * Dynamic weight: when true, the response header X-LBD-Weight (an integer 0..65535) sets the
   * real server's weight; a string names another header to read instead.
   */
  dynamic_weight_header?: boolean | string;
}

export interface MiscCheckConfig extends CommonCheckParams {
  checker: 'MISC_CHECK';
  /** The command line; run by /bin/sh -c in its own process group. */
  misc_path: string;
  /** Seconds before the script (and its whole process group) is killed; default delay_loop. */
  misc_timeout?: number;
  /** Exit codes 2..255 mean healthy with weight (code - 2). */
  misc_dynamic?: boolean;
}

export type DnsType = 'A' | 'NS' | 'CNAME' | 'SOA' | 'MX' | 'TXT' | 'AAAA';

export interface DnsCheckConfig extends CommonCheckParams {
  checker: 'DNS_CHECK';
  /** Query type; default SOA. */
  type?: DnsType;
  /** Query name; default '.'. */
  name?: string;
}

export type CheckConfig = TcpCheckConfig | HttpCheckConfig | MiscCheckConfig | DnsCheckConfig;

export interface RealServerConfig {
  ip: string;
  port: number;
  /** Configured weight; default 1. */
  weight?: number;
  /** Keep the server with weight 0 when down, instead of removing it. */
  inhibit_on_failure?: boolean;
  /** Start as down until the first successful check. */
  alpha?: boolean;
  /** Seconds over which a server coming back ramps from a small weight to its full weight; 0 = off. */
  slow_start?: number;
  delay_loop?: number;
  log_all_failures?: boolean;
  /** All checks must be up for the server to be up; no checks means always up. */
  checks?: CheckConfig[];
}

export interface SorryServerConfig {
  ip: string;
  port: number;
  weight?: number;
}

export interface VirtualServiceConfig {
  /** The daemon's identifier of the virtual service (e.g. 'tcp 10.0.0.1:80' or 'fwmark 1'). */
  id: string;
  /** Minimum sum of live weights; default 1. */
  quorum?: number;
  /** Quorum is lost below quorum - hysteresis, regained at quorum + hysteresis; default 0. */
  hysteresis?: number;
  sorry_server?: SorryServerConfig;
  /** Defaults for the real servers. */
  delay_loop?: number;
  alpha?: boolean;
  inhibit_on_failure?: boolean;
  slow_start?: number;
  real_servers: RealServerConfig[];
}

/** Internal, validated form of one check of one target. */
export interface CheckSpec {
  checker: CheckConfig['checker'];
  ip: string;
  port: number;
  bindto: string | undefined;
  bindPort: number | undefined;
  timeoutMs: number;
  retry: number;
  retryDelayMs: number;
  intervalMs: number;
  /** Spread of the first check: undefined = over intervalMs. */
  warmupMs: number | undefined;
  rise: number;
  fall: number;
  alpha: boolean;
  logAllFailures: boolean;
  http?: HttpSpec;
  misc?: MiscSpec;
  dns?: DnsSpec;
}

export interface HttpUrlSpec {
  path: string;
  status: [number, number][];
  digest: string | undefined;
  regex: string | undefined;
  host: string;
}

export interface HttpSpec {
  tls: boolean;
  urls: HttpUrlSpec[];
  protocol: '1.0' | '1.0C' | '1.1';
  sni: string | undefined;
  verify: boolean;
  verifyName: string;
  ca: string | undefined;
  maxBody: number;
  weightHeader: string | undefined;
}

export interface MiscSpec {
  path: string;
  timeoutMs: number;
  dynamic: boolean;
}

export interface DnsSpec {
  type: DnsType;
  name: string;
}

export const DEFAULT_WEIGHT_HEADER = 'x-lbd-weight';
export const DEFAULT_DELAY_LOOP = 60;
const DNS_TYPES: readonly DnsType[] = ['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA'];

export class HealthConfigError extends Error {}

function seconds(v: number | undefined, dflt: number, what: string, min = 0): number {
  if (v === undefined) return dflt * 1000;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
    throw new HealthConfigError(`${what} must be a number of seconds >= ${min}, got ${String(v)}`);
  }
  return v * 1000;
}

function integer(v: number | undefined, dflt: number, what: string, min: number, max: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new HealthConfigError(`${what} must be an integer in ${min}..${max}, got ${String(v)}`);
  }
  return v;
}

function address(v: string, what: string): string {
  if (isIP(v) === 0) throw new HealthConfigError(`${what} must be an IP address, got '${v}'`);
  return v;
}

/** Parses status_code entries into inclusive ranges; default 200-299. */
export function parseStatusCodes(spec: HttpUrlConfig['status_code']): [number, number][] {
  if (spec === undefined) return [[200, 299]];
  // A top-level array is a list (keepalived's `status_code 200 301`); ranges are [lo, hi] inside it.
  const items: StatusCodeSpec[] = Array.isArray(spec) ? (spec as StatusCodeSpec[]) : [spec];
  const out: [number, number][] = [];
  const check = (n: number): number => {
    if (!Number.isInteger(n) || n < 100 || n > 599) throw new HealthConfigError(`bad status_code ${n}`);
    return n;
  };
  for (const item of items) {
    if (typeof item === 'number') out.push([check(item), item]);
    else if (Array.isArray(item)) out.push([check(item[0]), check(item[1])]);
    else {
      for (const word of item.split(/[\s,]+/).filter(Boolean)) {
        const m = /^(\d+)(?:-(\d+))?$/.exec(word);
        if (!m) throw new HealthConfigError(`bad status_code '${word}'`);
        out.push([check(Number(m[1])), check(Number(m[2] ?? m[1]))]);
      }
    }
  }
  for (const [lo, hi] of out) if (lo > hi) throw new HealthConfigError(`bad status_code range ${lo}-${hi}`);
  if (out.length === 0) throw new HealthConfigError('empty status_code');
  return out;
}

export interface TargetDefaults {
  ip: string;
  port: number;
  delayLoop: number | undefined;
  alpha: boolean;
  logAllFailures: boolean;
}

/** Validates one check of a real server and returns its internal form. */
export function normalizeCheck(c: CheckConfig, t: TargetDefaults): CheckSpec {
  const ip = address(c.connect_ip ?? t.ip, 'connect_ip');
  const port = integer(c.connect_port ?? t.port, 0, 'connect_port', 1, 65535);
  const intervalMs = seconds(c.delay_loop ?? t.delayLoop, DEFAULT_DELAY_LOOP, 'delay_loop', 0.001);
  const retry = integer(c.retry ?? c.nb_get_retry, 1, 'retry', 0, 1000);
  const spec: CheckSpec = {
    checker: c.checker,
    ip,
    port,
    bindto: c.bindto === undefined ? undefined : address(c.bindto, 'bindto'),
    bindPort: c.bind_port === undefined ? undefined : integer(c.bind_port, 0, 'bind_port', 1, 65535),
    timeoutMs: seconds(c.connect_timeout, 5, 'connect_timeout', 0.001),
    retry,
    retryDelayMs: seconds(c.delay_before_retry, 1, 'delay_before_retry'),
    intervalMs,
    warmupMs: c.warmup === undefined ? undefined : seconds(c.warmup, 0, 'warmup'),
    rise: integer(c.rise, 1, 'rise', 1, 1000),
    fall: integer(c.fall, 1, 'fall', 1, 1000),
    alpha: t.alpha,
    logAllFailures: c.log_all_failures ?? t.logAllFailures,
  };
  switch (c.checker) {
    case 'TCP_CHECK':
      break;
    case 'HTTP_GET':
    case 'SSL_GET': {
      const tls = c.checker === 'SSL_GET';
      if (!Array.isArray(c.url) || c.url.length === 0) {
        throw new HealthConfigError(`${c.checker} needs at least one url`);
      }
      const defaultPort = tls ? 443 : 80;
      const ipHost = isIP(ip) === 6 ? `[${ip}]` : ip;
      const dfltHost = c.virtualhost ?? (port === defaultPort ? ipHost : `${ipHost}:${port}`);
      const urls = c.url.map((u): HttpUrlSpec => {
        if (typeof u.path !== 'string' || !u.path.startsWith('/') || /[\s]/.test(u.path)) {
          throw new HealthConfigError(`url path must start with / and have no spaces, got '${u.path}'`);
        }
        if (u.digest !== undefined && !/^[0-9a-fA-F]{32}$/.test(u.digest)) {
          throw new HealthConfigError(`digest must be 32 hex digits, got '${u.digest}'`);
        }
        if (u.regex !== undefined) new RegExp(u.regex); // throws on a bad expression
        return {
          path: u.path,
          status: parseStatusCodes(u.status_code),
          digest: u.digest?.toLowerCase(),
          regex: u.regex,
          host: u.virtualhost ?? dfltHost,
        };
      });
      const protocol = c.http_protocol ?? '1.0';
      if (protocol !== '1.0' && protocol !== '1.0C' && protocol !== '1.1') {
        throw new HealthConfigError(`http_protocol must be 1.0, 1.0C or 1.1, got '${String(protocol)}'`);
      }
      const sni = c.sni_name ?? (c.enable_sni ? c.virtualhost : undefined);
      const whdr = c.dynamic_weight_header;
      spec.http = {
        tls,
        urls,
        protocol,
        sni: tls ? sni : undefined,
        verify: tls && c.verify_cert === true,
        verifyName: c.sni_name ?? c.virtualhost ?? ip,
        ca: c.ca,
        maxBody: integer(c.max_body_size, 1 << 20, 'max_body_size', 0, 1 << 30),
        weightHeader:
          whdr === true ? DEFAULT_WEIGHT_HEADER : typeof whdr === 'string' ? whdr.toLowerCase() : undefined,
      };
      break;
    }
    case 'MISC_CHECK':
      if (typeof c.misc_path !== 'string' || c.misc_path.trim() === '') {
        throw new HealthConfigError('MISC_CHECK needs misc_path');
      }
      spec.misc = {
        path: c.misc_path,
        timeoutMs:
          c.misc_timeout === undefined ? intervalMs : seconds(c.misc_timeout, 0, 'misc_timeout', 0.001),
        dynamic: c.misc_dynamic === true,
      };
      // The script's own timeout is its deadline.
      spec.timeoutMs = spec.misc.timeoutMs;
      break;
    case 'DNS_CHECK': {
      const type = c.type ?? 'SOA';
      if (!DNS_TYPES.includes(type))
        throw new HealthConfigError(`DNS_CHECK type must be one of ${DNS_TYPES}`);
      const name = c.name ?? '.';
      if (name.length > 253 || name.split('.').some((l) => l.length > 63)) {
        throw new HealthConfigError(`bad DNS name '${name}'`);
      }
      spec.dns = { type, name };
      break;
    }
    default:
      throw new HealthConfigError(`unknown checker '${(c as { checker: string }).checker}'`);
  }
  return spec;
}

/** Identity of a check: identical checks of one target (same parameters) share one key. */
export function checkKey(spec: CheckSpec): string {
  return JSON.stringify(spec);
}

/** The id of a real server within a virtual service: ip:port, IPv6 in brackets. */
export function serverId(ip: string, port: number): string {
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}
