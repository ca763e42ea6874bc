// Generic netlink message writing and bounds-checked attribute reading (host byte order, as netlink is).
import { addressBytes, writeIpv4Bytes, type IpAddress } from './address';
import { NLA_F_NESTED, NLA_TYPE_MASK, NLM_F_REQUEST } from './constants';

// (the byte order from a typed array, not node:os: lbctl bundles this module and starts faster without it)
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1)
  throw new Error('lbd ipvs: netlink encoding assumes a little-endian host');

export class NetlinkFormatError extends Error {
  override name = 'NetlinkFormatError';
}

const align4 = (n: number) => (n + 3) & ~3;

/** A NUL-terminated string in [start, end) of buf (the whole range without a NUL). */
export function cString(buf: Buffer, start: number, end: number, encoding: BufferEncoding = 'utf8'): string {
  let nul = start;
  while (nul < end && buf[nul] !== 0) nul++;
  return buf.toString(encoding, start, nul);
}

/** Appends netlink messages (nlmsghdr + genlmsghdr + attributes) to one growing buffer. */
export class MessageWriter {
  private buf: Buffer;
  private off = 0;
  private msgStart = -1;
  private readonly nests: number[] = [];
  count = 0;

  constructor(initial = 4096) {
    this.buf = Buffer.alloc(initial);
  }

  get length(): number {
    return this.off;
  }

  private reserve(n: number): void {
    if (this.off + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.off + n) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.off);
    this.buf = next;
  }

  /** Starts a generic netlink message (sequence number and port id are stamped at send time). */
  begin(type: number, flags: number, cmd: number, version: number): this {
    if (this.msgStart >= 0) throw new Error('netlink message already open');
    this.reserve(20);
    this.msgStart = this.off;
    const b = this.buf;
    b.writeUInt32LE(0, this.off);
    b.writeUInt16LE(type, this.off + 4);
    b.writeUInt16LE(flags | NLM_F_REQUEST, this.off + 6);
    b.writeUInt32LE(0, this.off + 8);
    b.writeUInt32LE(0, this.off + 12);
    b[this.off + 16] = cmd;
    b[this.off + 17] = version;
    b.writeUInt16LE(0, this.off + 18);
    this.off += 20;
    return this;
  }

  end(): this {
    if (this.msgStart < 0 || this.nests.length > 0) throw new Error('netlink message not open or nest open');
    this.buf.writeUInt32LE(this.off - this.msgStart, this.msgStart);
    this.msgStart = -1;
    this.count++;
    return this;
  }

  private header(type: number, payload: number): number {
    const total = 4 + payload;
    this.reserve(align4(total));
    this.buf.writeUInt16LE(total, this.off);
    this.buf.writeUInt16LE(type, this.off + 2);
    const at = this.off + 4;
    const end = this.off + align4(total);
    for (let i = at + payload; i < end; i++) this.buf[i] = 0;
    this.off = end;
    return at;
  }

  // header() may grow (replace) this.buf: take the offset first, then write into the current buffer.
  u8(type: number, v: number): this {
    const at = this.header(type, 1);
    this.buf[at] = v;
    return this;
  }
  u16(type: number, v: number): this {
    const at = this.header(type, 2);
    this.buf.writeUInt16LE(v, at);
    return this;
  }
  be16(type: number, v: number): this {
    const at = this.header(type, 2);
    this.buf.writeUInt16BE(v, at);
    return this;
  }
  u32(type: number, v: number): this {
    const at = this.header(type, 4);
    this.buf.writeUInt32LE(v >>> 0, at);
    return this;
  }
  /** A NUL-terminated string. */
  string(type: number, s: string): this {
    const n = Buffer.byteLength(s);
    const at = this.header(type, n + 1);
    this.buf.write(s, at);
    this.buf[at + n] = 0;
    return this;
  }
  /** `len` bytes filled by `fill(buf, offset)` (zeroed first). */
  bytes(type: number, len: number, fill: (buf: Buffer, offset: number) => void): this {
    const at = this.header(type, len);
    this.buf.fill(0, at, at + len);
    fill(this.buf, at);
    return this;
  }
  /** An IP address as the 16 bytes of a union nf_inet_addr. */
  address(type: number, a: IpAddress): this {
    const at = this.header(type, 16);
    const b = this.buf;
    for (let i = at; i < at + 16; i++) b[i] = 0;
    if (!writeIpv4Bytes(a, b, at)) addressBytes(a, b, at);
    return this;
  }
  /** 4 bytes of an IPv4 address (network order). */
  ipv4(type: number, a: string): this {
    const at = this.header(type, 4);
    writeIpv4Bytes(a, this.buf, at);
    return this;
  }
  /** struct ip_vs_flags { u32 flags; u32 mask; } */
  flags(type: number, flags: number, mask: number): this {
    const at = this.header(type, 8);
    this.buf.writeUInt32LE(flags >>> 0, at);
    this.buf.writeUInt32LE(mask >>> 0, at + 4);
    return this;
  }
  /** Claims `n` bytes at the end (for fixed layouts written directly into `buffer`); returns their offset. */
  claim(n: number): number {
    this.reserve(n);
    const at = this.off;
    this.off += n;
    return at;
  }
  get buffer(): Buffer {
    return this.buf;
  }
  /** Appends bytes written earlier (attributes cut out of another message). */
  raw(bytes: Buffer): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.off);
    this.off += bytes.length;
    return this;
  }
  /** The bytes from `start` to the end so far (a copy), e.g. a nest to reuse with raw(). */
  slice(start: number): Buffer {
    return Buffer.from(this.buf.subarray(start, this.off));
  }
  nestStart(type: number): this {
    this.reserve(4);
    this.nests.push(this.off);
    this.buf.writeUInt16LE(type | NLA_F_NESTED, this.off + 2);
    this.off += 4;
    return this;
  }
  nestEnd(): this {
    const start = this.nests.pop();
    if (start === undefined) throw new Error('no nest open');
    this.buf.writeUInt16LE(this.off - start, start);
    return this;
  }

  /** The messages written so far (a copy) and a fresh start. */
  take(): Buffer {
    if (this.msgStart >= 0) throw new Error('netlink message still open');
    const out = Buffer.from(this.buf.subarray(0, this.off));
    this.off = 0;
    this.count = 0;
    return out;
  }
}

