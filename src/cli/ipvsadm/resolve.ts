// Address and name handling as ipvsadm does it with the C library: inet_aton (which takes "127.1",
// octal and hex parts), inet_pton and inet_ntop for IPv6 (glibc's text form, including "::ffff:1.2.3.4"),
// host names through the resolver (IPv4 only, first address), service names from /etc/services, and
// reverse lookups for listings without -n.
import * as fs from 'node:fs';

/** inet_aton: the IPv4 address as a 32-bit number, or null. Accepts 1 to 4 parts, each decimal,
 * octal (leading 0) or hex (0x), and, as glibc does, anything after a white-space character. */
export function inetAton(text: string): number | null {
  let s = text;
  const ws = s.search(/[ \t\n\v\f\r]/);
  if (ws >= 0) s = s.slice(0, ws);
  if (s === '') return null;
  const parts = s.split('.');
  if (parts.length > 4) return null;
  const vals: number[] = [];
  for (const p of parts) {
    let v: number;
    if (/^0[xX][0-9a-fA-F]*$/.test(p)) v = p.length === 2 ? 0 : parseInt(p.slice(2), 16);
    else if (/^0[0-7]*$/.test(p)) v = p.length === 1 ? 0 : parseInt(p.slice(1), 8);
    else if (/^[1-9][0-9]*$/.test(p)) v = Number(p);
    else return null;
    if (!Number.isFinite(v) || v > 0xffffffff) return null;
    vals.push(v);
  }
  const n = vals.length;
  for (let i = 0; i < n - 1; i++) if (vals[i] > 255) return null;
  const last = vals[n - 1];
  const maxLast = [0xffffffff, 0xffffff, 0xffff, 0xff][n - 1];
  if (last > maxLast) return null;
  let v = 0;
  for (let i = 0; i < n - 1; i++) v = v * 256 + vals[i];
  v = v * 2 ** (8 * (5 - n)) + last;
  return v >>> 0;
}

/** Strict dotted quad as inet_pton(AF_INET) accepts it (no leading zeros beyond one digit). */
export function inetPton4(text: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return null;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const p = m[i];
    if (p.length > 1 && p[0] === '0') return null;
    const n = Number(p);
    if (n > 255) return null;
    v = v * 256 + n;
  }
  return v >>> 0;
}

export function formatIpv4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** inet_pton(AF_INET6): 16 bytes or null. */
export function inetPton6(text: string): Buffer | null {
  if (text === '' || /[^0-9a-fA-F:.]/.test(text)) return null;
  let s = text;
  const tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.')) {
    const v4 = inetPton4(s.slice(lastColon + 1));
    if (v4 === null || lastColon < 0) return null;
    tail.push(v4 >>> 16, v4 & 0xffff);
    s = s.slice(0, lastColon + 1);
    if (s.endsWith('::')) {
      // "::1.2.3.4" or "a::1.2.3.4": keep the '::'
    } else if (s.endsWith(':')) s = s.slice(0, -1);
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const parse = (h: string): number[] | null => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parse(halves[0]);
  const rest = halves.length === 2 ? parse(halves[1]) : [];
  if (head === null || rest === null) return null;
  const groups = [...head, ...rest, ...tail];
  if (halves.length === 1) {
    if (groups.length !== 8) return null;
  } else if (groups.length > 7) return null;
  const fill = 8 - groups.length;
  const all = halves.length === 2 ? [...head, ...new Array<number>(fill).fill(0), ...rest, ...tail] : groups;
  const b = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) b.writeUInt16BE(all[i], i * 2);
  return b;
}

/** inet_ntop(AF_INET6) as glibc writes it. */
export function inetNtop6(b: Uint8Array, off = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[off + i * 2] << 8) | b[off + i * 2 + 1]);
  let best = -1;
  let bestLen = 0;
  let cur = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (w[i] === 0) {
      if (cur < 0) {
        cur = i;
        curLen = 1;
      } else curLen++;
    } else if (cur >= 0) {
      if (best < 0 || curLen > bestLen) {
        best = cur;
        bestLen = curLen;
      }
      cur = -1;
    }
  }
  if (cur >= 0 && (best < 0 || curLen > bestLen)) {
    best = cur;
    bestLen = curLen;
  }
  if (best >= 0 && bestLen < 2) best = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (best >= 0 && i >= best && i < best + bestLen) {
      if (i === best) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && best === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      out += `${b[off + 12]}.${b[off + 13]}.${b[off + 14]}.${b[off + 15]}`;
      break;
    }
    out += w[i].toString(16);
  }
  if (best >= 0 && best + bestLen === 8) out += ':';
  return out;
}

// ---- /etc/services ------------------------------------------------------------------------------

interface ServicesDb {
  byName: Map<string, number>;
  byPort: Map<string, string>;
}
let services: ServicesDb | undefined;

function servicesDb(): ServicesDb {
  if (services !== undefined) return services;
  const db: ServicesDb = { byName: new Map(), byPort: new Map() };
  let text = '';
  try {
    text = fs.readFileSync(process.env.LBCTL_SERVICES_FILE ?? '/etc/services', 'latin1');
  } catch {
    // no services database: only numeric ports
  }
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const f = line.split(/\s+/);
    const m = /^(\d+)\/(\w+)$/.exec(f[1] ?? '');
    if (!m) continue;
    const port = Number(m[1]);
    const proto = m[2];
    for (const name of [f[0], ...f.slice(2)]) {
      const k = `${name}/${proto}`;
      if (!db.byName.has(k)) db.byName.set(k, port);
    }
    const pk = `${port}/${proto}`;
    if (!db.byPort.has(pk)) db.byPort.set(pk, f[0]);
  }
  services = db;
  return db;
}

export type ProtoName = 'tcp' | 'udp' | 'sctp';

/** getservbyname(name, proto) -> port, or -1. */
export function serviceToPort(name: string, proto: ProtoName | null): number {
  if (proto === null) return -1;
  return servicesDb().byName.get(`${name}/${proto}`) ?? -1;
}

/** getservbyport(port, proto) -> name, or null. */
export function portToService(port: number, proto: ProtoName | null): string | null {
  if (proto === null) return null;
  return servicesDb().byPort.get(`${port}/${proto}`) ?? null;
}

// ---- host names ------------------------------------------------------------------------------

/** gethostbyname: the first IPv4 address of a host name, or null. */
export async function hostToAddr(name: string): Promise<number | null> {
  const dns = await import('node:dns');
  try {
    const r = await dns.promises.lookup(name, { family: 4 });
    return inetPton4(r.address);
  } catch {
    return null;
  }
}

const reverseCache = new Map<string, Promise<string | null>>();

/** gethostbyaddr: the host name of an address, or null. */
export function addrToHost(address: string): Promise<string | null> {
  let p = reverseCache.get(address);
  if (p === undefined) {
    p = (async () => {
      const dns = await import('node:dns');
      try {
        const r = await dns.promises.lookupService(address, 0);
        return r.hostname === address || r.hostname === '' ? null : r.hostname;
      } catch {
        return null;
      }
    })();
    reverseCache.set(address, p);
  }
  return p;
}
