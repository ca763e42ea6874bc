/**
 * TCP_CHECK: healthy when a TCP connection to connect_ip:connect_port is established. The connection
 * is then closed with a reset (no TIME_WAIT left on the director), like HAProxy's connect-only check.
 * Hot path: one socket per attempt; the listeners are shared module functions that find the probe
 * through a field on the socket, so an attempt allocates no closures or promises.
 */
import * as net from 'node:net';
import { CheckSpec } from './config';
import { Probe, ProbeSink, NO_WEIGHT, errorReason } from './probe';

const kProbe = Symbol('lbd.tcpProbe');
type TaggedSocket = net.Socket & { [kProbe]?: TcpProbe };

function onConnect(this: TaggedSocket): void {
  const probe = this[kProbe];
  if (probe !== undefined) probe.connected(this);
}

function onError(this: TaggedSocket, err: Error): void {
  const probe = this[kProbe];
  if (probe !== undefined) probe.failed(this, err);
}

export class TcpProbe implements Probe {
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
    // Keep a listener so a late error after the reset cannot become an uncaught exception.
    if (s.connecting || s.pending) s.destroy();
    else s.resetAndDestroy();
  }
}
