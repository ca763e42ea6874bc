// The IPVS client lbd uses: reads (info, timeouts, services, real servers, daemons, the whole table),
// single operations that throw typed errors, and apply(): a pipelined batch with one result per operation.
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { constants } from 'node:os';
import {
  decodeDaemon,
  decodeDestinations,
  decodeInfo,
  decodeService,
  decodeTimeouts,
  decodeVirtualService,
  IpvsEncoder,
  serviceFamily,
} from './codec';
import { IPVS_GENL_NAME, NLMSG_ERROR } from './constants';
import { describeService, IpvsError, IpvsUnavailableError, operationError, readError } from './errors';
import { MessageWriter, messages, NetlinkFormatError } from './netlink';
import { GenlTransport, type ExchangeReply } from './transport';
import type {
  Daemon,
  DaemonState,
  Destination,
  DestinationEntry,
  Info,
  Operation,
  Service,
  ServiceEntry,
  ServiceKey,
  Timeouts,
  VirtualServiceEntry,
} from './types';
import type { IpAddress, Port } from './address';

export type OperationResult = { readonly ok: true } | { readonly ok: false; readonly error: IpvsError };

export interface IpvsOptions {
  /** How long a request may wait for the kernel, ms. */
  timeoutMs?: number;
  /** Manage the IPVS of another network namespace (a path like /run/netns/NAME). */
  netns?: string;
}

export interface ApplyOptions {
  /** Messages per sendmsg (default 256). */
  window?: number;
  /** At most this many operations are handed to the native side at a time; encoding of the next chunk
   * overlaps the kernel's work on this one (default 1024). */
  chunk?: number;
  /** Encoding yields to the event loop after this many milliseconds (default 10). */
  sliceMs?: number;
}

const E = constants.errno;

export class Ipvs {
  /** Where the last table() spent its time: the service dump (kernel and socket), waiting for the real
   * server dumps (off the event loop) and decoding (overlapping the dumps). */
  lastTableTimings = { servicesMs: 0, destinationsMs: 0, decodeMs: 0 };

  /** A second socket for table()'s real server dumps (opened by the first table()): a socket runs one
   * dump at a time, so two of them keep both of the kernel's and the thread pool's CPUs busy. */
  private reader: GenlTransport | undefined;

  private constructor(
    private readonly transport: GenlTransport,
    private readonly enc: IpvsEncoder,
    /** The generic netlink family id of "IPVS" in this kernel. */
    readonly familyId: number,
    private readonly options: IpvsOptions,
  ) {}

  /** Opens a socket and resolves the IPVS family (which loads ip_vs when the kernel can). */
  static async open(options: IpvsOptions = {}): Promise<Ipvs> {
    const t = new GenlTransport(options.timeoutMs, options.netns);
    try {
      const fam = await t.resolveFamily(IPVS_GENL_NAME);
      if (fam.error === E.ENOENT) {
        throw new IpvsUnavailableError(
          "kernel has no IPVS: no 'IPVS' generic netlink family (the ip_vs module is missing or could not be loaded)",
          fam.error,
          'resolve-family',
          'IPVS generic netlink family',
        );
      }
      if (fam.error !== 0)
        throw readError('resolve-family', 'IPVS generic netlink family', fam.error, fam.message);
      return new Ipvs(t, new IpvsEncoder(fam.id), fam.id, options);
    } catch (e) {
      t.close();
      throw e;
    }
  }

  close(): void {
    this.transport.close();
    this.reader?.close();
  }

  /** The encoder for this kernel's family id (for callers building their own batches, and tests). */
  get encoder(): IpvsEncoder {
    return this.enc;
  }

  /** The second socket; the first one alone when a second cannot be opened (out of descriptors). */
  private readerTransport(): GenlTransport {
    if (this.reader === undefined) {
      try {
        this.reader = new GenlTransport(this.options.timeoutMs, this.options.netns);
      } catch {
        return this.transport;
      }
    }
    return this.reader;
  }

  private async one(build: (w: MessageWriter) => void): Promise<ExchangeReply> {
    const w = new MessageWriter(512);
    build(w);
    return this.transport.exchange(w.take());
  }

  private dataMessages(r: ExchangeReply, i: number) {
    return messages(r.data, r.offsets[i], r.offsets[i] + r.lengths[i]);
  }

