// Addresses, ports and firewall marks as validated, canonical values: a value of these types can only
// come from the parsing functions below, so an Ipv4Address is always a dotted quad, an Ipv6Address always
// in RFC 5952 form, a Port always an integer in 0..65535 and a FwMark always in 1..2^32-1.
// node:net and the shared IP text functions are loaded on first use: lbctl bundles this module and
// its start-up should not pay for node:net.
type NetIp = typeof import('../net/ip');
type Net = typeof import('node:net');
let netIpModule: NetIp | undefined;
let netModule: Net | undefined;
const netIp = (): NetIp => (netIpModule ??= require('../net/ip') as NetIp);
const net = (): Net => (netModule ??= require('node:net') as Net);

declare const ipv4Brand: unique symbol;
declare const ipv6Brand: unique symbol;
declare const portBrand: unique symbol;
declare const fwmarkBrand: unique symbol;

export type Ipv4Address = string & { readonly [ipv4Brand]: true };
export type Ipv6Address = string & { readonly [ipv6Brand]: true };
export type IpAddress = Ipv4Address | Ipv6Address;
export type Port = number & { readonly [portBrand]: true };
export type FwMark = number & { readonly [fwmarkBrand]: true };
export type Family = 'inet' | 'inet6';

export class AddressError extends TypeError {
  override name = 'AddressError';
}

/** The family of a parsed address. */
export function familyOf(address: IpAddress): Family {
  return address.includes(':') ? 'inet6' : 'inet';
}

export function isIpv6(address: IpAddress): address is Ipv6Address {
  return address.includes(':');
}

const V4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function ipv4(text: string): Ipv4Address {
  if (!V4.test(text)) throw new AddressError(`invalid IPv4 address '${text}'`);
  return text as Ipv4Address;
}

export function ipv6(text: string): Ipv6Address {
  const bytes = parseIpv6(text);
  if (bytes === undefined) throw new AddressError(`invalid IPv6 address '${text}'`);
  return formatIpv6(bytes);
}

/** An IPv4 or IPv6 address (IPv6 may be written in brackets). */
export function ip(text: string): IpAddress {
  if (text.startsWith('[') && text.endsWith(']')) return ipv6(text.slice(1, -1));
  return text.includes(':') ? ipv6(text) : ipv4(text);
}

export function port(value: number | string): Port {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 65535) {
    throw new AddressError(`invalid port '${value}' (0-65535)`);
  }
  return n as Port;
}

export function fwmark(value: number): FwMark {
  if (!Number.isInteger(value) || value < 1 || value > 0xffffffff) {
    throw new AddressError(`invalid firewall mark '${value}' (1-4294967295)`);
  }
  return value as FwMark;
}

/** `addr:port`, with IPv6 in brackets, as ipvsadm prints it. */
export function formatEndpoint(address: IpAddress, p: number): string {
  return isIpv6(address) ? `[${address}]:${p}` : `${address}:${p}`;
}

/** The address as the 16 bytes of a union nf_inet_addr (IPv4 in the first 4). */
export function addressBytes(address: IpAddress, out: Buffer, offset: number): void {
  out.fill(0, offset, offset + 16);
  if (writeIpv4Bytes(address, out, offset)) return;
  if (isIpv6(address)) {
    const b = parseIpv6(address);
    if (b === undefined) throw new AddressError(`invalid IPv6 address '${address}'`);
    b.copy(out, offset);
    return;
  }
  const parts = address.split('.');
  for (let i = 0; i < 4; i++) out[offset + i] = Number(parts[i]);
}

export function addressFromBytes(family: Family, buf: Buffer, offset: number, length: number): IpAddress {
  if (family === 'inet') {
    if (length < 4) throw new AddressError('IPv4 address attribute shorter than 4 bytes');
    return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}` as Ipv4Address;
  }
  if (length < 16) throw new AddressError('IPv6 address attribute shorter than 16 bytes');
  return formatIpv6(buf.subarray(offset, offset + 16));
}

/** Writes a (valid) dotted quad's 4 bytes without allocating; false when it is not IPv4. */
export function writeIpv4Bytes(address: string, out: Buffer, offset: number): boolean {
  let n = 0;
  let k = 0;
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === 46) {
      out[offset + k++] = n;
      n = 0;
    } else if (c >= 48 && c <= 57) {
      n = n * 10 + c - 48;
    } else {
      return false;
    }
  }
  out[offset + k] = n;
  return k === 3;
}

/** IPv6 text to bytes: node's validation (no zone index: an IPVS address has none), the shared parser. */
function parseIpv6(text: string): Buffer | undefined {
  if (text.includes('%') || !net().isIPv6(text)) return undefined;
  return netIp().ipToBytes(text);
}

/** RFC 5952 text (the shared formatter). */
function formatIpv6(b: Buffer): Ipv6Address {
  return netIp().bytesToIp(b) as Ipv6Address;
}
