// What the metrics module reads from the daemon: a narrow interface the Lbd class satisfies through
// lbdMetricsSource(lbd), and tests satisfy with their own parts.
import type { Config } from '../config/model';
import type { ReconcilerStats } from '../daemon/reconciler';
import type { LbdEvent } from '../daemon/event-log';
import type { HealthChecker } from '../health';
import type { VirtualServiceEntry } from '../ipvs';
import type { VrrpService } from '../vrrp/service';

/** The ordered event stream (EventLog). */
export interface EventSource {
  since(after?: number): LbdEvent[];
  readonly lastSeq: number;
  on(event: 'event', listener: (e: LbdEvent) => void): unknown;
  off(event: 'event', listener: (e: LbdEvent) => void): unknown;
}

export interface ReloadInfo {
  /** ISO time. */
  at: string;
  ok: boolean;
  errors: number;
}

export interface MetricsSource {
  /** One dump of the kernel's IPVS table; undefined when lbd runs without IPVS (VRRP only). */
  ipvsTable(): Promise<VirtualServiceEntry[]> | undefined;
  readonly health: HealthChecker;
  vrrp(): VrrpService | undefined;
  reconciler(): ReconcilerStats | undefined;
  readonly events: EventSource;
  /** The running configuration; undefined before the daemon loaded one. */
  config(): Config | undefined;
  lastReload(): ReloadInfo | undefined;
  /** Epoch ms the daemon started (the first good configuration). */
  readonly startedAt: number;
}

/** The parts of Lbd the metrics read (structural: no import of the daemon at run time). */
export interface LbdLike {
  readonly events: EventSource;
  readonly health: HealthChecker;
  readonly startedAt: number;
  config: Config | undefined;
  ipvs: { table(): Promise<VirtualServiceEntry[]> } | undefined;
  vrrp: VrrpService | undefined;
  reconciler: { stats: ReconcilerStats } | undefined;
  lastReload: ReloadInfo | undefined;
}

/** The metrics source of a running Lbd. */
export function lbdMetricsSource(lbd: LbdLike): MetricsSource {
  return {
    ipvsTable: () => lbd.ipvs?.table(),
    health: lbd.health,
    vrrp: () => lbd.vrrp,
    reconciler: () => lbd.reconciler?.stats,
    events: lbd.events,
    config: () => lbd.config,
    lastReload: () => lbd.lastReload,
    startedAt: lbd.startedAt,
  };
}
