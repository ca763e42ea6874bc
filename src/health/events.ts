/**
 * The events the health checker emits. Every state and weight change carries a reason; `at` is the
 * wall-clock time (epoch milliseconds) of the change.
 */
import { SorryServerConfig } from './config';

/** A real server of a virtual service went up or down (or was added, with its initial state). */
export interface ServerStateEvent {
  vs: string;
  /** ip:port, IPv6 in brackets. */
  server: string;
  ip: string;
  port: number;
  up: boolean;
  /** e.g. 'connected', 'status 200', 'refused', 'timeout', 'status 503', 'digest mismatch (...)', 'TLS error: CERT_HAS_EXPIRED', 'exit code 1'. */
  reason: string;
  /** The check that decided, e.g. 'HTTP_GET 10.0.0.1:80'; '' when the server has no checks. */
  check: string;
  /** The initial state of a server just added (not a transition). */
  initial: boolean;
  /** Epoch ms of this transition. */
  at: number;
  /** Epoch ms of the previous transition (or of the server's addition). */
  previousAt: number;
}

export type WeightReason = 'added' | 'up' | 'down' | 'slow start' | 'dynamic' | 'config' | 'removed';

/**
 * What the daemon should program for a real server: present=false means remove it from IPVS;
 * present=true with weight 0 is an inhibited (quiesced) server.
 */
export interface WeightEvent {
  vs: string;
  server: string;
  ip: string;
  port: number;
  weight: number;
  present: boolean;
  previousWeight: number;
  previousPresent: boolean;
  reason: WeightReason;
  /** The state reason behind the change (the check's reason for up/down). */
  detail: string;
  at: number;
}

/** Quorum of a virtual service gained or lost (and the initial state, reason 'initial'). */
export interface QuorumEvent {
  vs: string;
  up: boolean;
  /** Sum of the weights of the live real servers (dynamic weights included, slow start ramp not). */
  sum: number;
  quorum: number;
  hysteresis: number;
  /** The sorry server to install while the quorum is lost; null when up or none configured. */
  sorryServer: SorryServerConfig | null;
  reason: string;
  at: number;
}

/** A failed attempt of a check with log_all_failures (every failure, not only transitions). */
export interface FailureEvent {
  check: string;
  checker: string;
  ip: string;
  port: number;
  reason: string;
  /** A retry follows (the failure does not count yet). */
  retrying: boolean;
  /** The real servers using the check. */
  servers: { vs: string; server: string }[];
  at: number;
}

/**
 * One completed attempt of a check (success or failure, retries included; not the attempts aborted
 * because the check was removed). For metrics: emitted only while someone listens.
 */
export interface AttemptEvent {
  /** e.g. 'TCP_CHECK 10.0.1.1:80'. */
  check: string;
  checker: string;
  ip: string;
  port: number;
  ok: boolean;
  reason: string;
  /** A failure that will be retried (it does not count yet). */
  retrying: boolean;
  /** From the start of the attempt to its result (a timeout lasts about connect_timeout). */
  durationMs: number;
  at: number;
}

export interface HealthEvents {
  server: [ServerStateEvent];
  weight: [WeightEvent];
  quorum: [QuorumEvent];
  failure: [FailureEvent];
  attempt: [AttemptEvent];
}
