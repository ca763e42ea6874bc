/**
 * The health checker: virtual services with their real servers in, events out.
 *
 *   const hc = new HealthChecker({ maxScripts: 8 });
 *   hc.on('weight', (e) => ...);           // program IPVS: e.present ? set weight e.weight : remove
 *   hc.on('server', (e) => ...);           // up/down with reason
 *   hc.on('quorum', (e) => ...);           // quorum up/down, sorry server to install
 *   hc.on('failure', (e) => ...);          // every failed attempt, for checks with log_all_failures
 *   hc.on('attempt', (e) => ...);          // every completed attempt (ok, reason, durationMs): metrics
 *   hc.setVirtualService({ id: 'tcp 10.0.0.1:80', real_servers: [...] });   // add or update
 *   hc.removeVirtualService('tcp 10.0.0.1:80');
 *   hc.close();
 *
 * Identical checks of one target (same checker, address, port and parameters) used by several real
 * server entries run once; the entries share the result. Events are emitted synchronously, including
 * the initial state of servers added by setVirtualService ('added' weights, 'initial' quorum).
 */
import { EventEmitter } from 'node:events';
import { randomInt } from 'node:crypto';
import { CheckContext, CheckStats, SharedCheck } from './check-runner';
import {
  CheckSpec,
  HealthConfigError,
  RealServerConfig,
  VirtualServiceConfig,
  checkKey,
  normalizeCheck,
  serverId,
} from './config';
import { FailureEvent, HealthEvents, QuorumEvent, ServerStateEvent, WeightEvent } from './events';
import { openNativeTcp } from './native-tcp';
import { Clock, Scheduler } from './scheduler';
import { ScriptPool } from './script-pool';
import { ServerEntry, ServerSettings } from './target-state';
import { VirtualServiceEntry, VirtualServiceStatus } from './virtual-service';

export interface HealthCheckerOptions {
  /** MISC_CHECK scripts running at once; default 8. */
  maxScripts?: number;
  /** Monotonic clock in ms (tests); default performance.now. */
  clock?: Clock;
  /** Wall clock in epoch ms for event times; default Date.now. */
  wallClock?: () => number;
  /** Random source in [0, 1) for the spread of first checks. */
  random?: () => number;
}

export class HealthChecker extends EventEmitter<HealthEvents> {
  readonly scheduler: Scheduler;
  readonly stats = new CheckStats();
  readonly scripts: ScriptPool;
  private readonly services = new Map<string, VirtualServiceEntry>();
  private readonly checks = new Map<string, SharedCheck>();
  private readonly ctx: CheckContext;
  private readonly wallClock: () => number;
  private closed = false;

  constructor(opts: HealthCheckerOptions = {}) {
    super();
    // Checks may start up to 2 ms early: one wake-up serves every check due in that window.
    this.scheduler = new Scheduler(opts.clock, opts.clock === undefined ? 2 : 0.5);
    this.scripts = new ScriptPool(opts.maxScripts ?? 8);
    this.wallClock = opts.wallClock ?? Date.now;
    this.ctx = {
      scheduler: this.scheduler,
      scripts: this.scripts,
      nativeTcp: openNativeTcp(),
      stats: this.stats,
      random: opts.random ?? (() => randomInt(0, 1 << 30) / (1 << 30)),
      wallClock: this.wallClock,
      hooks: {
        attemptFailed: (c, reason, retrying) => this.attemptFailed(c, reason, retrying),
        attemptDone: (c, ok, reason, retrying, durationMs) => {
          if (this.listenerCount('attempt') === 0) return;
          const { checker, ip, port } = c.spec;
          const at = this.wallClock();
          this.emit('attempt', { check: c.name, checker, ip, port, ok, reason, retrying, durationMs, at });
        },
      },
    };
  }

  /** Number of distinct checks running (shared checks count once). */
  get checkCount(): number {
    return this.checks.size;
  }

  /** Adds a virtual service or updates it in place (servers added, removed, changed). */
  setVirtualService(cfg: VirtualServiceConfig): void {
    if (this.closed) throw new Error('health checker closed');
    const plan = this.plan(cfg); // validates everything before changing anything
    let vs = this.services.get(cfg.id);
    const sorry = cfg.sorry_server ? { ...cfg.sorry_server } : null;
    const fresh = vs === undefined;
    if (vs === undefined) {
      vs = new VirtualServiceEntry(
        cfg.id,
        this.scheduler,
        {
          server: (e: ServerStateEvent) => this.emit('server', e),
          weight: (e: WeightEvent) => this.emit('weight', e),
          quorum: (e: QuorumEvent) => this.emit('quorum', e),
        },
        this.wallClock,
        plan.quorum,
        plan.hysteresis,
        sorry,
      );
      this.services.set(cfg.id, vs);
    }
    vs.begin();
    const seen = new Set<string>();
    for (const p of plan.servers) {
      seen.add(p.id);
      const existing = vs.servers.get(p.id);
      if (existing === undefined) {
        const entry = new ServerEntry(vs, p.id, p.ip, p.port, p.settings, this.acquire(p.specs));
        vs.servers.set(p.id, entry);
        entry.attach();
      } else {
        const oldKeys = existing.checks.map((c) => c.key).join('\n');
        const newKeys = p.specs.map(checkKey).join('\n');
        if (oldKeys !== newKeys) this.release(existing.replaceChecks(this.acquire(p.specs)));
        if (JSON.stringify(existing.settings) !== JSON.stringify(p.settings))
          existing.updateSettings(p.settings);
      }
    }
    for (const [id, entry] of vs.servers) {
      if (seen.has(id)) continue;
      vs.servers.delete(id);
      this.release(entry.detach(true));
      vs.serversChanged(`${id} removed`);
    }
    if (!fresh) vs.reconfigure(plan.quorum, plan.hysteresis, sorry);
    vs.flush(fresh ? 'initial' : 'config');
  }

