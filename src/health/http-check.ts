/**
 * HTTP_GET and SSL_GET on raw net/tls sockets: one connection per url block, in order; the check is
 * healthy when every url answers with an accepted status (default 200-299) and, when configured, a
 * body whose MD5 equals `digest` (genhash's lower-case hex) or that matches `regex`. The body is read
 * to its end but never beyond max_body_size. The runner's deadline (connect_timeout) bounds the whole
 * attempt, so a server that never answers or trickles bytes fails with 'timeout'.
 *
 * Dynamic weight: with dynamic_weight_header, the header `X-LBD-Weight: <0..65535>` (or the named
 * header) in a healthy response sets the real server's weight.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { CheckSpec, HttpSpec, HttpUrlSpec } from './config';
import { HttpResponseParser, Parse, ResponseWants } from './http-response';
import { Probe, ProbeSink, NO_WEIGHT, errorReason } from './probe';
import { RawConnection, RawConnectionOwner, rawTcp } from './raw-tcp';

const TLS_NOT_TRANSPORT = new Set([
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
]);

/** The GET request for one url block. */
export function buildRequest(url: HttpUrlSpec, protocol: HttpSpec['protocol']): string {
  const version = protocol === '1.1' ? 'HTTP/1.1' : 'HTTP/1.0';
  const close = protocol === '1.0' ? '' : 'Connection: close\r\n';
  return `GET ${url.path} ${version}\r\nUser-Agent: lbd-healthcheck\r\nHost: ${url.host}\r\n${close}Accept: */*\r\n\r\n`;
}

/** Whether a status is in one of the accepted [lo, hi] ranges. */
function statusAccepted(ranges: HttpUrlSpec['status'], status: number): boolean {
  for (const [lo, hi] of ranges) if (status >= lo && status <= hi) return true;
  return false;
}

/** 'status NNN', one string per status code (a result reason per check, not a new string each time). */
const statusReasons: string[] = [];
function statusReason(status: number): string {
  return (statusReasons[status] ??= `status ${status}`);
}

/**
 * HTTP_GET runs on a bare libuv handle (raw-tcp.ts) when available, SSL_GET (and HTTP_GET without
 * the bindings) on net/tls sockets.
 */
export class HttpProbe implements Probe, RawConnectionOwner {
  private readonly http: HttpSpec;
  private readonly requests: string[];
  private readonly regexes: (RegExp | null)[];
  /** What each url's response parser looks for. */
  private readonly wants: ResponseWants[];
  private sock: net.Socket | null = null;
  private raw: RawConnection | null = null;
  private readonly useRaw: boolean;
  private parser: HttpResponseParser | null = null;
  private urlIndex = 0;
  private weight = NO_WEIGHT;
  private secure = false;
  private readonly netOpts: net.TcpNetConnectOpts;
  private readonly tlsOpts: tls.ConnectionOptions | null;

  constructor(
    private readonly spec: CheckSpec,
    private readonly sink: ProbeSink,
  ) {
    this.http = spec.http as HttpSpec;
    this.useRaw = !this.http.tls && rawTcp !== null;
    this.requests = this.http.urls.map((u) => buildRequest(u, this.http.protocol));
    this.regexes = this.http.urls.map((u) => (u.regex === undefined ? null : new RegExp(u.regex)));
    this.wants = this.http.urls.map((u) => ({
      maxBody: this.http.maxBody,
      digest: u.digest !== undefined,
      body: u.regex !== undefined,
      weightHeader: this.http.weightHeader,
    }));
    this.netOpts = { host: spec.ip, port: spec.port, family: net.isIP(spec.ip) };
    if (spec.bindto !== undefined) this.netOpts.localAddress = spec.bindto;
    if (spec.bindPort !== undefined) this.netOpts.localPort = spec.bindPort;
    if (this.http.tls) {
      const verifyName = this.http.verifyName;
      this.tlsOpts = {
        ...this.netOpts,
        rejectUnauthorized: this.http.verify,
        checkServerIdentity: (_host, cert) => tls.checkServerIdentity(verifyName, cert),
      };
      if (this.http.sni !== undefined) this.tlsOpts.servername = this.http.sni;
      if (this.http.ca !== undefined) this.tlsOpts.ca = this.http.ca;
    } else this.tlsOpts = null;
  }

