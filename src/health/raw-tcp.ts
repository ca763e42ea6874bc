/**
 * Bare libuv TCP handles from node's tcp_wrap/stream_wrap bindings, for the hot paths of TCP_CHECK
 * and HTTP_GET: no net.Socket stream machinery, no per-connection closures. Node's own net module
 * drives the same handles the same way. When the bindings are unavailable (or LBD_HEALTH_NO_RAW_TCP=1)
 * `rawTcp` is null and the checks fall back to net.Socket.
 */
import { isIP } from 'node:net';
import { getSystemErrorName } from 'node:util';
import { errorReason } from './probe';

export const kOwner = Symbol('lbd.rawOwner');

export interface RawTcpHandle {
  connect(req: RawConnectReq, address: string, port: number): number;
  connect6(req: RawConnectReq, address: string, port: number): number;
  bind(address: string, port: number): number;
  bind6(address: string, port: number, flags: number): number;
  readStart(): number;
  readStop(): number;
  writeLatin1String(req: RawWriteReq, data: string): number;
  reset(): number;
  close(): void;
  onread: ((this: RawTcpHandle, ab: ArrayBuffer | undefined) => void) | null;
  [kOwner]?: RawConnection;
}

export interface RawConnectReq {
  oncomplete: (status: number, handle: RawTcpHandle) => void;
  address: string;
  port: number;
  [kOwner]?: unknown;
}

interface RawWriteReq {
  handle: RawTcpHandle;
  oncomplete: (status: number) => void;
  async: boolean;
}

interface Bindings {
  TCP: new (type: number) => RawTcpHandle;
  TCPConnectWrap: new () => RawConnectReq;
  WriteWrap: new () => RawWriteReq;
  SOCKET: number;
  state: Int32Array;
  kReadBytesOrError: number;
  kArrayBufferOffset: number;
}

const UV_EOF = -4095;

function load(): Bindings | null {
  if (process.env.LBD_HEALTH_NO_RAW_TCP === '1') return null;
  try {
    const binding = (process as unknown as { binding(name: string): Record<string, unknown> }).binding;
    const tcp = binding('tcp_wrap') as {
      TCP: Bindings['TCP'];
      TCPConnectWrap: Bindings['TCPConnectWrap'];
      constants: { SOCKET: number };
    };
    const sw = binding('stream_wrap') as {
      WriteWrap: Bindings['WriteWrap'];
      streamBaseState: Int32Array;
      kReadBytesOrError: number;
      kArrayBufferOffset: number;
    };
    const h = new tcp.TCP(tcp.constants.SOCKET);
    const ok =
      typeof h.connect === 'function' &&
      typeof h.reset === 'function' &&
      typeof h.readStart === 'function' &&
      typeof h.writeLatin1String === 'function';
    h.close();
    if (!ok || typeof sw.WriteWrap !== 'function' || !(sw.streamBaseState instanceof Int32Array)) return null;
    return {
      TCP: tcp.TCP,
      TCPConnectWrap: tcp.TCPConnectWrap,
      WriteWrap: sw.WriteWrap,
      SOCKET: tcp.constants.SOCKET,
      state: sw.streamBaseState,
      kReadBytesOrError: sw.kReadBytesOrError,
      kArrayBufferOffset: sw.kArrayBufferOffset,
    };
  } catch {
    return null;
  }
}

export const rawTcp: Bindings | null = load();

/** A failure reason from a libuv status code (negative errno). */
export function rawReason(status: number): string {
  let code: string;
  try {
    code = getSystemErrorName(status);
  } catch {
    code = `E${-status}`;
  }
  return errorReason({ code });
}

/** What a RawConnection reports to. */
export interface RawConnectionOwner {
  rawConnected(conn: RawConnection): void;
  rawData(conn: RawConnection, data: Buffer): void;
  rawEnd(conn: RawConnection): void;
  rawFailed(conn: RawConnection, reason: string): void;
}

function onConnect(this: RawConnectReq, status: number): void {
  const conn = this[kOwner] as RawConnection | undefined;
  this[kOwner] = undefined;
  if (conn !== undefined) conn.onConnect(status);
}

function onRead(this: RawTcpHandle, ab: ArrayBuffer | undefined): void {
  const conn = this[kOwner];
  if (conn !== undefined) conn.onRead(ab);
}

function onWrite(this: RawWriteReq, status: number): void {
  const conn = this.handle[kOwner];
  if (conn !== undefined && status < 0) conn.fail(status);
}

/** One TCP connection on a bare handle: connect, read, write latin1, close with FIN or reset. */
export class RawConnection {
  private handle: RawTcpHandle | null;
  private connected = false;
  /** The last write request, kept referenced while it may be pending. */
  pendingWrite: RawWriteReq | null = null;

  constructor(
    private readonly owner: RawConnectionOwner,
    ip: string,
    port: number,
    bindto: string | undefined,
    bindPort: number | undefined,
  ) {
    const b = rawTcp as Bindings;
    const h = new b.TCP(b.SOCKET);
    this.handle = h;
    const v6 = isIP(ip) === 6;
    let err = 0;
    if (bindto !== undefined || bindPort !== undefined) {
      const addr = bindto ?? (v6 ? '::' : '0.0.0.0');
      err = v6 ? h.bind6(addr, bindPort ?? 0, 0) : h.bind(addr, bindPort ?? 0);
    }
    if (err === 0) {
      const req = new b.TCPConnectWrap();
      req.oncomplete = onConnect;
      req.address = ip;
      req.port = port;
      req[kOwner] = this;
      err = v6 ? h.connect6(req, ip, port) : h.connect(req, ip, port);
      if (err !== 0) req[kOwner] = undefined;
    }
    if (err !== 0) {
      // Reported asynchronously, like every other outcome.
      process.nextTick(() => this.fail(err));
    }
  }

  onConnect(status: number): void {
    const h = this.handle;
    if (h === null) return;
    if (status !== 0) {
      this.fail(status);
      return;
    }
    this.connected = true;
    h[kOwner] = this;
    h.onread = onRead;
    const err = h.readStart();
    if (err !== 0) this.fail(err);
    else this.owner.rawConnected(this);
  }

  onRead(ab: ArrayBuffer | undefined): void {
    if (this.handle === null) return;
    const b = rawTcp as Bindings;
    const n = b.state[b.kReadBytesOrError];
    if (n > 0 && ab !== undefined) {
      this.owner.rawData(this, Buffer.from(ab, b.state[b.kArrayBufferOffset], n));
    } else if (n === UV_EOF) {
      this.owner.rawEnd(this);
    } else if (n < 0) {
      this.fail(n);
    }
  }

  send(data: string): void {
    const h = this.handle;
    if (h === null) return;
    const b = rawTcp as Bindings;
    const req = new b.WriteWrap();
    req.handle = h;
    req.oncomplete = onWrite;
    req.async = false;
    this.pendingWrite = req;
    const err = h.writeLatin1String(req, data);
    if (err !== 0) this.fail(err);
  }

  fail(status: number): void {
    if (this.handle === null) return;
    this.close();
    this.owner.rawFailed(this, rawReason(status));
  }

  /** Closes the connection: with a reset once connected (no TIME_WAIT), else plainly. */
  close(): void {
    const h = this.handle;
    if (h === null) return;
    this.handle = null;
    this.pendingWrite = null;
    h[kOwner] = undefined;
    if (this.connected) {
      h.readStop();
      if (h.reset() !== 0) h.close();
    } else h.close();
  }
}
