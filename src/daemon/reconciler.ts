// The reconciler: makes the kernel's IPVS table what lbd wants, as a minimal diff applied through the
// batch path, never a flush.
// - On start it adopts the kernel's table: services already as configured are left alone (counters,
//   connections and all), so a restart under traffic changes nothing.
// - On a change (reload, health decision, drain) it diffs what it last applied against what it wants
//   now, for the services that changed only: no kernel dump and no walk of the whole table, so one
//   changed real server costs one kernel operation and time independent of the table's size.
// - Periodically (and after any failed operation) it dumps the kernel and repairs drift: changes made
//   behind its back, e.g. `ipvsadm -d`.
// It owns only the services it manages (those in the configuration, and those it created before, kept in
// a state file across restarts); other services in the kernel are left untouched.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeOperation, diff, serviceId, type Ipvs, type Operation, type VirtualService } from '../ipvs';
import type { Logger } from './logger';

export interface ReconcileEvent {
  type: 'reconcile';
  reason: string;
  operations: number;
  failed: number;
  /** The operations applied (ipvsadm-like descriptions), at most 20. */
  changes: string[];
  durationMs: number;
}

export interface ReconcilerStats {
  /** Operations applied, by kind (add-service, edit-destination, ...). */
  operations: Record<string, number>;
  errors: number;
  driftRepaired: number;
  lastApplyMs: number;
  passes: number;
}

/** What lbd wants in the kernel now (config x health x drains). */
export interface DesiredSource {
  /** Every service. */
  all(): VirtualService[];
  /** The wanted services among these service ids (an id not returned is not wanted). */
  some(ids: ReadonlySet<string>): VirtualService[];
}

export interface ReconcilerOptions {
  desired: DesiredSource;
  log: Logger;
  /** Called after every pass that changed something or failed. */
  onEvent?: (e: ReconcileEvent) => void;
  /** Where the set of managed services is kept across restarts (default: none). */
  stateFile?: string;
}

type IpvsLike = Pick<Ipvs, 'table' | 'apply'>;

export class Reconciler {
  readonly stats: ReconcilerStats = {
    operations: {},
    errors: 0,
    driftRepaired: 0,
    lastApplyMs: 0,
    passes: 0,
  };
  /** The table as lbd last made it (its own view of the kernel) by service id, undefined until adopted. */
  private applied: Map<string, VirtualService> | undefined;
  private managed: Set<string>;
  private needsDump = true;
  private queue: Promise<void> = Promise.resolve();
  private pendingReasons: string[] = [];
  /** Service ids changed since the last pass; 'all' for a whole-table pass. */
  private pendingIds: Set<string> | 'all' = new Set();
  private scheduled = false;

  constructor(
    private readonly ipvs: IpvsLike,
    private readonly opts: ReconcilerOptions,
  ) {
    this.managed = readManaged(opts.stateFile);
  }

  /**
   * Asks for a pass over the services with these ids (all services when omitted); requests arriving
   * together are served by one pass. Resolves when it has run.
   */
  request(reason: string, ids?: Iterable<string>): Promise<void> {
    this.pendingReasons.push(reason);
    if (ids === undefined) this.pendingIds = 'all';
    else if (this.pendingIds !== 'all') for (const id of ids) this.pendingIds.add(id);
    if (!this.scheduled) {
      this.scheduled = true;
      this.queue = this.queue.then(() => {
        this.scheduled = false;
        const reasons = [...new Set(this.pendingReasons)].join(', ');
        const pending = this.pendingIds;
        this.pendingReasons = [];
        this.pendingIds = new Set();
        return this.pass(reasons, this.needsDump, pending);
      });
    }
    return this.queue;
  }

  /** Dumps the kernel and repairs whatever differs from what lbd wants (start-up adoption, drift). */
  checkDrift(reason = 'drift check'): Promise<void> {
    this.queue = this.queue.then(() => this.pass(reason, true, 'all'));
    return this.queue;
  }

