// lbd's own metrics (health, VRRP, reconciler, reloads, process) through prom-client, one registry per
// exposition format (prom-client renames counters in place for OpenMetrics, so the two never share a
// metric object). Values are read from the daemon at scrape time (collect) or counted from its events.
import * as client from 'prom-client';
import { VERSION } from '../version';
import { onCheckAttempts, type CheckAttempt } from './check-attempts';
import type { LbdEvent } from '../daemon/event-log';
import type { VirtualServiceStatus } from '../health/virtual-service';
import type { MetricsSource } from './source';

const VRRP_STATES = ['INIT', 'BACKUP', 'MASTER', 'FAULT', 'STOP'] as const;
export const CHECK_DURATION_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** What is counted from events (kept across VRRP and configuration reloads). */
export class EventCounters {
  readonly serverTransitions = new Map<string, { vs: string; server: string; to: string; n: number }>();
  /** Last failure per real server: reason and epoch seconds. */
  readonly lastFailure = new Map<string, { vs: string; server: string; reason: string; at: number }>();
  readonly quorumTransitions = new Map<string, { vs: string; to: string; n: number }>();
  readonly vrrpTransitions = new Map<string, { instance: string; to: string; n: number }>();
  readonly masterChanges = new Map<string, number>();
  readonly duplicateMaster = new Map<string, number>();
  readonly checks = new Map<string, { checker: string; attempts: number; failures: number }>();
  /** The health statuses of the scrape in progress (read once per scrape). */
  statuses: readonly (VirtualServiceStatus | undefined)[] | undefined;
  reloadsOk = 0;
  reloadsFailed = 0;
  lastGoodReload = 0;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly durationSinks: ((a: CheckAttempt) => void)[] = [];

  constructor(source: MetricsSource) {
    this.lastGoodReload = source.startedAt / 1000;
    const onEvent = (e: LbdEvent) => this.event(e);
    source.events.on('event', onEvent);
    this.unsubscribe.push(() => source.events.off('event', onEvent));
    const onAttempt = (a: CheckAttempt) => {
      let c = this.checks.get(a.checker);
      if (!c) this.checks.set(a.checker, (c = { checker: a.checker, attempts: 0, failures: 0 }));
      c.attempts++;
      if (!a.ok) c.failures++;
      for (const sink of this.durationSinks) sink(a);
    };
    this.unsubscribe.push(onCheckAttempts(source.health, onAttempt));
    const onServer = (e: {
      vs: string;
      server: string;
      up: boolean;
      reason: string;
      initial: boolean;
      at: number;
    }) => {
      if (!e.up)
        this.lastFailure.set(`${e.vs}\n${e.server}`, {
          vs: e.vs,
          server: e.server,
          reason: e.reason,
          at: e.at / 1000,
        });
      if (e.initial) return;
      const key = `${e.vs}\n${e.server}\n${e.up}`;
      const t = this.serverTransitions.get(key);
      if (t) t.n++;
      else this.serverTransitions.set(key, { vs: e.vs, server: e.server, to: e.up ? 'up' : 'down', n: 1 });
    };
    source.health.on('server', onServer);
    this.unsubscribe.push(() => source.health.off('server', onServer));
  }

  onCheckAttempt(sink: (a: CheckAttempt) => void): void {
    this.durationSinks.push(sink);
  }

  private event(e: LbdEvent): void {
    if (e.source === 'reload') {
      if (e.type === 'reloaded') {
        this.reloadsOk++;
        this.lastGoodReload = Date.parse(e.time) / 1000;
      } else if (e.type === 'reload-failed') this.reloadsFailed++;
    } else if (e.source === 'vrrp' && typeof e.instance === 'string') {
      if (e.type === 'transition') {
        const to = String(e.to);
        const key = `${e.instance}\n${to}`;
        const t = this.vrrpTransitions.get(key);
        if (t) t.n++;
        else this.vrrpTransitions.set(key, { instance: e.instance, to, n: 1 });
      } else if (e.type === 'master_change' && e.from !== undefined) {
        // VrrpService's master_change event; the first master known is no change.
        this.masterChanges.set(e.instance, (this.masterChanges.get(e.instance) ?? 0) + 1);
      } else if (e.type === 'duplicate_master') {
        this.duplicateMaster.set(e.instance, (this.duplicateMaster.get(e.instance) ?? 0) + 1);
      }
    } else if (e.source === 'health' && (e.type === 'quorum-up' || e.type === 'quorum-down')) {
      const vs = String(e.vs);
      const to = e.type === 'quorum-up' ? 'up' : 'down';
      const key = `${vs}\n${to}`;
      const t = this.quorumTransitions.get(key);
      if (t) t.n++;
      else this.quorumTransitions.set(key, { vs, to, n: 1 });
    }
  }