  /** Stops checking a virtual service's servers (checks shared with others go on). No events. */
  removeVirtualService(id: string): boolean {
    const vs = this.services.get(id);
    if (vs === undefined) return false;
    this.services.delete(id);
    for (const entry of vs.servers.values()) this.release(entry.detach(false));
    vs.servers.clear();
    return true;
  }

  virtualServices(): string[] {
    return [...this.services.keys()];
  }

  status(id: string): VirtualServiceStatus | undefined {
    return this.services.get(id)?.status();
  }

  /** Stops every check, kills running scripts, closes every socket. */
  close(): void {
    this.closed = true;
    for (const id of [...this.services.keys()]) this.removeVirtualService(id);
    for (const c of this.checks.values()) c.stop();
    this.checks.clear();
    this.scheduler.close();
    this.ctx.nativeTcp?.close();
  }

  private plan(cfg: VirtualServiceConfig): {
    quorum: number;
    hysteresis: number;
    servers: { id: string; ip: string; port: number; settings: ServerSettings; specs: CheckSpec[] }[];
  } {
    if (typeof cfg.id !== 'string' || cfg.id === '')
      throw new HealthConfigError('virtual service needs an id');
    const quorum = cfg.quorum ?? 1;
    const hysteresis = cfg.hysteresis ?? 0;
    if (!Number.isInteger(quorum) || quorum < 0)
      throw new HealthConfigError('quorum must be an integer >= 0');
    if (!Number.isInteger(hysteresis) || hysteresis < 0) {
      throw new HealthConfigError('hysteresis must be an integer >= 0');
    }
    const ids = new Set<string>();
    const servers = (cfg.real_servers ?? []).map((rs: RealServerConfig) => {
      const id = serverId(rs.ip, rs.port);
      if (ids.has(id)) throw new HealthConfigError(`real server ${id} listed twice in ${cfg.id}`);
      ids.add(id);
      const weight = rs.weight ?? 1;
      if (!Number.isInteger(weight) || weight < 0 || weight > 65535) {
        throw new HealthConfigError(`weight of ${id} must be an integer in 0..65535`);
      }
      const slowStart = rs.slow_start ?? cfg.slow_start ?? 0;
      if (typeof slowStart !== 'number' || !(slowStart >= 0)) {
        throw new HealthConfigError(`slow_start of ${id} must be >= 0 seconds`);
      }
      const defaults = {
        ip: rs.ip,
        port: rs.port,
        delayLoop: rs.delay_loop ?? cfg.delay_loop,
        alpha: rs.alpha ?? cfg.alpha ?? false,
        logAllFailures: rs.log_all_failures ?? false,
      };
      const specs = (rs.checks ?? []).map((c) => normalizeCheck(c, defaults));
      const settings: ServerSettings = {
        weight,
        inhibit: rs.inhibit_on_failure ?? cfg.inhibit_on_failure ?? false,
        slowStartMs: slowStart * 1000,
      };
      return { id, ip: rs.ip, port: rs.port, settings, specs };
    });
    return { quorum, hysteresis, servers };
  }

  private acquire(specs: CheckSpec[]): SharedCheck[] {
    return specs.map((spec) => {
      const key = checkKey(spec);
      let c = this.checks.get(key);
      if (c === undefined) {
        c = new SharedCheck(key, spec, this.ctx);
        this.checks.set(key, c);
        c.start();
      }
      return c;
    });
  }

  private release(checks: SharedCheck[]): void {
    for (const c of checks) {
      if (c.observers.size === 0 && this.checks.get(c.key) === c) {
        this.checks.delete(c.key);
        c.stop();
      }
    }
  }

  private attemptFailed(c: SharedCheck, reason: string, retrying: boolean): void {
    if (this.listenerCount('failure') === 0) return;
    const servers: FailureEvent['servers'] = [];
    for (const o of c.observers) {
      const e = o as ServerEntry;
      servers.push({ vs: e.host.id, server: e.id });
    }
    this.emit('failure', {
      check: c.name,
      checker: c.spec.checker,
      ip: c.spec.ip,
      port: c.spec.port,
      reason,
      retrying,
      servers,
      at: this.wallClock(),
    });
  }
}
