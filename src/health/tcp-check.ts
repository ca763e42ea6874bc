/**
 * TCP_CHECK: healthy when a TCP connection to connect_ip:connect_port is established. The connection
 * is then closed with a reset (no TIME_WAIT left on the director), like HAProxy's connect-only check.
 *
 * Hot path (ten thousand checks a second), three implementations, best first:
 * - 'native': the addon's prober (native-tcp.ts): TCP_QUICKACK off, so the handshake's last ACK is
 *   never sent and the server never accepts (HAProxy's way); completions come back in batches.
 * - 'raw': a bare libuv TCP handle from node's tcp_wrap binding (raw-tcp.ts): socket, connect, reset,
 *   no stream machinery; the handshake completes.
 * - 'socket': net.Socket.
 * The callbacks are shared module functions or methods that find their probe through a field or a
 * slot, so an attempt allocates no closures or promises.
 */
import * as net from 'node:net';
import { CheckSpec } from './config';
import { Probe, ProbeSink, NO_WEIGHT, errorReason } from './probe';
import { NATIVE_TCP, NativeTcp, NativeTcpClient } from './native-tcp';
import { RawConnectReq, RawTcpHandle, rawReason, rawTcp } from './raw-tcp';

const kProbe = Symbol('lbd.tcpProbe');

type Bindings = NonNullable<typeof rawTcp>;
type TaggedReq = RawConnectReq & { [kProbe]?: RawTcpProbe };

export type TcpProbeKind = 'native' | 'raw' | 'socket';

/** The implementations available in this process, best first (the first one is used). */
export const TCP_PROBE_KINDS: readonly TcpProbeKind[] = [
  ...(NATIVE_TCP ? (['native'] as const) : []),
  ...(rawTcp !== null ? (['raw'] as const) : []),
  'socket',
];

/** TCP_CHECK on the addon's prober. */
class NativeTcpProbe implements Probe, NativeTcpClient {
  private slot = -1;
  private readonly bindIp: string;
  private readonly bindPort: number;

  constructor(
    private readonly prober: NativeTcp,
    private readonly spec: CheckSpec,
    private readonly sink: ProbeSink,
  ) {
    this.bindIp = spec.bindto ?? '';
    this.bindPort = spec.bindPort ?? 0;
  }

  start(): void {
    const spec = this.spec;
    const slot = this.prober.start(this, spec.ip, spec.port, this.bindIp, this.bindPort);
    if (slot < 0) this.sink.probeResult(false, rawReason(slot), NO_WEIGHT);
    else this.slot = slot;
  }

  nativeDone(errno: number): void {
    this.slot = -1;
    if (errno === 0) this.sink.probeResult(true, 'connected', NO_WEIGHT);
    else this.sink.probeResult(false, rawReason(-errno), NO_WEIGHT);
  }

  abort(): void {
    const slot = this.slot;
    this.slot = -1;
    if (slot >= 0) this.prober.cancel(slot);
  }
}

function onRawComplete(this: TaggedReq, status: number, handle: RawTcpHandle): void {
  const probe = this[kProbe];
  this[kProbe] = undefined;
  if (probe !== undefined) probe.completed(handle, status);
}

/** TCP_CHECK on a bare tcp_wrap handle. */
class RawTcpProbe implements Probe {
  private handle: RawTcpHandle | null = null;
  private readonly v6: boolean;

  constructor(
    private readonly b: Bindings,
    private readonly spec: CheckSpec,
    private readonly sink: ProbeSink,
  ) {
    this.v6 = net.isIP(spec.ip) === 6;
  }

  start(): void {
    const b = this.b;
    const spec = this.spec;
    const h = new b.TCP(b.SOCKET);
    let err = 0;
    if (spec.bindto !== undefined || spec.bindPort !== undefined) {
      const addr = spec.bindto ?? (this.v6 ? '::' : '0.0.0.0');
      err = this.v6 ? h.bind6(addr, spec.bindPort ?? 0, 0) : h.bind(addr, spec.bindPort ?? 0);
    }
    if (err === 0) {
      const req: TaggedReq = new b.TCPConnectWrap();
      req.oncomplete = onRawComplete;
      req.address = spec.ip;
      req.port = spec.port;
      req[kProbe] = this;
      err = this.v6 ? h.connect6(req, spec.ip, spec.port) : h.connect(req, spec.ip, spec.port);
      if (err !== 0) req[kProbe] = undefined;
    }
    if (err !== 0) {
      h.close();
      this.sink.probeResult(false, rawReason(err), NO_WEIGHT);
      return;
    }
    this.handle = h;
  }

  completed(h: RawTcpHandle, status: number): void {
    if (h !== this.handle) return;
    this.handle = null;
    if (status === 0) {
      if (h.reset() !== 0) h.close();
      this.sink.probeResult(true, 'connected', NO_WEIGHT);
    } else {
      h.close();
      this.sink.probeResult(false, rawReason(status), NO_WEIGHT);
    }
  }

  abort(): void {
    const h = this.handle;
    this.handle = null;
    // Closing cancels the pending connect; its callback (UV_ECANCELED) is then ignored.
    if (h !== null) h.close();
  }
}

type TaggedSocket = net.Socket & { [kProbe]?: SocketTcpProbe };

function onConnect(this: TaggedSocket): void {
  const probe = this[kProbe];
  if (probe !== undefined) probe.connected(this);
}

function onError(this: TaggedSocket, err: Error): void {
  const probe = this[kProbe];
  if (probe !== undefined) probe.failed(this, err);
}

/** TCP_CHECK on net.Socket (fallback). */
class SocketTcpProbe implements Probe {
  private sock: TaggedSocket | null = null;
  private readonly opts: net.TcpSocketConnectOpts;

  constructor(
    spec: CheckSpec,
    private readonly sink: ProbeSink,
  ) {
    this.opts = { host: spec.ip, port: spec.port, family: net.isIP(spec.ip) };
    if (spec.bindto !== undefined) this.opts.localAddress = spec.bindto;
    if (spec.bindPort !== undefined) this.opts.localPort = spec.bindPort;
  }

  start(): void {
    const s: TaggedSocket = new net.Socket();
    s[kProbe] = this;
    this.sock = s;
    s.on('connect', onConnect);
    s.on('error', onError);
    s.connect(this.opts);
  }

  connected(s: TaggedSocket): void {
    if (s !== this.sock) return;
    this.release(s);
    this.sink.probeResult(true, 'connected', NO_WEIGHT);
  }

  failed(s: TaggedSocket, err: Error): void {
    if (s !== this.sock) return;
    this.release(s);
    this.sink.probeResult(false, errorReason(err), NO_WEIGHT);
  }

  abort(): void {
    const s = this.sock;
    if (s !== null) this.release(s);
  }

  private release(s: TaggedSocket): void {
    this.sock = null;
    s[kProbe] = undefined;
    // The error listener stays, so a late error after the reset cannot become an uncaught exception.
    if (s.connecting || s.pending) s.destroy();
    else s.resetAndDestroy();
  }
}

/**
 * A TCP_CHECK probe: the best implementation available (the native one runs on `native`, the
 * checker's prober), or the one asked for (tests).
 */
export function createTcpProbe(
  spec: CheckSpec,
  sink: ProbeSink,
  native: NativeTcp | null,
  kind = TCP_PROBE_KINDS[0],
): Probe {
  if (kind === 'native' && native !== null) return new NativeTcpProbe(native, spec, sink);
  if (kind !== 'socket' && rawTcp !== null) return new RawTcpProbe(rawTcp, spec, sink);
  return new SocketTcpProbe(spec, sink);
}
