/**
 * Incremental HTTP/1.x response parser for the health checks: status line, headers (Content-Length,
 * Transfer-Encoding: chunked, an optional weight header), and a body that is hashed (MD5, for
 * keepalived's digest) and/or kept (for a regex) without ever holding more than max_body_size bytes.
 */
import { createHash, Hash } from 'node:crypto';

const MAX_HEADER = 16 * 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n');

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
      if (!this.parseHead(buf.toString('latin1', 0, at))) return Parse.Error;
      if ((this.mode as Mode) === Mode.Done) return Parse.Done;
      chunk = buf.subarray(at + 4);
    }
    return this.pushBody(chunk);
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

  private parseHead(text: string): boolean {
    const lines = text.split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0]);
    if (!m) {
      this.fail('bad status line');
      return false;
    }
    this.status = Number(m[1]);
    let length = -1;
    let chunked = false;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i];
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') {
        if (!/^\d+$/.test(value)) {
          this.fail('bad content-length');
          return false;
        }
        length = Number(value);
      } else if (name === 'transfer-encoding') {
        chunked = /(^|,)\s*chunked\s*$/i.test(value);
      } else if (name === this.wants.weightHeader) {
        this.weightHeader = value;
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

  private consume(data: Buffer): boolean {
    if (data.length === 0) return true;
    this.bodyBytes += data.length;
    if (this.bodyBytes > this.wants.maxBody) {
      this.fail('body too large');
      return false;
    }
    if (this.hash !== null) this.hash.update(data);
    if (this.parts !== null) this.parts.push(data);
    return true;
  }

  private pushBody(chunk: Buffer): Parse {
    let pos = 0;
    while (pos < chunk.length || this.mode === Mode.Done) {
      switch (this.mode) {
        case Mode.Done:
          return Parse.Done;
        case Mode.Close:
          return this.consume(chunk.subarray(pos)) ? Parse.More : Parse.Error;
        case Mode.Length:
        case Mode.ChunkData: {
          const n = Math.min(this.remaining, chunk.length - pos);
          if (!this.consume(chunk.subarray(pos, pos + n))) return Parse.Error;
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