  private decodeOrThrow<T>(what: string, f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof NetlinkFormatError || e instanceof TypeError) {
        throw new IpvsError(
          `unexpected kernel reply to ${what}: ${e.message}`,
          E.EPROTO,
          what,
          'kernel reply',
        );
      }
      throw e;
    }
  }

  async info(): Promise<Info> {
    const r = await this.one((w) => this.enc.getInfo(w));
    if (r.errors[0] !== 0) throw readError('get-info', 'IPVS information', r.errors[0], r.messages[0]);
    for (const m of this.dataMessages(r, 0))
      return this.decodeOrThrow('get-info', () => decodeInfo(r.data, m));
    throw new IpvsError('no reply to get-info', E.EPROTO, 'get-info', 'IPVS information');
  }

  async timeouts(): Promise<Timeouts> {
    const r = await this.one((w) => this.enc.getTimeouts(w));
    if (r.errors[0] !== 0) throw readError('get-timeouts', 'connection timeouts', r.errors[0], r.messages[0]);
    for (const m of this.dataMessages(r, 0))
      return this.decodeOrThrow('get-timeouts', () => decodeTimeouts(r.data, m));
    throw new IpvsError('no reply to get-timeouts', E.EPROTO, 'get-timeouts', 'connection timeouts');
  }

  async services(): Promise<ServiceEntry[]> {
    const r = await this.one((w) => this.enc.dumpServices(w));
    if (r.errors[0] !== 0) throw readError('dump-services', 'virtual services', r.errors[0], r.messages[0]);
    const out: ServiceEntry[] = [];
    for (const m of this.dataMessages(r, 0))
      out.push(this.decodeOrThrow('dump-services', () => decodeService(r.data, m)));
    return out;
  }

  /** One service, or null when it does not exist. */
  async service(key: ServiceKey): Promise<ServiceEntry | null> {
    const r = await this.one((w) => this.enc.getService(w, key));
    if (r.errors[0] === E.ESRCH || r.errors[0] === E.ENOENT) return null;
    const object = `virtual service ${describeService(key)}`;
    if (r.errors[0] !== 0) throw readError('get-service', object, r.errors[0], r.messages[0]);
    for (const m of this.dataMessages(r, 0))
      return this.decodeOrThrow('get-service', () => decodeService(r.data, m));
    return null;
  }

  async destinations(key: ServiceKey): Promise<DestinationEntry[]> {
    const r = await this.one((w) => this.enc.dumpDestinations(w, key));
    const object = `virtual service ${describeService(key)}`;
    if (r.errors[0] !== 0) throw readError('dump-destinations', object, r.errors[0], r.messages[0]);
    return this.decodeOrThrow('dump-destinations', () =>
      decodeDestinations(r.data, r.offsets[0], r.offsets[0] + r.lengths[0], serviceFamily(key)),
    );
  }

  /** Every service with its real servers: one service dump, then the services' real server dumps in
   * native calls of `chunk` services each, pipelined: two chunks are dumped at a time, on two sockets
   * (the kernel runs one dump at a time per socket), while the event loop decodes the next chunk's
   * services and the previous chunk's real servers. */
  async table(chunk = 500): Promise<VirtualServiceEntry[]> {
    const t0 = performance.now();
    const sr = await this.one((w) => this.enc.dumpServices(w));
    if (sr.errors[0] !== 0)
      throw readError('dump-services', 'virtual services', sr.errors[0], sr.messages[0]);
    const t1 = performance.now();
    const serviceMessages = this.dataMessages(sr, 0);
    type Filled = VirtualServiceEntry & { readonly destinations: DestinationEntry[] };
    const nextServices = (): Filled[] => {
      const out: Filled[] = [];
      while (out.length < chunk) {
        const n = serviceMessages.next();
        if (n.done) break;
        out.push(this.decodeOrThrow('dump-services', () => decodeVirtualService(sr.data, n.value)));
      }
      return out;
    };
    let sent = 0;
    const request = (services: ServiceEntry[]): Promise<ExchangeReply> => {
      const w = new MessageWriter(services.length * 72);
      for (const s of services) this.enc.dumpDestinations(w, s.key);
      // Chunks alternate between the two sockets: each has one chunk in flight at most.
      const t = sent++ % 2 === 0 ? this.transport : this.readerTransport();
      const reply = t.exchange(w.take());
      reply.catch(() => undefined); // awaited below, unless an earlier chunk's error ends the dump
      return reply;
    };
    let waited = 0;
    const out: VirtualServiceEntry[] = [];
    let cur = nextServices();
    let pending = cur.length > 0 ? request(cur) : undefined;
    let next = cur.length > 0 ? nextServices() : [];
    let pendingNext = next.length > 0 ? request(next) : undefined;
    while (pending !== undefined) {
      const after = nextServices(); // while the thread pool dumps `cur` and `next`
      const w0 = performance.now();
      const r = await pending;
      waited += performance.now() - w0;
      pending = pendingNext;
      pendingNext = after.length > 0 ? request(after) : undefined;
      for (let k = 0; k < cur.length; k++) {
        const s = cur[k];
        // A service deleted between the two dumps: skip it (ESRCH), as the table changed meanwhile.
        if (r.errors[k] === E.ESRCH) continue;
        if (r.errors[k] !== 0) {
          throw readError(
            'dump-destinations',
            `virtual service ${describeService(s.key)}`,
            r.errors[k],
            r.messages[k],
          );
        }
        this.decodeOrThrow('dump-destinations', () =>
          decodeDestinations(
            r.data,
            r.offsets[k],
            r.offsets[k] + r.lengths[k],
            serviceFamily(s.key),
            s.destinations,
          ),
        );
        out.push(s);
      }
      cur = next;
      next = after;
    }
    const total = performance.now() - t1;
    this.lastTableTimings = { servicesMs: t1 - t0, destinationsMs: waited, decodeMs: total - waited };
    return out;
  }

  async daemons(): Promise<Daemon[]> {
    const r = await this.one((w) => this.enc.dumpDaemons(w));
    if (r.errors[0] !== 0) throw readError('dump-daemons', 'sync daemons', r.errors[0], r.messages[0]);
    const out: Daemon[] = [];
    for (const m of this.dataMessages(r, 0)) {
      if (m.type === NLMSG_ERROR) continue;
      out.push(this.decodeOrThrow('dump-daemons', () => decodeDaemon(r.data, m)));
    }
    return out;
  }

  /** Runs one operation; throws its IpvsError. */
  async run(op: Operation): Promise<void> {
    const r = await this.one((w) => this.enc.operation(w, op));
    if (r.errors[0] !== 0) throw operationError(op, r.errors[0], r.messages[0]);
  }

  addService(service: Service): Promise<void> {
    return this.run({ op: 'add-service', service });
  }
  editService(service: Service): Promise<void> {
    return this.run({ op: 'edit-service', service });
  }
  deleteService(key: ServiceKey): Promise<void> {
    return this.run({ op: 'delete-service', key });
  }
  addDestination(service: ServiceKey, destination: Destination): Promise<void> {
    return this.run({ op: 'add-destination', service, destination });
  }
  editDestination(service: ServiceKey, destination: Destination): Promise<void> {
    return this.run({ op: 'edit-destination', service, destination });
  }
  deleteDestination(service: ServiceKey, address: IpAddress, port: Port): Promise<void> {
    return this.run({ op: 'delete-destination', service, address, port });
  }
  /** Zeroes the counters of one service, or of all. */
  zero(service?: ServiceKey): Promise<void> {
    return this.run(service ? { op: 'zero', service } : { op: 'zero' });
  }
  flush(): Promise<void> {
    return this.run({ op: 'flush' });
  }
  setTimeouts(timeouts: Timeouts): Promise<void> {
    return this.run({ op: 'set-timeouts', timeouts });
  }
  startDaemon(daemon: Daemon): Promise<void> {
    return this.run({ op: 'start-daemon', daemon });
  }
  stopDaemon(state: DaemonState): Promise<void> {
    return this.run({ op: 'stop-daemon', state });
  }

  /** Applies operations in order, pipelined (many per sendmsg, no per-operation round trip); one result
   * per operation. A failed operation does not stop the later ones (those depending on it fail too). */
  async apply(ops: readonly Operation[], options: ApplyOptions = {}): Promise<OperationResult[]> {
    const chunk = Math.max(1, options.chunk ?? 1024);
    const sliceMs = options.sliceMs ?? 10;
    const results: OperationResult[] = new Array<OperationResult>(ops.length);
    // Encodes from `from` up to `chunk` operations, or fewer when the slice of event-loop time is used up.
    const encode = (from: number) => {
      const w = new MessageWriter(Math.min(ops.length - from, chunk) * 200);
      const t0 = performance.now();
      let to = from;
      while (to < ops.length && to - from < chunk) {
        this.enc.operation(w, ops[to++]);
        if ((to & 15) === 0 && performance.now() - t0 > sliceMs) break;
      }
      return { buf: w.take(), from, to };
    };
    let next = ops.length > 0 ? encode(0) : undefined;
    while (next !== undefined) {
      const cur = next;
      const running = this.transport.batch(cur.buf, options.window);
      // Encode the next chunk while the kernel works on this one.
      next = cur.to < ops.length ? (await yieldToLoop(), encode(cur.to)) : undefined;
      const r = await running;
      for (let k = 0; k < r.errors.length; k++) {
        const errno = r.errors[k];
        const i = cur.from + k;
        results[i] = errno === 0 ? OK : { ok: false, error: operationError(ops[i], errno, r.messages[k]) };
      }
    }
    return results;
  }
}

const OK: OperationResult = Object.freeze({ ok: true });

/** Throws the first failure of apply() results, mentioning how many failed. */
export function throwOnFailure(results: readonly OperationResult[]): void {
  const failed = results.filter((r): r is { ok: false; error: IpvsError } => !r.ok);
  if (failed.length === 0) return;
  const first = failed[0].error;
  const more = failed.length > 1 ? ` (and ${failed.length - 1} more failures)` : '';
  throw new IpvsError(
    `${first.message}${more}`,
    first.errno,
    first.operation,
    first.object,
    first.kernelMessage,
  );
}
