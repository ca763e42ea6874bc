// lbd, the daemon: the configuration x health x VRRP role turned into kernel state and held there.
//
//   const lbd = new Lbd({ configFile: '/etc/lbd/lbd.yaml', logs });
//   await lbd.start();   // adopt the kernel's table, start checks and VRRP, open the control socket
//   await lbd.reload();  // validate completely, then apply only the difference
//   await lbd.stop();    // priority 0 adverts, VIPs removed, IPVS left as it is
import { ConfigError, formatDiagnostic } from '../config/diagnostics';
import { IncrementalLoader, type IncrementalStats, type ModelChange } from '../config/incremental';
import type { ConfigFormat, LoadOptions } from '../config/load';
import type { Config, MetricsSettings, VirtualServer } from '../config/model';
import { HealthChecker, serverId } from '../health';
import {
  Ipvs,
  IpvsUnavailableError,
  serviceId,
  ip,
  port,
  type DaemonState,
  type ServiceKey,
  type VirtualService,
} from '../ipvs';
import { VrrpService } from '../vrrp/service';
import { ControlError } from './control-protocol';
import { ControlServer } from './control-server';
import { desiredServices, serviceKeys, type HealthView, type ServerDecision } from './desired-table';
import { Drainer } from './drainer';
import { EventLog } from './event-log';
import { healthService } from './health-services';
import type { Logger, Logs } from './logger';
import { acquirePidFile } from './pidfile';
import { Reconciler, type DesiredSource } from './reconciler';
import { SdNotify } from './sd-notify';
import { vrrpConfig } from './vrrp-config';
import type { MetricsServer } from '../metrics';

export interface LbdOptions {
  configFile: string;
  format?: ConfigFormat;
  /** Missing interfaces and scripts: errors by default. */
  hostChecks?: 'error' | 'warning' | 'off';
  /** keepalived's config id ('@ID' lines); default: the host name. */
  configId?: string;
  logs: Logs;
  /** Control socket path; default from the configuration. */
  socketPath?: string;
  /** Pid file; none when undefined. */
  pidFile?: string;
  /** Where the reconciler keeps the services it manages across restarts. */
  stateFile?: string;
  /** How often the kernel table is compared with what lbd wants (ms). */
  driftIntervalMs?: number;
  /** How long a drain waits for active connections (ms). */
  drainTimeoutMs?: number;
  /** How often draining servers' connections are polled (ms). */
  drainPollMs?: number;
  /** Serve metrics and the status page here, whatever the configuration says (--metrics-listen). */
  metricsListen?: { address: string; port: number };
}

export class LbdStartError extends Error {
  override name = 'LbdStartError';
}

export class Lbd {
  readonly events = new EventLog();
  readonly health = new HealthChecker();
  readonly sd = new SdNotify();
  config!: Config;
  ipvs: Ipvs | undefined;
  vrrp: VrrpService | undefined;
  reconciler: Reconciler | undefined;
  control: ControlServer | undefined;
  metrics: MetricsServer | undefined;
  readonly drainer: Drainer;
  readonly startedAt = Date.now();
  lastReload: { at: string; ok: boolean; errors: number } | undefined;
  /** Where the last successful reload spent its time (ms): loading the file, indexing, the rest. */
  reloadTimings: { load: number; index: number; apply: number } | undefined;
  private readonly decisions = new Map<string, Map<string, ServerDecision>>();
  /** The desired services of each configured virtual server (by its id), computed when needed. */
  private readonly cache = new Map<string, VirtualService[]>();
  /** Per configured virtual server: its service ids, and a fingerprint of its configuration. */
  private serviceIdsOf = new Map<string, string[]>();
  private fingerprints = new Map<string, string>();
  /**
   * Per model object: its service ids and fingerprint. A reload reuses the objects of the virtual servers
   * it did not change (IncrementalLoader), so these are computed for the changed ones only.
   */
  private readonly indexed = new WeakMap<VirtualServer, { ids: string[]; fingerprint: string }>();
  /** Reads the configuration file, again only in the parts that changed. */
  private loader: IncrementalLoader | undefined;
  /** The loader's last load is the configuration running (not a refused reload). */
  private loaderInSync = false;

