/** IP address helpers for validation (no dependency on the other subsystems). */
import { isIPv4, isIPv6 } from 'node:net';
import type { AddressFamily } from './model';

export function familyOf(address: string): AddressFamily | undefined {
  if (isIPv4(address)) return 'inet';
  if (isIPv6(address)) return 'inet6';
  return undefined;
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
  if (!isIPv4(mask)) return undefined;
  const n = ipv4ToNumber(mask);
  let prefix = 0;
  while (prefix < 32 && n & (0x80000000 >>> prefix)) prefix++;
  const expect = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return n === expect ? prefix : undefined;
}