/** Attribute positions of one attribute set: offset and length of each type's payload, -1 when absent.
 * Unknown types beyond `max` are ignored; a truncated attribute ends the set. */
export class Attrs {
  private readonly pos: Int32Array;
  constructor(
    readonly buf: Buffer,
    start: number,
    end: number,
    readonly max: number,
  ) {
    this.pos = new Int32Array((max + 1) * 2).fill(-1);
    let off = start;
    const limit = Math.min(end, buf.length);
    while (off + 4 <= limit) {
      const len = buf.readUInt16LE(off);
      const type = buf.readUInt16LE(off + 2) & NLA_TYPE_MASK;
      if (len < 4 || off + len > limit) break;
      if (type <= max) {
        this.pos[type * 2] = off + 4;
        this.pos[type * 2 + 1] = len - 4;
      }
      off += align4(len);
    }
  }
  /** Present, with a payload of at least `size` bytes. */
  has(type: number, size = 0): boolean {
    return type <= this.max && this.pos[type * 2] >= 0 && this.pos[type * 2 + 1] >= size;
  }
  offset(type: number): number {
    return this.pos[type * 2];
  }
  len(type: number): number {
    return this.pos[type * 2 + 1];
  }
  private need(type: number, size: number, what: string): number {
    if (!this.has(type)) throw new NetlinkFormatError(`missing ${what} attribute ${type}`);
    if (this.len(type) < size) throw new NetlinkFormatError(`${what} attribute ${type} truncated`);
    return this.offset(type);
  }
  u8(type: number, what = 'u8'): number {
    return this.buf[this.need(type, 1, what)];
  }
  u16(type: number, what = 'u16'): number {
    return this.buf.readUInt16LE(this.need(type, 2, what));
  }
  be16(type: number, what = 'be16'): number {
    return this.buf.readUInt16BE(this.need(type, 2, what));
  }
  u32(type: number, what = 'u32'): number {
    return this.buf.readUInt32LE(this.need(type, 4, what));
  }
  u64(type: number, what = 'u64'): bigint {
    return this.buf.readBigUInt64LE(this.need(type, 8, what));
  }
  string(type: number, what = 'string', encoding: BufferEncoding = 'utf8'): string {
    const at = this.need(type, 0, what);
    return cString(this.buf, at, at + this.len(type), encoding);
  }
  nested(type: number, max: number, what = 'nested'): Attrs {
    const at = this.need(type, 0, what);
    return new Attrs(this.buf, at, at + this.len(type), max);
  }
  optU8(type: number, dflt: number): number {
    return this.has(type) && this.len(type) >= 1 ? this.buf[this.offset(type)] : dflt;
  }
  optU16(type: number, dflt: number): number {
    return this.has(type) && this.len(type) >= 2 ? this.buf.readUInt16LE(this.offset(type)) : dflt;
  }
  optBe16(type: number, dflt: number): number {
    return this.has(type) && this.len(type) >= 2 ? this.buf.readUInt16BE(this.offset(type)) : dflt;
  }
  optU32(type: number, dflt: number): number {
    return this.has(type) && this.len(type) >= 4 ? this.buf.readUInt32LE(this.offset(type)) : dflt;
  }
}

export interface Message {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly pid: number;
  /** genl command and the attributes after the genl header. */
  readonly cmd: number;
  readonly start: number;
  readonly end: number;
}

/** The netlink messages of a buffer (bounds-checked; a truncated message ends the walk). */
export function* messages(buf: Buffer, start = 0, end = buf.length): Generator<Message> {
  let off = start;
  while (off + 16 <= end) {
    const len = buf.readUInt32LE(off);
    if (len < 16 || off + len > end) return;
    yield {
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      pid: buf.readUInt32LE(off + 12),
      cmd: len >= 20 ? buf[off + 16] : -1,
      start: off + 20,
      end: off + len,
    };
    off += align4(len);
  }
}
