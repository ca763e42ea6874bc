// VRRP advertisements: VRRPv2 (RFC 3768, IPv4, auth none / simple text password) and VRRPv3
// (RFC 5798, IPv4 and IPv6, checksum over the pseudo-header, centisecond intervals).
// decodeAdvert checks the packet on its own; checks against an instance's configuration are in
// receive.ts. Every rejection names a DropReason, counted by the receiver.
import { Family, bytesToIp, ipToBytes } from '../net/ip';
import { inetChecksum, pseudoHeader } from './checksum';

export const VRRP_PROTOCOL = 112;
export const VRRP_MCAST_V4 = '224.0.0.18';
export const VRRP_MCAST_V6 = 'ff02::12';
export const VRRP_TTL = 255;
/** IPTOS_PREC_INTERNETCONTROL, the traffic class keepalived (and lbd) send with. */
export const VRRP_TOS = 0xc0;

export type VrrpVersion = 2 | 3;

export enum AuthType {
  None = 0,
  Pass = 1,
  /** IP Authentication Header: deprecated by RFC 3768, refused by lbd. */
  Ah = 2,
}

export interface Advert {
  version: VrrpVersion;
  vrid: number;
  priority: number;
  /** Advertisement interval in centiseconds (v2 carries whole seconds: 100 x the field). */
  intervalCs: number;
  addresses: string[];
  /** v2 only. */
  authType: AuthType;
  /** v2 PASS only: the password (at most 8 bytes, zero-padded on the wire). */
  authPass?: string;
}

export type DropReason =
  | 'truncated'
  | 'bad_ip_header'
  | 'bad_ttl'
  | 'bad_version'
  | 'bad_type'
  | 'bad_checksum'
  | 'bad_length'
  | 'bad_address_count'
  | 'unknown_vrid'
  | 'auth_type_mismatch'
  | 'auth_failure'
  | 'interval_mismatch'
  | 'address_mismatch'
  | 'wrong_interface'
  | 'own_packet'
  | 'unknown_peer'
  | 'invalid_priority';

export const DROP_REASONS: readonly DropReason[] = [
  'truncated',
  'bad_ip_header',
  'bad_ttl',
  'bad_version',
  'bad_type',
  'bad_checksum',
  'bad_length',
  'bad_address_count',
  'unknown_vrid',
  'auth_type_mismatch',
  'auth_failure',
  'interval_mismatch',
  'address_mismatch',
  'wrong_interface',
  'own_packet',
  'unknown_peer',
  'invalid_priority',
];

export type Decoded = { ok: true; advert: Advert } | { ok: false; reason: DropReason; detail?: string };

const HEADER = 8;
const V2_AUTH = 8;

/**
 * Encodes the VRRP part of an advertisement. src/dst are the IP source and destination, needed for
 * the v3 checksum (v2 sums over the VRRP message only).
 */
export function encodeAdvert(a: Advert, src: string, dst: string): Buffer {
  const family: Family = a.version === 2 || ipToBytes(src).length === 4 ? 4 : 6;
  if (a.version === 2 && family !== 4) throw new Error('VRRPv2 is IPv4 only');
  const alen = family === 4 ? 4 : 16;
  if (a.addresses.length > 255) throw new Error('too many addresses');
  const len = HEADER + a.addresses.length * alen + (a.version === 2 ? V2_AUTH : 0);
  const b = Buffer.alloc(len);
  b[0] = (a.version << 4) | 1;
  b[1] = a.vrid;
  b[2] = a.priority;
  b[3] = a.addresses.length;
  if (a.version === 2) {
    if (a.authType === AuthType.Ah) throw new Error('VRRP AH authentication is not supported');
    b[4] = a.authType;
    b[5] = Math.round(a.intervalCs / 100);
  } else {
    b.writeUInt16BE(a.intervalCs & 0x0fff, 4);
  }
  a.addresses.forEach((addr, i) => {
    const ab = ipToBytes(addr);
    if (ab.length !== alen) throw new Error(`address ${addr} is not of the packet's family`);
    ab.copy(b, HEADER + i * alen);
  });
  if (a.version === 2 && a.authType === AuthType.Pass && a.authPass !== undefined) {
    Buffer.from(a.authPass, 'latin1').copy(b, HEADER + a.addresses.length * 4, 0, V2_AUTH);
  }
  const sum = a.version === 2 ? inetChecksum(b) : inetChecksum(pseudoHeader(src, dst, VRRP_PROTOCOL, len), b);
  b.writeUInt16BE(sum, 6);
  return b;
}

/**
 * Decodes and checks the VRRP part of a packet received from src to dst (for the v3 pseudo-header).
 * family is the IP family it arrived on.
 */