  start(): void {
    this.urlIndex = 0;
    this.weight = NO_WEIGHT;
    this.connect();
  }

  abort(): void {
    this.close();
  }

  private connect(): void {
    this.parser = new HttpResponseParser(this.wants[this.urlIndex]);
    this.secure = false;
    if (this.useRaw) {
      const spec = this.spec;
      this.raw = new RawConnection(this, spec.ip, spec.port, spec.bindto, spec.bindPort);
      return;
    }
    const request = Buffer.from(this.requests[this.urlIndex], 'latin1');
    let s: net.Socket;
    if (this.tlsOpts !== null) {
      s = tls.connect(this.tlsOpts);
      s.once('secureConnect', () => {
        if (s !== this.sock) return;
        this.secure = true;
        s.write(request);
      });
    } else {
      s = net.connect(this.netOpts);
      s.once('connect', () => {
        if (s === this.sock) s.write(request);
      });
    }
    this.sock = s;
    s.on('data', (chunk: Buffer) => {
      if (s === this.sock) this.data(chunk);
    });
    s.on('end', () => {
      if (s === this.sock) this.end();
    });
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (s !== this.sock) return;
      if (this.tlsOpts !== null && !this.secure && !TLS_NOT_TRANSPORT.has(err.code ?? '')) {
        this.fail(err.code === 'ECONNRESET' ? 'TLS error: reset' : `TLS error: ${err.code ?? err.message}`);
      } else this.fail(errorReason(err));
    });
    s.on('close', () => {
      if (s === this.sock) this.fail('closed');
    });
  }

  rawConnected(conn: RawConnection): void {
    if (conn === this.raw) conn.send(this.requests[this.urlIndex]);
  }

  rawData(conn: RawConnection, data: Buffer): void {
    if (conn === this.raw) this.data(data);
  }

  rawEnd(conn: RawConnection): void {
    if (conn === this.raw) this.end();
  }

  rawFailed(conn: RawConnection, reason: string): void {
    if (conn !== this.raw) return;
    this.raw = null;
    this.fail(reason);
  }

  private data(chunk: Buffer): void {
    if (this.parser === null) return;
    const r = this.parser.push(chunk);
    if (r === Parse.Done) this.responseDone();
    else if (r === Parse.Error) this.fail(this.parser.error);
  }

  private end(): void {
    if (this.parser === null) return;
    const r = this.parser.end();
    if (r === Parse.Done) this.responseDone();
    else this.fail(this.parser.error);
  }

  private responseDone(): void {
    const parser = this.parser as HttpResponseParser;
    const url = this.http.urls[this.urlIndex];
    const status = parser.status;
    if (!statusAccepted(url.status, status)) {
      this.fail(statusReason(status));
      return;
    }
    if (url.digest !== undefined) {
      const got = parser.digest();
      if (got !== url.digest) {
        this.fail(`digest mismatch (${got})`);
        return;
      }
    }
    const re = this.regexes[this.urlIndex];
    if (re !== null && !re.test(parser.body())) {
      this.fail('regex mismatch');
      return;
    }
    if (parser.weightHeader !== undefined && /^\d{1,5}$/.test(parser.weightHeader)) {
      const w = Number(parser.weightHeader);
      if (w <= 65535) this.weight = w;
    }
    this.close();
    if (++this.urlIndex < this.http.urls.length) {
      this.connect();
      return;
    }
    this.sink.probeResult(true, statusReason(status), this.weight);
  }

  private fail(reason: string): void {
    this.close();
    this.sink.probeResult(false, reason, NO_WEIGHT);
  }

  private close(): void {
    const raw = this.raw;
    this.raw = null;
    if (raw !== null) raw.close();
    const s = this.sock;
    this.sock = null;
    this.parser = null;
    // Reset rather than FIN: no TIME_WAIT on the director, fewer packets (HAProxy does the same).
    // The 'error' listener stays attached, so a late error after destroy is ignored, not uncaught.
    if (s !== null) {
      if (s.connecting || s.destroyed || (s as tls.TLSSocket).encrypted) s.destroy();
      else s.resetAndDestroy();
    }
  }
}
