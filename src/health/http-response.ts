/**
 * Incremental HTTP/1.x response parser for the health checks: status line, headers (Content-Length,
 * Transfer-Encoding: chunked, an optional weight header), and a body that is hashed (MD5, for
 * keepalived's digest) and/or kept (for a regex) without ever holding more than max_body_size bytes.
 */
import { createHash, Hash } from 'node:crypto';

const MAX_HEADER = 16 * 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
const COLON = 0x3a;
const CONTENT_LENGTH = 'content-length';
const TRANSFER_ENCODING = 'transfer-encoding';
const STATUS_PREFIX = Buffer.from('HTTP/1.', 'latin1');

/** The latin1 characters String.prototype.trim removes: TAB, LF, VT, FF, CR, space, NBSP. */
function isSpace(b: number): boolean {
  return (b >= 0x09 && b <= 0x0d) || b === 0x20 || b === 0xa0;
}

const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;

/** Bytes [0, end) of buf match /^HTTP\/1\.[01] (\d{3})(?: |$)/. */
function statusLineOk(buf: Buffer, end: number): boolean {
  if (end < 12 || buf.compare(STATUS_PREFIX, 0, 7, 0, 7) !== 0) return false;
  if ((buf[7] !== 0x30 && buf[7] !== 0x31) || buf[8] !== 0x20) return false;
  if (!isDigit(buf[9]) || !isDigit(buf[10]) || !isDigit(buf[11])) return false;
  return end === 12 || buf[12] === 0x20;
}

export const enum Parse {
  More = 0,
  Done = 1,
  Error = 2,
}

const enum Mode {
  Headers,
  Length,
  Close,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailer,
  Done,
}

export interface ResponseWants {
  maxBody: number;
  digest: boolean;
  body: boolean;
  weightHeader: string | undefined;
}

export class HttpResponseParser {
  status = 0;
  /** Value of the weight header, or undefined. */
  weightHeader: string | undefined;
  /** Failure reason when push/end returned Parse.Error. */
  error = '';
  private mode = Mode.Headers;
  private head: Buffer | null = null;
  private remaining = 0;
  private line = '';
  private bodyBytes = 0;
  private hash: Hash | null = null;
  private parts: Buffer[] | null = null;

  constructor(private readonly wants: ResponseWants) {
    if (wants.digest) this.hash = createHash('md5');
    if (wants.body) this.parts = [];
  }

  /** Lower-case hex MD5 of the body (when a digest was wanted). */
  digest(): string {
    return this.hash === null ? '' : this.hash.digest('hex');
  }

  body(): string {
    return this.parts === null ? '' : Buffer.concat(this.parts).toString('latin1');
  }

  push(chunk: Buffer): Parse {
    if (this.mode === Mode.Done) return Parse.Done;
    if (this.mode === Mode.Headers) {
      const buf = this.head === null ? chunk : Buffer.concat([this.head, chunk]);
      const at = buf.indexOf(CRLFCRLF);
      if (at < 0) {
        if (buf.length > MAX_HEADER) return this.fail('headers too large');
        this.head = buf;
        return Parse.More;
      }
      this.head = null;
      if (at > MAX_HEADER) return this.fail('headers too large');
      if (!this.parseHead(buf, at)) return Parse.Error;
      if ((this.mode as Mode) === Mode.Done) return Parse.Done;
      return this.pushBody(buf, at + 4);
    }
    return this.pushBody(chunk, 0);
  }

  /** The peer closed the connection. */
  end(): Parse {
    if (this.mode === Mode.Done) return Parse.Done;
    if (this.mode === Mode.Close) {
      this.mode = Mode.Done;
      return Parse.Done;
    }
    return this.fail(this.mode === Mode.Headers ? 'no response' : 'truncated response');
  }

  private fail(reason: string): Parse {
    this.error = reason;
    this.mode = Mode.Done;
    return Parse.Error;
  }

