/** IP address helpers for validation (no dependency on the other subsystems). */
import { isIPv6 } from 'node:net';
import type { AddressFamily } from './model';

export function familyOf(address: string): AddressFamily | undefined {
  if (address.indexOf(':') < 0) return isIPv4Address(address) ? 'inet' : undefined;
  return isIPv6(address) ? 'inet6' : undefined;
}

/** Dotted-quad IPv4 without leading zeros (what node:net's isIPv4 accepts), without a regular expression. */
export function isIPv4Address(s: string): boolean {
  const n = s.length;
  if (n < 7 || n > 15) return false;
  let parts = 0;
  let i = 0;
  while (i < n) {
    const start = i;
    let v = 0;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
      i++;
    }
    const len = i - start;
    if (len === 0 || len > 3 || v > 255 || (len > 1 && s.charCodeAt(start) === 48)) return false;
    parts++;
    if (i === n) break;
    if (s.charCodeAt(i) !== 46 || parts === 4) return false;
    i++;
    if (i === n) return false;
  }
  return parts === 4;
}

/** "a.b.c.d" -> 32-bit number (the caller has validated it). */
export function ipv4ToNumber(address: string): number {
  const p = address.split('.');
  return ((+p[0] << 24) >>> 0) + (+p[1] << 16) + (+p[2] << 8) + +p[3];
}

export function numberToIpv4(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Expands "::" and returns the 8 groups of an IPv6 address as a bigint. */
export function ipv6ToBigInt(address: string): bigint {
  let a = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (v4) {
    const n = ipv4ToNumber(v4[1]);
    a = a.slice(0, v4.index) + ((n >>> 16) & 0xffff).toString(16) + ':' + (n & 0xffff).toString(16);
  }
  const [head, tail] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined ? (tail ? tail.split(':') : []) : [];
  const groups =
    tail !== undefined ? [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(parseInt(g, 16));
  return v;
}

/** A canonical form for comparing addresses (IPv6 written differently compares equal). */
export function canonicalAddress(address: string): string {
  if (address.includes(':') && isIPv6(address)) return ipv6ToBigInt(address).toString(16);
  return address;
}

/** Dotted IPv4 netmask -> prefix length, or undefined if not a contiguous mask. */
export function netmaskToPrefix(mask: string): number | undefined {
  if (!isIPv4Address(mask)) return undefined;
  const n = ipv4ToNumber(mask);
  let prefix = 0;
  while (prefix < 32 && n & (0x80000000 >>> prefix)) prefix++;
  const expect = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return n === expect ? prefix : undefined;
}
