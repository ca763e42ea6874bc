/**
 * Just enough DNS (RFC 1035) for DNS_CHECK: building a query and checking that a response answers it.
 */
import { DnsType } from './config';

export const DNS_TYPE_CODES: Record<DnsType, number> = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  MX: 15,
  TXT: 16,
  AAAA: 28,
};

/** Encodes a domain name into wire format labels ('.' is the root). */
export function encodeName(name: string): Buffer {
  const labels = name.split('.').filter((l) => l.length > 0);
  const parts: Buffer[] = [];
  for (const l of labels) {
    const b = Buffer.from(l, 'ascii');
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

export function buildQuery(id: number, name: string, type: DnsType): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // RD
  header.writeUInt16BE(1, 4); // QDCOUNT
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(DNS_TYPE_CODES[type], 0);
  tail.writeUInt16BE(1, 2); // IN
  return Buffer.concat([header, encodeName(name), tail]);
}

/** Skips a (possibly compressed) name; returns the offset after it, or -1 when malformed. */
function skipName(msg: Buffer, off: number): number {
  for (let guard = 0; guard < 128; guard++) {
    if (off >= msg.length) return -1;
    const len = msg[off];
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) return off + 2 <= msg.length ? off + 2 : -1;
    if ((len & 0xc0) !== 0) return -1;
    off += 1 + len;
  }
  return -1;
}

/**
 * Checks a response to query `id` for `type`: returns '' when it holds at least one answer of that
 * type, otherwise a failure reason; null when the datagram is not a response to this query at all.
 */
export function checkResponse(msg: Buffer, id: number, type: DnsType): string | null {
  if (msg.length < 12 || msg.readUInt16BE(0) !== id || (msg[2] & 0x80) === 0) return null;
  const rcode = msg[3] & 0x0f;
  if (rcode !== 0) return `rcode ${rcode}`;
  if ((msg[2] & 0x02) !== 0) return 'truncated';
  const qd = msg.readUInt16BE(4);
  const an = msg.readUInt16BE(6);
  let off = 12;
  for (let i = 0; i < qd; i++) {
    off = skipName(msg, off);
    if (off < 0 || off + 4 > msg.length) return 'malformed response';
    off += 4;
  }
  const want = DNS_TYPE_CODES[type];
  for (let i = 0; i < an; i++) {
    off = skipName(msg, off);
    if (off < 0 || off + 10 > msg.length) return 'malformed response';
    const rtype = msg.readUInt16BE(off);
    const rdlen = msg.readUInt16BE(off + 8);
    off += 10 + rdlen;
    if (off > msg.length) return 'malformed response';
    if (rtype === want) return '';
  }
  return 'no answer';
}
