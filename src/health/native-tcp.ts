/**
 * The addon's TCP prober (native/src/tcp_prober.cc) for TCP_CHECK: each attempt is one non-blocking
 * connect() with TCP_QUICKACK off and SO_LINGER 0, so the handshake's last ACK is never sent (the
 * server never accepts) and the socket closes with a reset, like HAProxy's connect-only checks.
 * Completions come back in batches, one call from the addon per batch; sockets of probes without
 * bindto/bind_port are kept and reused (each HealthChecker has its prober and closes it).
 *
 * `openNativeTcp()` returns null when the addon lacks the prober or LBD_HEALTH_NO_NATIVE_TCP=1;
 * TCP_CHECK then uses raw-tcp.ts (or net.Socket).
 */
import { nativeModule } from '../net/native';

interface TcpProberBinding {
  /** Pairs (slot, errno) of the last batch; errno 0 means connected. */
  readonly results: Int32Array;
  readonly inFlight: number;
  /** Pooled sockets waiting for a probe. */
  readonly idle: number;
  /** Starts an attempt: a slot >= 0, or -errno when it failed at once. */
  start(ip: string, port: number, bindIp: string, bindPort: number): number;
  /** Closes an attempt in flight; no result follows. */
  cancel(slot: number): void;
  close(): void;
}

/** What an attempt reports to: errno 0 = connected. */
export interface NativeTcpClient {
  nativeDone(errno: number): void;
}

type ProberClass = new (onResults: (n: number) => void) => TcpProberBinding;

/** One prober (per HealthChecker); results are routed to the clients by slot. */
export class NativeTcp {
  private readonly prober: TcpProberBinding;
  private readonly clients: (NativeTcpClient | undefined)[] = [];

  constructor(Prober: ProberClass) {
    this.prober = new Prober((n) => this.dispatch(n));
  }

  get inFlight(): number {
    return this.prober.inFlight;
  }

  get idle(): number {
    return this.prober.idle;
  }

  /** Closes every socket; later starts fail with EBADF. */
  close(): void {
    this.clients.length = 0;
    this.prober.close();
  }

  /** A slot to cancel() with, or -errno (then nothing is reported). */
  start(client: NativeTcpClient, ip: string, port: number, bindIp: string, bindPort: number): number {
    const slot = this.prober.start(ip, port, bindIp, bindPort);
    if (slot >= 0) this.clients[slot] = client;
    return slot;
  }

  cancel(slot: number): void {
    this.clients[slot] = undefined;
    this.prober.cancel(slot);
  }

  private dispatch(n: number): void {
    const res = this.prober.results;
    const clients = this.clients;
    for (let i = 0; i < 2 * n; i += 2) {
      const slot = res[i];
      const client = clients[slot];
      if (client === undefined) continue; // cancelled while the batch was being delivered
      clients[slot] = undefined;
      client.nativeDone(res[i + 1]);
    }
  }
}

function load(): ProberClass | null {
  if (process.env.LBD_HEALTH_NO_NATIVE_TCP === '1') return null;
  try {
    return nativeModule<{ TcpProber: ProberClass }>('tcpprobe').TcpProber;
  } catch {
    return null;
  }
}

const Prober = load();

/** Whether the addon's prober is available. */
export const NATIVE_TCP = Prober !== null;

/** A new prober, or null when unavailable. */
export function openNativeTcp(): NativeTcp | null {
  return Prober !== null ? new NativeTcp(Prober) : null;
}