  /** How the last configuration load went: top-level blocks parsed again and reused. */
  get lastLoad(): IncrementalStats | undefined {
    return this.loader?.lastStats;
  }
  private vsByServiceId = new Map<string, VirtualServer>();
  private readonly quorumLost = new Set<string>();
  private readonly log: Logger;
  private readonly timers: NodeJS.Timeout[] = [];
  private releasePid: (() => void) | undefined;
  private syncState: DaemonState | 'both' | undefined;
  private syncQueue: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(private readonly opts: LbdOptions) {
    this.log = opts.logs.for('daemon');
    this.drainer = new Drainer(opts.drainTimeoutMs ?? 300_000);
  }

  private readonly healthView: HealthView = {
    server: (vs, server) => this.decisions.get(vs)?.get(server),
    quorumLost: (vs) => this.quorumLost.has(vs),
  };

  private servicesOf(vs: VirtualServer): VirtualService[] {
    let services = this.cache.get(vs.id);
    if (!services) {
      services = desiredServices(this.config, vs, this.healthView, this.drainer);
      this.cache.set(vs.id, services);
    }
    return services;
  }

  private readonly desiredSource: DesiredSource = {
    all: () => this.config.virtual_servers.flatMap((vs) => this.servicesOf(vs)),
    some: (ids) => {
      const vss = new Set<VirtualServer>();
      for (const id of ids) {
        const vs = this.vsByServiceId.get(id);
        if (vs) vss.add(vs);
      }
      const out: VirtualService[] = [];
      for (const vs of vss) for (const s of this.servicesOf(vs)) if (ids.has(serviceId(s.key))) out.push(s);
      return out;
    },
  };

  /** The whole table lbd wants now. */
  desired(): VirtualService[] {
    return this.desiredSource.all();
  }

  /** Something about a configured virtual server changed: recompute it and reconcile its services. */
  private touch(vsId: string, reason: string): void {
    this.cache.delete(vsId);
    void this.reconciler?.request(reason, this.serviceIdsOf.get(vsId) ?? []);
  }

  /**
   * Indexes the current configuration: service ids and fingerprints of each virtual server. With the
   * change an incremental load reported (the objects it added and removed; the others are the very
   * objects indexed before), only those are indexed again. Returns the ids of the virtual servers whose
   * configuration changed and of those removed, what they were, and their service ids before.
   */
  private indexConfig(change?: ModelChange): {
    changed: Set<string>;
    removed: string[];
    oldIds: Map<string, string[]>;
    oldVs: Map<string, VirtualServer> | undefined;
  } {
    const groups = new Map(this.config.virtual_server_groups.map((g) => [g.name, JSON.stringify(g)]));
    const index = (vs: VirtualServer) => {
      // A group's services depend on the group too, which is not part of the object.
      let known = vs.key.kind === 'group' ? undefined : this.indexed.get(vs);
      if (!known) {
        const group = vs.key.kind === 'group' ? groups.get(vs.key.group) : '';
        known = {
          ids: serviceKeys(this.config, vs).map(serviceId),
          fingerprint: JSON.stringify(vs) + (group ?? ''),
        };
        if (vs.key.kind !== 'group') this.indexed.set(vs, known);
      }
      this.serviceIdsOf.set(vs.id, known.ids);
      for (const id of known.ids) this.vsByServiceId.set(id, vs);
      this.fingerprints.set(vs.id, known.fingerprint);
    };
    const oldFingerprints = this.fingerprints;
    const oldIds = this.serviceIdsOf;
    if (!change) {
      this.serviceIdsOf = new Map();
      this.vsByServiceId = new Map();
      this.fingerprints = new Map();
      for (const vs of this.config.virtual_servers) index(vs);
      const changed = new Set<string>();
      for (const [id, fp] of this.fingerprints) if (oldFingerprints.get(id) !== fp) changed.add(id);
      const removed = [...oldFingerprints.keys()].filter((id) => !this.fingerprints.has(id));
      return { changed, removed, oldIds, oldVs: undefined };
    }
    const before = new Map<string, string | undefined>();
    const idsBefore = new Map<string, string[]>();
    const oldVs = new Map<string, VirtualServer>();
    for (const vs of change.removed) {
      const ids = this.serviceIdsOf.get(vs.id) ?? [];
      idsBefore.set(vs.id, ids);
      before.set(vs.id, this.fingerprints.get(vs.id));
      oldVs.set(vs.id, vs);
      for (const id of ids) if (this.vsByServiceId.get(id) === vs) this.vsByServiceId.delete(id);
      this.serviceIdsOf.delete(vs.id);
      this.fingerprints.delete(vs.id);
    }
    const changed = new Set<string>();
    for (const vs of change.added) {
      index(vs);
      if (this.fingerprints.get(vs.id) !== before.get(vs.id)) changed.add(vs.id);
    }
    const removed = [...before.keys()].filter((id) => !this.fingerprints.has(id));
    return { changed, removed, oldIds: idsBefore, oldVs };
  }