export function decodeAdvert(b: Uint8Array, family: Family, src: string, dst: string): Decoded {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (buf.length < HEADER) return { ok: false, reason: 'truncated' };
  const version = buf[0] >> 4;
  if (version !== 2 && version !== 3)
    return { ok: false, reason: 'bad_version', detail: `version ${version}` };
  if (version === 2 && family !== 4) return { ok: false, reason: 'bad_version', detail: 'VRRPv2 over IPv6' };
  if ((buf[0] & 0x0f) !== 1) return { ok: false, reason: 'bad_type', detail: `type ${buf[0] & 0x0f}` };
  const count = buf[3];
  const alen = family === 4 ? 4 : 16;
  const need = HEADER + count * alen + (version === 2 ? V2_AUTH : 0);
  if (count === 0) return { ok: false, reason: 'bad_address_count', detail: 'no address' };
  if (buf.length < need) return { ok: false, reason: 'bad_length', detail: `${buf.length} < ${need}` };
  // v2 keepalived and RFC 3768 sum the VRRP message; trailing bytes past the addresses are not ours.
  const body = buf.subarray(0, version === 2 ? need : buf.length);
  const sum =
    version === 2
      ? inetChecksum(body)
      : inetChecksum(pseudoHeader(src, dst, VRRP_PROTOCOL, body.length), body);
  if (sum !== 0) return { ok: false, reason: 'bad_checksum' };
  const addresses: string[] = [];
  for (let i = 0; i < count; i++)
    addresses.push(bytesToIp(buf.subarray(HEADER + i * alen, HEADER + (i + 1) * alen)));
  const advert: Advert = {
    version,
    vrid: buf[1],
    priority: buf[2],
    intervalCs: version === 2 ? buf[5] * 100 : buf.readUInt16BE(4) & 0x0fff,
    addresses,
    authType: version === 2 ? buf[4] : AuthType.None,
  };
  if (advert.vrid === 0) return { ok: false, reason: 'unknown_vrid', detail: 'VRID 0' };
  if (advert.intervalCs === 0) return { ok: false, reason: 'interval_mismatch', detail: 'zero interval' };
  if (version === 2 && advert.authType === AuthType.Pass) {
    const raw = buf.subarray(HEADER + count * 4, HEADER + count * 4 + V2_AUTH);
    const end = raw.indexOf(0);
    advert.authPass = raw.subarray(0, end < 0 ? V2_AUTH : end).toString('latin1');
  }
  return { ok: true, advert };
}

let ipId = 0;

/**
 * The IPv4 header lbd sends VRRP with (IP_HDRINCL): TOS 0xc0, no DF, TTL 255, protocol 112, an
 * identification that increments per packet, header checksum filled in.
 */
export function ipv4Header(src: string, dst: string, payloadLength: number, id?: number): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h[1] = VRRP_TOS;
  h.writeUInt16BE(20 + payloadLength, 2);
  ipId = (ipId + 1) & 0xffff;
  h.writeUInt16BE(id ?? ipId, 4);
  h[8] = VRRP_TTL;
  h[9] = VRRP_PROTOCOL;
  ipToBytes(src).copy(h, 12);
  ipToBytes(dst).copy(h, 16);
  h.writeUInt16BE(inetChecksum(h), 10);
  return h;
}

export interface IpPacket {
  family: Family;
  src: string;
  dst: string;
  ttl: number;
  protocol: number;
  payload: Buffer;
}

/** Parses an IPv4 or IPv6 header (no IPv6 extension headers: VRRP packets carry none). */
export function parseIp(b: Buffer): IpPacket | DropReason {
  if (b.length < 1) return 'truncated';
  const v = b[0] >> 4;
  if (v === 4) {
    if (b.length < 20) return 'truncated';
    const ihl = (b[0] & 0x0f) * 4;
    const total = b.readUInt16BE(2);
    if (ihl < 20 || total < ihl || b.length < ihl) return 'bad_ip_header';
    if (inetChecksum(b.subarray(0, ihl)) !== 0) return 'bad_ip_header';
    return {
      family: 4,
      ttl: b[8],
      protocol: b[9],
      src: bytesToIp(b.subarray(12, 16)),
      dst: bytesToIp(b.subarray(16, 20)),
      payload: b.subarray(ihl, Math.min(total, b.length)),
    };
  }
  if (v === 6) {
    if (b.length < 40) return 'truncated';
    const plen = b.readUInt16BE(4);
    return {
      family: 6,
      ttl: b[7],
      protocol: b[6],
      src: bytesToIp(b.subarray(8, 24)),
      dst: bytesToIp(b.subarray(24, 40)),
      payload: b.subarray(40, Math.min(40 + plen, b.length)),
    };
  }
  return 'bad_ip_header';
}

/** Splits an Ethernet frame (no VLAN tag) into its header fields and IP packet. */
export function parseEthernet(frame: Buffer): { dst: Buffer; src: Buffer; ethertype: number; ip: Buffer } {
  if (frame.length < 14) throw new Error('truncated Ethernet frame');
  return {
    dst: frame.subarray(0, 6),
    src: frame.subarray(6, 12),
    ethertype: frame.readUInt16BE(12),
    ip: frame.subarray(14),
  };
}