  /**
   * The status line and headers, bytes [0, end) of buf (latin1), read in place: only the values of the
   * headers wanted become strings. Same rules as splitting the text on CRLF: the status line must
   * match /^HTTP\/1\.[01] (\d{3})(?: |$)/, a header line is `name:value`, both trimmed as by
   * String.prototype.trim, names compared lower-cased.
   */
  private parseHead(buf: Buffer, end: number): boolean {
    let eol = buf.indexOf(CRLF, 0);
    if (eol < 0 || eol > end) eol = end;
    if (!statusLineOk(buf, eol)) {
      this.fail('bad status line');
      return false;
    }
    this.status = (buf[9] - 48) * 100 + (buf[10] - 48) * 10 + (buf[11] - 48);
    const weightHeader = this.wants.weightHeader;
    const weightLength = weightHeader === undefined ? -1 : weightHeader.length;
    let length = -1;
    let chunked = false;
    for (let pos = eol + 2; pos <= end; pos = eol + 2) {
      eol = buf.indexOf(CRLF, pos);
      if (eol < 0 || eol > end) eol = end;
      const colon = buf.indexOf(COLON, pos);
      if (colon <= pos || colon >= eol) continue; // no name, or no colon in this line
      let ns = pos;
      let ne = colon;
      while (ns < ne && isSpace(buf[ns])) ns++;
      while (ne > ns && isSpace(buf[ne - 1])) ne--;
      const n = ne - ns;
      if (n !== CONTENT_LENGTH.length && n !== TRANSFER_ENCODING.length && n !== weightLength) continue;
      const name = buf.toString('latin1', ns, ne).toLowerCase();
      let vs = colon + 1;
      let ve = eol;
      while (vs < ve && isSpace(buf[vs])) vs++;
      while (ve > vs && isSpace(buf[ve - 1])) ve--;
      if (name === CONTENT_LENGTH) {
        const value = buf.toString('latin1', vs, ve);
        if (!/^\d+$/.test(value)) {
          this.fail('bad content-length');
          return false;
        }
        length = Number(value);
      } else if (name === TRANSFER_ENCODING) {
        chunked = /(^|,)\s*chunked\s*$/i.test(buf.toString('latin1', vs, ve));
      } else if (name === weightHeader) {
        this.weightHeader = buf.toString('latin1', vs, ve);
      }
    }
    const noBody = this.status === 204 || this.status === 304 || (this.status >= 100 && this.status < 200);
    if (noBody) this.mode = Mode.Done;
    else if (chunked) this.mode = Mode.ChunkSize;
    else if (length >= 0) {
      if (length > this.wants.maxBody) {
        this.fail('body too large');
        return false;
      }
      this.remaining = length;
      this.mode = length === 0 ? Mode.Done : Mode.Length;
    } else this.mode = Mode.Close;
    return true;
  }

  /** Body bytes [start, end) of data. */
  private consume(data: Buffer, start: number, end: number): boolean {
    if (end <= start) return true;
    this.bodyBytes += end - start;
    if (this.bodyBytes > this.wants.maxBody) {
      this.fail('body too large');
      return false;
    }
    if (this.hash === null && this.parts === null) return true;
    const part = start === 0 && end === data.length ? data : data.subarray(start, end);
    if (this.hash !== null) this.hash.update(part);
    if (this.parts !== null) this.parts.push(part);
    return true;
  }

  /** Body bytes of chunk from pos on. */
  private pushBody(chunk: Buffer, pos: number): Parse {
    while (pos < chunk.length || this.mode === Mode.Done) {
      switch (this.mode) {
        case Mode.Done:
          return Parse.Done;
        case Mode.Close:
          return this.consume(chunk, pos, chunk.length) ? Parse.More : Parse.Error;
        case Mode.Length:
        case Mode.ChunkData: {
          const n = Math.min(this.remaining, chunk.length - pos);
          if (!this.consume(chunk, pos, pos + n)) return Parse.Error;
          pos += n;
          this.remaining -= n;
          if (this.remaining === 0) this.mode = this.mode === Mode.Length ? Mode.Done : Mode.ChunkDataEnd;
          break;
        }
        case Mode.ChunkSize:
        case Mode.ChunkDataEnd:
        case Mode.Trailer: {
          const nl = chunk.indexOf(10, pos);
          const end = nl < 0 ? chunk.length : nl;
          this.line += chunk.toString('latin1', pos, end);
          if (this.line.length > 1024) return this.fail('bad chunked encoding');
          pos = end;
          if (nl < 0) break;
          pos++;
          const line = this.line.replace(/\r$/, '');
          this.line = '';
          if (this.mode === Mode.ChunkDataEnd) {
            if (line !== '') return this.fail('bad chunked encoding');
            this.mode = Mode.ChunkSize;
          } else if (this.mode === Mode.ChunkSize) {
            const m = /^([0-9a-fA-F]{1,8})(;.*)?$/.exec(line);
            if (!m) return this.fail('bad chunked encoding');
            this.remaining = parseInt(m[1], 16);
            if (this.bodyBytes + this.remaining > this.wants.maxBody) return this.fail('body too large');
            this.mode = this.remaining === 0 ? Mode.Trailer : Mode.ChunkData;
          } else if (line === '') {
            this.mode = Mode.Done;
          }
          break;
        }
        default:
          return this.fail('parser state');
      }
    }
    return Parse.More;
  }
}