  async start(): Promise<void> {
    this.loader = new IncrementalLoader(this.loadOptions());
    const loaded = this.loader.load(this.opts.configFile);
    if (!loaded.config) throw new ConfigError(loaded.diagnostics, loaded.unreadable);
    this.config = loaded.config;
    this.indexConfig();
    this.loaderInSync = true;
    for (const w of loaded.diagnostics) this.opts.logs.for('config').warn(formatDiagnostic(w));
    if (this.opts.pidFile) this.releasePid = acquirePidFile(this.opts.pidFile);
    try {
      await this.startIpvs();
      this.wireHealth();
      for (const vs of this.config.virtual_servers)
        this.health.setVirtualService(healthService(this.config, vs));
      if (this.reconciler) await this.reconciler.request('start');
      await this.startVrrp();
      await this.startControl();
      await this.startMetrics();
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.timers.push(
      setInterval(() => void this.reconciler?.checkDrift(), this.opts.driftIntervalMs ?? 10_000),
    );
    this.timers.push(setInterval(() => void this.pollDrains(), this.opts.drainPollMs ?? 1000));
    const summary = `${this.config.virtual_servers.length} virtual servers, ${this.config.vrrp_instances.length} VRRP instances`;
    this.events.publish({ source: 'daemon', type: 'started', config: this.opts.configFile, summary });
    this.log.info({ config: this.opts.configFile, pid: process.pid }, `lbd started: ${summary}`);
    this.sd.ready(summary);
  }

  private loadOptions(): LoadOptions {
    return {
      hostChecks: this.opts.hostChecks ?? 'error',
      ...(this.opts.format ? { format: this.opts.format } : {}),
      ...(this.opts.configId !== undefined ? { configId: this.opts.configId } : {}),
    };
  }

  private needsIpvs(c: Config): boolean {
    return c.virtual_servers.length > 0 || c.lvs_sync_daemon !== undefined || c.lvs_timeouts !== undefined;
  }

  private async startIpvs(): Promise<void> {
    if (!this.needsIpvs(this.config)) {
      this.log.info('no virtual servers: running VRRP only, IPVS not used');
      return;
    }
    try {
      this.ipvs = await Ipvs.open();
    } catch (err) {
      if (err instanceof IpvsUnavailableError) {
        throw new LbdStartError(`${err.message}; a VRRP-only configuration runs without IPVS`);
      }
      throw err;
    }
    const t = this.config.lvs_timeouts;
    if (t) {
      await this.ipvs.setTimeouts({
        tcp: (t.tcp ?? 0) / 1000,
        tcpFin: (t.tcp_fin ?? 0) / 1000,
        udp: (t.udp ?? 0) / 1000,
      });
    }
    this.reconciler = new Reconciler(this.ipvs, {
      desired: this.desiredSource,
      log: this.opts.logs.for('reconcile'),
      onEvent: (e) => this.events.publish({ source: 'reconcile', ...e }),
      ...(this.opts.stateFile ? { stateFile: this.opts.stateFile } : {}),
    });
  }

  private wireHealth(): void {
    const log = this.opts.logs.for('health');
    this.health.on('weight', (e) => {
      let m = this.decisions.get(e.vs);
      if (!m) this.decisions.set(e.vs, (m = new Map()));
      m.set(e.server, { present: e.present, weight: e.weight });
      this.touch(e.vs, 'health');
    });
    this.health.on('server', (e) => {
      if (!e.initial) {
        log[e.up ? 'info' : 'warn'](
          { vs: e.vs, server: e.server, reason: e.reason, check: e.check },
          `real server ${e.up ? 'up' : 'down'}`,
        );
      }
      this.events.publish({
        source: 'health',
        type: e.up ? 'server-up' : 'server-down',
        vs: e.vs,
        server: e.server,
        reason: e.reason,
        initial: e.initial,
      });
    });
    this.health.on('quorum', (e) => {
      if (e.up) this.quorumLost.delete(e.vs);
      else this.quorumLost.add(e.vs);
      if (e.reason !== 'initial' || !e.up) {
        log[e.up ? 'info' : 'warn'](
          { vs: e.vs, sum: e.sum, quorum: e.quorum },
          `quorum ${e.up ? 'gained' : 'lost'}`,
        );
      }
      this.events.publish({
        source: 'health',
        type: e.up ? 'quorum-up' : 'quorum-down',
        vs: e.vs,
        sum: e.sum,
        quorum: e.quorum,
      });
      this.touch(e.vs, 'quorum');
    });
    this.health.on('failure', (e) =>
      log.info({ check: e.check, reason: e.reason, retrying: e.retrying }, 'check failed'),
    );
  }

  private async startVrrp(): Promise<void> {
    const cfg = vrrpConfig(this.config);
    if (cfg.instances.length === 0) {
      await this.syncDaemons(undefined);
      return;
    }
    const log = this.opts.logs.for('vrrp');
    const vrrp = new VrrpService(cfg, { log: (level, msg) => log[level](msg) });
    vrrp.events.on('event', (e: { type: string; instance?: string; to?: string }) => {
      this.events.publish({ source: 'vrrp', ...(e as unknown as Record<string, unknown>), type: e.type });
      const sync = this.config.lvs_sync_daemon;
      if (e.type === 'transition' && sync?.instance !== undefined && e.instance === sync.instance) {
        void this.syncDaemons(e.to === 'MASTER' ? 'master' : 'backup');
      }
    });
    this.vrrp = vrrp;
    await vrrp.start();
    const sync = this.config.lvs_sync_daemon;
    if (sync && sync.instance === undefined) await this.syncDaemons('both');
    else if (sync && sync.instance !== undefined) {
      const st = vrrp.status().find((i) => i.name === sync.instance);
      await this.syncDaemons(st?.state === 'MASTER' ? 'master' : 'backup');
    }
  }

  /**
   * Runs the kernel's connection sync daemon as master on the VRRP master and as backup elsewhere.
   * Changes are serialised (VRRP events and start-up may ask at once); a kernel refusal is logged, and
   * lbd goes on serving.
   */
  private syncDaemons(want: DaemonState | 'both' | undefined): Promise<void> {
    this.syncQueue = this.syncQueue
      .then(() => this.applySyncDaemons(want))
      .catch((err: Error) => {
        this.opts.logs.for('ipvs').error({ want }, `connection sync daemon: ${err.message}`);
        this.events.publish({ source: 'ipvs', type: 'sync-daemon-error', message: err.message });
      });
    return this.syncQueue;
  }

  private async applySyncDaemons(want: DaemonState | 'both' | undefined): Promise<void> {
    const sync = this.config?.lvs_sync_daemon;
    if (!sync || !this.ipvs || want === undefined || want === this.syncState) return;
    const log = this.opts.logs.for('ipvs');
    const running = new Set((await this.ipvs.daemons()).map((d) => d.state));
    const states: DaemonState[] = want === 'both' ? ['master', 'backup'] : [want];
    for (const st of ['master', 'backup'] as DaemonState[]) {
      if (running.has(st) && !states.includes(st)) await this.ipvs.stopDaemon(st);
    }
    for (const st of states) {
      if (running.has(st)) continue;
      await this.ipvs.startDaemon({
        state: st,
        interface: sync.interface,
        syncId: sync.sync_id,
        ...(sync.maxlen !== undefined ? { maxLength: sync.maxlen } : {}),
        ...(sync.port !== undefined ? { port: port(sync.port) } : {}),
        ...(sync.ttl !== undefined ? { ttl: sync.ttl } : {}),
        ...(sync.group !== undefined ? { group: ip(sync.group) } : {}),
      });
    }
    this.syncState = want;
    log.info({ state: want, interface: sync.interface, syncId: sync.sync_id }, 'connection sync daemon');
    this.events.publish({ source: 'ipvs', type: 'sync-daemon', state: want });
  }

  private async pollDrains(): Promise<void> {
    const waiting = this.drainer.waiting();
    if (waiting.length === 0 || !this.ipvs) return;
    const conns = new Map<string, number>();
    for (const vsId of new Set(waiting.map((w) => w.vs))) {
      const vs = this.config.virtual_servers.find((v) => v.id === vsId);
      const keys: ServiceKey[] = vs ? serviceKeys(this.config, vs) : [];
      for (const key of keys) {
        for (const d of await this.ipvs.destinations(key).catch(() => [])) {
          const k = `${vsId} ${serverId(d.address, d.port)}`;
          conns.set(k, (conns.get(k) ?? 0) + d.activeConns);
        }
      }
    }
    if (this.drainer.tick((vs, server) => conns.get(`${vs} ${server}`))) {
      const done = new Set<string>();
      for (const w of waiting) {
        if (this.drainer.state(w.vs, w.server) === 'draining') continue;
        this.events.publish({ source: 'drain', type: 'drained', vs: w.vs, server: w.server });
        done.add(w.vs);
      }
      for (const vs of done) this.touch(vs, 'drain');
    }
  }

  /** Validates the configuration file completely; applies only the difference (the kernel operations it
   * took are returned), or changes nothing. */
  async reload(): Promise<{ changes: number; summary: string }> {
    this.sd.reloading();
    try {
      this.loader ??= new IncrementalLoader(this.loadOptions());
      // What the loader reports changed is against its previous load: usable if that is what runs.
      const inSync = this.loaderInSync;
      this.loaderInSync = false;
      const t0 = performance.now();
      const r = this.loader.load(this.opts.configFile);
      const t1 = performance.now();
      if (!r.config) {
        const errors = r.diagnostics.filter((d) => d.severity === 'error');
        this.lastReload = { at: new Date().toISOString(), ok: false, errors: errors.length };
        this.events.publish({ source: 'reload', type: 'reload-failed', errors: errors.length });
        this.opts.logs
          .for('config')
          .error(
            { errors: errors.map(formatDiagnostic) },
            `reload refused: ${errors.length} errors; still running the previous configuration`,
          );
        throw new ControlError(
          'invalid-config',
          `configuration has ${errors.length} error${errors.length === 1 ? '' : 's'}; nothing changed`,
          r.diagnostics.map(formatDiagnostic),
        );
      }
      if (this.needsIpvs(r.config) && !this.ipvs) {
        throw new ControlError(
          'unsupported',
          'the new configuration needs IPVS, which this lbd was started without; restart lbd',
        );
      }
      const old = this.config;
      this.config = r.config;
      // Only the virtual servers whose configuration changed are touched.
      const { changed, removed, oldIds, oldVs } = this.indexConfig(
        inSync ? this.loader.lastChange : undefined,
      );
      this.loaderInSync = true;
      const t2 = performance.now();
      // What was programmed for the changed ones (to drain the real servers they lose).
      let oldById = oldVs;
      if (!oldById) {
        oldById = new Map<string, VirtualServer>();
        if (changed.size > 0)
          for (const vs of old.virtual_servers) if (changed.has(vs.id)) oldById.set(vs.id, vs);
      }
      const oldServices = new Map<string, VirtualService[]>();
      for (const id of changed) {
        const was = oldById.get(id);
        if (was)
          oldServices.set(id, this.cache.get(id) ?? desiredServices(old, was, this.healthView, this.drainer));
      }
      const dirty = new Set<string>();
      for (const id of [...changed, ...removed]) {
        for (const sid of oldIds.get(id) ?? []) dirty.add(sid);
        for (const sid of this.serviceIdsOf.get(id) ?? []) dirty.add(sid);
        this.cache.delete(id);
      }
      for (const id of removed) {
        this.health.removeVirtualService(id);
        this.decisions.delete(id);
        this.quorumLost.delete(id);
      }
      for (const vs of this.configured(changed))
        this.health.setVirtualService(healthService(this.config, vs));
      this.drainLeavingServers(changed, oldServices);
      // Asked before the first await: one pass serves it and the requests of the health checks set above.
      const opsBefore = totalOperations(this.reconciler);
      const applied = this.reconciler?.request('reload', dirty);
      // Awaited below, after the VRRP and metrics steps: a failure meanwhile is not an unhandled one.
      applied?.catch(() => undefined);
      await this.reloadVrrp(old);
      await this.reloadMetrics(old.metrics);
      await applied;
      const changes = totalOperations(this.reconciler) - opsBefore;
      this.lastReload = { at: new Date().toISOString(), ok: true, errors: 0 };
      this.reloadTimings = { load: t1 - t0, index: t2 - t1, apply: performance.now() - t2 };
      const summary = `${this.config.virtual_servers.length} virtual servers, ${this.config.vrrp_instances.length} VRRP instances`;
      this.events.publish({ source: 'reload', type: 'reloaded', summary });
      this.log.info(`configuration reloaded: ${summary}`);
      return { changes, summary };
    } finally {
      this.sd.ready();
    }
  }

  /** The configured virtual servers with these ids (found by their service ids, not by a walk). */
  private configured(ids: ReadonlySet<string>): VirtualServer[] {
    const out: VirtualServer[] = [];
    for (const id of ids) {
      const sids = this.serviceIdsOf.get(id);
      const vs = sids?.length ? this.vsByServiceId.get(sids[0]) : undefined;
      if (vs) out.push(vs);
      else if (sids) {
        // A virtual server without services (a group with no entries): found the long way.
        const found = this.config.virtual_servers.find((v) => v.id === id);
        if (found) out.push(found);
      }
    }
    return out;
  }

  /** Real servers programmed now that the new configuration drops are drained, not cut. */
  private drainLeavingServers(
    changed: ReadonlySet<string>,
    before: ReadonlyMap<string, VirtualService[]>,
  ): void {
    for (const vs of this.configured(changed)) {
      const was = new Map((before.get(vs.id) ?? []).map((s) => [serviceId(s.key), s]));
      for (const cur of this.servicesOf(vs)) {
        const old = was.get(serviceId(cur.key));
        if (!old) continue;
        const keep = new Set(cur.destinations.map((d) => serverId(d.address, d.port)));
        let left = false;
        for (const d of old.destinations) {
          if (keep.has(serverId(d.address, d.port))) continue;
          this.drainer.leave(vs.id, d, cur.key.protocol === 'udp');
          left = true;
        }
        if (left) this.cache.delete(vs.id);
      }
    }
  }

  /** Unchanged VRRP instances keep running (state, VIPs, no gratuitous ARP); changed ones restart. */
  private async reloadVrrp(old: Config): Promise<void> {
    const next = vrrpConfig(this.config);
    if (JSON.stringify(vrrpConfig(old)) === JSON.stringify(next)) return;
    if (this.vrrp && next.instances.length > 0) {
      const r = await this.vrrp.reload(next);
      this.log.info(r, 'VRRP reloaded');
      this.events.publish({ source: 'vrrp', type: 'reloaded', ...r });
      return;
    }
    // VRRP started or stopped being configured at all.
    await this.vrrp?.stop();
    this.vrrp = undefined;
    this.syncState = undefined;
    await this.startVrrp();
  }

  /** A virtual server by its id ('TCP 192.0.2.1:80'), or by a unique end of it ('192.0.2.1:80'). */
  private resolveVs(name: string) {
    const all = this.config.virtual_servers;
    const exact = all.find((x) => x.id === name || x.id.toLowerCase() === name.toLowerCase());
    if (exact) return exact;
    const partial = all.filter((x) => x.id.toLowerCase().endsWith(` ${name.toLowerCase()}`));
    if (partial.length === 1) return partial[0];
    const hint =
      partial.length > 1
        ? `; it could be ${partial.map((x) => `'${x.id}'`).join(' or ')}`
        : ' (see lbctl status)';
    throw new ControlError('not-found', `no virtual server '${name}'${hint}`);
  }

  drain(name: string, server: string, undrain = false): { vs: string; server: string; state: string } {
    const v = this.resolveVs(name);
    const vs = v.id;
    if (
      !this.desired().some((s) => s.destinations.some((d) => serverId(d.address, d.port) === server)) &&
      !undrain
    ) {
      throw new ControlError('not-found', `no real server ${server} in ${vs}`);
    }
    if (undrain) {
      if (!this.drainer.undrain(vs, server))
        throw new ControlError('not-found', `${server} in ${vs} is not drained`);
    } else {
      this.drainer.drain(vs, server, v.protocol === 'UDP');
    }
    this.events.publish({ source: 'drain', type: undrain ? 'undrain' : 'drain', vs, server });
    this.touch(vs, undrain ? 'undrain' : 'drain');
    return { vs, server, state: this.drainer.state(vs, server) };
  }

  status(): Record<string, unknown> {
    return {
      pid: process.pid,
      config: this.opts.configFile,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      lastReload: this.lastReload ?? null,
      virtualServers: this.config.virtual_servers.map((vs) => ({
        id: vs.id,
        health: this.health.status(vs.id) ?? null,
      })),
      vrrp: this.vrrp?.status() ?? [],
      reconciler: this.reconciler?.stats ?? null,
      drains: this.drainer.list(),
      lastEvent: this.events.lastSeq,
    };
  }

  private async startControl(): Promise<void> {
    const server = new ControlServer(this.opts.socketPath ?? this.config.control.socket);
    server
      .handle('status', () => this.status())
      .handle('vrrp', () => ({
        instances: this.vrrp?.status() ?? [],
        drops: this.vrrp?.receiveCounters() ?? {},
      }))
      .handle('checks', () => this.health.virtualServices().map((id) => this.health.status(id)))
      .handle('reload', () => this.reload())
      .handle('drain', (a) => this.drain(String(a.vs), String(a.server)))
      .handle('undrain', (a) => this.drain(String(a.vs), String(a.server), true))
      .handle('events', (a) => this.events.since(Number(a.after ?? 0)))
      .stream('follow', (a, emit) => {
        for (const e of this.events.since(Number(a.after ?? this.events.lastSeq))) emit(e);
        const on = (e: unknown) => emit(e);
        this.events.on('event', on);
        return () => this.events.off('event', on);
      });
    await server.listen();
    this.control = server;
  }

  /** The metrics listener (/metrics, the status page, /healthz), when configured or asked for. */
  private async startMetrics(m = this.config.metrics): Promise<void> {
    const listen = this.opts.metricsListen ?? (m.enabled ? { address: m.address, port: m.port } : undefined);
    if (!listen) return;
    const { startMetricsServer, lbdMetricsSource } = require('../metrics') as typeof import('../metrics');
    this.metrics = await startMetricsServer(lbdMetricsSource(this), { ...listen, path: m.path });
    this.opts.logs
      .for('metrics')
      .info(
        `metrics on http://${listen.address.includes(':') ? `[${this.metrics.address}]` : this.metrics.address}:${this.metrics.port}${m.path}`,
      );
  }

  /** A reload that changes the metrics block moves the listener (stops it, starts it). When the new one
   * cannot start (its port taken), the old one is started again and the error logged. */
  private async reloadMetrics(old: MetricsSettings): Promise<void> {
    const m = this.config.metrics;
    if (m.enabled === old.enabled && m.address === old.address && m.port === old.port && m.path === old.path)
      return;
    const log = this.opts.logs.for('metrics');
    await this.metrics?.close();
    this.metrics = undefined;
    try {
      await this.startMetrics();
      if (!this.metrics) log.info('metrics listener stopped (disabled by the configuration)');
    } catch (err) {
      log.error(`metrics listener not moved: ${(err as Error).message}; kept the previous one`);
      await this.startMetrics(old).catch((e: Error) => log.error(`metrics listener lost: ${e.message}`));
    }
  }

  /** Graceful stop: VRRP sends priority 0 and removes its VIPs; the IPVS table is left as it is unless
   * lvs_flush_on_stop is set. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.sd.stopping();
    for (const t of this.timers) clearInterval(t);
    await this.vrrp?.stop().catch((err: Error) => this.log.error(`VRRP stop: ${err.message}`));
    this.health.close();
    if (this.config?.global.lvs_flush_on_stop && this.ipvs) await this.ipvs.flush().catch(() => undefined);
    this.ipvs?.close();
    await this.control?.close();
    await this.metrics?.close();
    this.releasePid?.();
    this.log.info('lbd stopped');
    this.opts.logs.flush();
  }
}

function totalOperations(r: Reconciler | undefined): number {
  return r ? Object.values(r.stats.operations).reduce((a, b) => a + b, 0) : 0;
}
