// Internet checksum (RFC 1071) and the IPv4 / IPv6 pseudo-headers that VRRPv3 and ICMPv6 sum over.
import { ipToBytes } from '../net/ip';

export function inetSum(bufs: Uint8Array[]): number {
  let sum = 0;
  for (const b of bufs) {
    let i = 0;
    for (; i + 1 < b.length; i += 2) sum += (b[i] << 8) | b[i + 1];
    if (i < b.length) sum += b[i] << 8;
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** The checksum to store: one's complement of the one's complement sum. */
export function inetChecksum(...bufs: Uint8Array[]): number {
  return ~inetSum(bufs) & 0xffff;
}

export function pseudoHeader(src: string, dst: string, protocol: number, length: number): Buffer {
  const s = ipToBytes(src);
  const d = ipToBytes(dst);
  if (s.length === 4) {
    const p = Buffer.alloc(12);
    s.copy(p, 0);
    d.copy(p, 4);
    p[9] = protocol;
    p.writeUInt16BE(length, 10);
    return p;
  }
  const p = Buffer.alloc(40);
  s.copy(p, 0);
  d.copy(p, 16);
  p.writeUInt32BE(length, 32);
  p[39] = protocol;
  return p;
}