  close(): void {
    for (const u of this.unsubscribe) u();
    this.unsubscribe.length = 0;
  }
}

type Labels = Record<string, string | number>;
interface Emit {
  (labels: Labels, value: number): void;
}

/** Builds the registry of one exposition format. */
export function buildRegistry(
  source: MetricsSource,
  counters: EventCounters,
  openMetrics: boolean,
  extra: (registry: client.Registry) => void = () => undefined,
): client.Registry {
  // prom-client types the content type as a class parameter; one runtime class serves both formats.
  const Reg = client.Registry as unknown as new (contentType: string) => client.Registry;
  const registry = new Reg(
    openMetrics ? client.Registry.OPENMETRICS_CONTENT_TYPE : client.Registry.PROMETHEUS_CONTENT_TYPE,
  );
  const registers = [registry];
  const gauge = (name: string, help: string, labelNames: string[], fill: (emit: Emit) => void) =>
    new client.Gauge({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        fill((labels, value) => this.set(labels, value));
      },
    });
  const counter = (name: string, help: string, labelNames: string[], fill: (emit: Emit) => void) =>
    new client.Counter({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        fill((labels, value) => this.inc(labels, value));
      },
    });

  gauge('lbd_build_info', 'Always 1; the version of lbd in a label.', ['version'], (emit) =>
    emit({ version: VERSION }, 1),
  );
  gauge('lbd_start_time_seconds', 'When the daemon started (epoch seconds).', [], (emit) =>
    emit({}, source.startedAt / 1000),
  );

  // Health (per real server and per virtual service states: health-text.ts).
  const statuses = () =>
    counters.statuses ?? source.health.virtualServices().map((id) => source.health.status(id));
  gauge(
    'lbd_health_server_last_failure_timestamp_seconds',
    'When the real server last went down, with the reason (epoch seconds).',
    ['vs', 'server', 'reason'],
    (emit) => {
      const seen = new Set<string>();
      for (const f of counters.lastFailure.values()) {
        seen.add(`${f.vs}\n${f.server}`);
        emit({ vs: f.vs, server: f.server, reason: f.reason }, f.at);
      }
      // Down since before the metrics started: the current reason and time.
      for (const st of statuses())
        for (const s of st?.servers ?? [])
          if (!s.up && !seen.has(`${st!.vs}\n${s.server}`))
            emit({ vs: st!.vs, server: s.server, reason: s.reason }, s.since / 1000);
    },
  );
  counter(
    'lbd_health_server_transitions_total',
    'Real server state changes (to up or to down).',
    ['vs', 'server', 'to'],
    (emit) => {
      for (const t of counters.serverTransitions.values())
        emit({ vs: t.vs, server: t.server, to: t.to }, t.n);
    },
  );
  counter(
    'lbd_health_quorum_transitions_total',
    'Quorum gained (to="up") or lost (to="down").',
    ['vs', 'to'],
    (emit) => {
      for (const t of counters.quorumTransitions.values()) emit({ vs: t.vs, to: t.to }, t.n);
    },
  );
  counter('lbd_health_checks_total', 'Completed check attempts by checker type.', ['checker'], (emit) => {
    for (const c of counters.checks.values()) emit({ checker: c.checker }, c.attempts);
  });
  counter(
    'lbd_health_check_failures_total',
    'Failed check attempts by checker type (retries included).',
    ['checker'],
    (emit) => {
      for (const c of counters.checks.values()) emit({ checker: c.checker }, c.failures);
    },
  );
  gauge(
    'lbd_health_checks_running',
    'Distinct checks running (identical checks shared by several entries count once).',
    [],
    (emit) => emit({}, source.health.checkCount),
  );
  gauge(
    'lbd_health_check_late_starts',
    'Check starts later than 10% of their interval (event loop lag).',
    [],
    (emit) => emit({}, source.health.stats.late),
  );
  const histogram = new client.Histogram({
    name: 'lbd_health_check_duration_seconds',
    help: 'Duration of check attempts by checker type (timeouts included).',
    labelNames: ['checker'],
    buckets: CHECK_DURATION_BUCKETS,
    registers,
  });
  counters.onCheckAttempt((a) => histogram.observe({ checker: a.checker }, a.seconds));

  // VRRP.
  const instances = () => source.vrrp()?.status() ?? [];
  gauge(
    'lbd_vrrp_state',
    'VRRP state of the instance: 1 for the current state, 0 for the others.',
    ['vrrp_instance', 'state'],
    (emit) => {
      for (const i of instances())
        for (const s of VRRP_STATES) emit({ vrrp_instance: i.name, state: s }, i.state === s ? 1 : 0);
    },
  );
  gauge(
    'lbd_vrrp_priority',
    'Effective priority (configured plus tracking adjustments).',
    ['vrrp_instance'],
    (emit) => {
      for (const i of instances()) emit({ vrrp_instance: i.name }, i.priority);
    },
  );
  gauge('lbd_vrrp_configured_priority', 'Configured priority.', ['vrrp_instance'], (emit) => {
    for (const i of instances()) emit({ vrrp_instance: i.name }, i.basePriority);
  });
  gauge(
    'lbd_vrrp_info',
    'Always 1: interface, virtual router id and the master as heard.',
    ['vrrp_instance', 'interface', 'vrid', 'master'],
    (emit) => {
      for (const i of instances())
        emit(
          { vrrp_instance: i.name, interface: i.interface, vrid: i.vrid, master: i.masterAddress ?? '' },
          1,
        );
    },
  );
  counter(
    'lbd_vrrp_transitions_total',
    'State transitions of the instance, by new state.',
    ['vrrp_instance', 'to'],
    (emit) => {
      for (const t of counters.vrrpTransitions.values()) emit({ vrrp_instance: t.instance, to: t.to }, t.n);
    },
  );
  const instanceCounter = (name: string, help: string, pick: (c: Record<string, number>) => number) =>
    counter(name, help, ['vrrp_instance'], (emit) => {
      for (const i of instances())
        emit({ vrrp_instance: i.name }, pick(i.counters as unknown as Record<string, number>));
    });
  instanceCounter('lbd_vrrp_adverts_sent_total', 'Advertisements sent.', (c) => c.advertsSent);
  instanceCounter(
    'lbd_vrrp_adverts_received_total',
    'Advertisements received and accepted for the instance.',
    (c) => c.advertsReceived,
  );
  instanceCounter(
    'lbd_vrrp_priority_zero_sent_total',
    'Priority-0 advertisements sent (master resigning).',
    (c) => c.priorityZeroSent,
  );
  instanceCounter(
    'lbd_vrrp_priority_zero_received_total',
    'Priority-0 advertisements received.',
    (c) => c.priorityZeroReceived,
  );
  instanceCounter('lbd_vrrp_became_master_total', 'Times the instance became master.', (c) => c.becameMaster);
  instanceCounter(
    'lbd_vrrp_released_master_total',
    'Times the instance left the master state.',
    (c) => c.releasedMaster,
  );
  instanceCounter(
    'lbd_vrrp_gratuitous_arp_bursts_total',
    'Gratuitous ARP / unsolicited NA bursts sent.',
    (c) => c.gratuitousBursts,
  );
  instanceCounter(
    'lbd_vrrp_duplicate_master_total',
    'Split-brain detections: adverts from another master while master (duplicate master).',
    (c) => c.duplicateMaster,
  );
  counter(
    'lbd_vrrp_master_changes_total',
    'Changes of the master this node hears or is (master_change events of the VRRP service).',
    ['vrrp_instance'],
    (emit) => {
      const seen = new Set<string>();
      for (const [instance, n] of counters.masterChanges) {
        seen.add(instance);
        emit({ vrrp_instance: instance }, n);
      }
      for (const i of instances()) if (!seen.has(i.name)) emit({ vrrp_instance: i.name }, 0);
    },
  );
  gauge(
    'lbd_vrrp_vip_held',
    'Virtual address on its interface now (as the kernel lists it): 1 present, 0 absent.',
    ['vrrp_instance', 'vip', 'interface'],
    (emit) => {
      for (const i of instances())
        for (const v of i.vips)
          emit({ vrrp_instance: i.name, vip: v.address, interface: v.dev }, v.present ? 1 : 0);
    },
  );
  const drops = () => Object.entries(source.vrrp()?.receiveCounters() ?? {});
  counter(
    'lbd_vrrp_received_packets_total',
    'VRRP packets received on the interface.',
    ['interface'],
    (emit) => {
      for (const [ifname, c] of drops()) emit({ interface: ifname }, c.received ?? 0);
    },
  );
  counter(
    'lbd_vrrp_accepted_packets_total',
    'VRRP packets accepted on the interface.',
    ['interface'],
    (emit) => {
      for (const [ifname, c] of drops()) emit({ interface: ifname }, c.accepted ?? 0);
    },
  );
  counter(
    'lbd_vrrp_dropped_packets_total',
    'VRRP packets dropped, by reason.',
    ['interface', 'reason'],
    (emit) => {
      const skip = new Set([
        'received',
        'accepted',
        'dropped',
        'interval_mismatch_accepted',
        'address_mismatch_accepted',
      ]);
      for (const [ifname, c] of drops())
        for (const [reason, n] of Object.entries(c))
          if (!skip.has(reason)) emit({ interface: ifname, reason }, n);
    },
  );

  // Reconciler.
  counter('lbd_reconciler_operations_total', 'IPVS operations applied, by kind.', ['kind'], (emit) => {
    for (const [kind, n] of Object.entries(source.reconciler()?.operations ?? {})) emit({ kind }, n);
  });
  counter('lbd_reconciler_errors_total', 'IPVS operations that failed.', [], (emit) => {
    const r = source.reconciler();
    if (r) emit({}, r.errors);
  });
  counter(
    'lbd_reconciler_drift_repaired_total',
    "Changes made behind lbd's back that it repaired.",
    [],
    (emit) => {
      const r = source.reconciler();
      if (r) emit({}, r.driftRepaired);
    },
  );
  counter('lbd_reconciler_passes_total', 'Reconciliation passes.', [], (emit) => {
    const r = source.reconciler();
    if (r) emit({}, r.passes);
  });
  gauge('lbd_reconciler_last_apply_duration_seconds', 'Duration of the last apply.', [], (emit) => {
    const r = source.reconciler();
    if (r) emit({}, r.lastApplyMs / 1000);
  });

  // Configuration reloads.
  counter(
    'lbd_config_reloads_total',
    'Configuration reloads, by result (success or failure).',
    ['result'],
    (emit) => {
      emit({ result: 'success' }, counters.reloadsOk);
      emit({ result: 'failure' }, counters.reloadsFailed);
    },
  );
  gauge(
    'lbd_config_last_reload_successful',
    '1 when the last reload succeeded (or none happened), 0 when it was refused.',
    [],
    (emit) => emit({}, source.lastReload()?.ok === false ? 0 : 1),
  );
  gauge(
    'lbd_config_last_reload_success_timestamp_seconds',
    'When the running configuration was loaded (epoch seconds).',
    [],
    (emit) => emit({}, counters.lastGoodReload),
  );
  gauge('lbd_virtual_servers', 'Configured virtual servers.', [], (emit) =>
    emit({}, source.config()?.virtual_servers.length ?? 0),
  );

  client.collectDefaultMetrics({ register: registry, prefix: 'lbd_' });
  // prom-client names these gauges with _total, against the conventions (promtool rejects them).
  for (const n of ['active_handles_total', 'active_requests_total', 'active_resources_total'])
    registry.removeSingleMetric(`lbd_nodejs_${n}`);
  extra(registry);
  return registry;
}