  private async pass(reason: string, dump: boolean, ids: Set<string> | 'all'): Promise<void> {
    const t0 = performance.now();
    const whole = dump || ids === 'all' || this.applied === undefined;
    const desired = whole ? this.opts.desired.all() : this.opts.desired.some(ids);
    const desiredIds = new Set(desired.map((s) => serviceId(s.key)));
    let current: VirtualService[];
    if (dump || this.applied === undefined) {
      const table = await this.ipvs.table();
      current = table.filter((s) => {
        const id = serviceId(s.key);
        return this.managed.has(id) || desiredIds.has(id);
      });
    } else if (whole) {
      current = [...this.applied.values()];
    } else {
      current = [];
      for (const id of ids as Set<string>) {
        const s = this.applied.get(id);
        if (s) current.push(s);
      }
    }
    const ops = diff(current, desired);
    const drift = dump && this.applied !== undefined;
    let failed = 0;
    if (ops.length > 0) {
      const results = await this.ipvs.apply(ops);
      results.forEach((r, i) => {
        const op = ops[i];
        if (r.ok) {
          this.stats.operations[op.op] = (this.stats.operations[op.op] ?? 0) + 1;
          if (drift) {
            this.stats.driftRepaired++;
            this.opts.log.warn(
              { op: describeOperation(op) },
              `repaired a change made behind lbd's back: ${describeOperation(op)}`,
            );
          }
        } else {
          failed++;
          this.stats.errors++;
          this.opts.log.error({ op: describeOperation(op), errno: r.error.errno }, r.error.message);
        }
      });
    }
    // After a failure lbd's view is uncertain: the next pass reads the kernel again.
    this.needsDump = failed > 0;
    if (whole || this.applied === undefined) {
      this.applied = new Map(desired.map((s) => [serviceId(s.key), s]));
      this.updateManaged(desiredIds, undefined, ops, failed);
    } else {
      for (const id of ids as Set<string>) this.applied.delete(id);
      for (const s of desired) this.applied.set(serviceId(s.key), s);
      this.updateManaged(desiredIds, ids as Set<string>, ops, failed);
    }
    const durationMs = performance.now() - t0;
    this.stats.passes++;
    this.stats.lastApplyMs = durationMs;
    if (ops.length > 0 || failed > 0) {
      this.opts.log.info(
        { reason, operations: ops.length, failed, ms: Math.round(durationMs * 10) / 10 },
        'applied IPVS changes',
      );
      this.opts.onEvent?.({
        type: 'reconcile',
        reason,
        operations: ops.length,
        failed,
        changes: ops.slice(0, 20).map((op: Operation) => describeOperation(op)),
        durationMs,
      });
    }
  }

  /** Services lbd still manages: what it wants, plus those it failed to delete. `scope`: the ids a partial
   * pass looked at (the others keep their state); undefined for a whole-table pass. */
  private updateManaged(
    desiredIds: Set<string>,
    scope: Set<string> | undefined,
    ops: readonly Operation[],
    failed: number,
  ): void {
    const failedDeletes = new Set<string>();
    if (failed > 0) {
      for (const op of ops) if (op.op === 'delete-service') failedDeletes.add(serviceId(op.key));
    }
    if (!scope) {
      const next = new Set([...desiredIds, ...failedDeletes]);
      const same = next.size === this.managed.size && [...next].every((id) => this.managed.has(id));
      this.managed = next;
      if (!same) writeManaged(this.opts.stateFile, next);
      return;
    }
    // A partial pass decides only for the ids it looked at (what it wants and failed to delete is among
    // them): the others keep their state, without a walk of the whole set.
    let changed = false;
    for (const id of scope) {
      const want = desiredIds.has(id) || failedDeletes.has(id);
      if (want === this.managed.has(id)) continue;
      changed = true;
      if (want) this.managed.add(id);
      else this.managed.delete(id);
    }
    if (changed) writeManaged(this.opts.stateFile, this.managed);
  }
}

function readManaged(file: string | undefined): Set<string> {
  if (!file) return new Set();
  try {
    const ids = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    return new Set(Array.isArray(ids) ? ids.filter((x): x is string => typeof x === 'string') : []);
  } catch {
    return new Set();
  }
}

function writeManaged(file: string | undefined, ids: Set<string>): void {
  if (!file) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify([...ids].sort()));
  fs.renameSync(tmp, file);
}
