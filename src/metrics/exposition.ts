// The exposition-format pieces shared by the per-object series (IPVS, health) that lbd writes itself
// rather than through prom-client: a byte writer, and families rendered as sample lines once, with the
// HELP/TYPE header of either format (Prometheus text 0.0.4 or OpenMetrics 1.0) put in front when served.
// The sample lines are the same in both formats (OpenMetrics counters keep their _total samples; only
// the family name in the header loses the suffix).

export type Kind = 'counter' | 'gauge';

export interface FamilyInfo {
  /** Full sample name (counters end in _total). */
  readonly name: string;
  readonly kind: Kind;
  readonly help: string;
}

/** One family's sample lines, and its two headers. */
export interface RenderedFamily {
  readonly text: Buffer;
  readonly openMetrics: Buffer;
  readonly body: Buffer;
  readonly series: number;
}

const headers = new Map<string, { text: Buffer; openMetrics: Buffer }>();

function header(f: FamilyInfo): { text: Buffer; openMetrics: Buffer } {
  let h = headers.get(f.name);
  if (!h) {
    const line = (base: string) => Buffer.from(`# HELP ${base} ${f.help}\n# TYPE ${base} ${f.kind}\n`);
    const om = f.kind === 'counter' ? f.name.replace(/_total$/, '') : f.name;
    h = { text: line(f.name), openMetrics: line(om) };
    headers.set(f.name, h);
  }
  return h;
}

export function rendered(f: FamilyInfo, body: Buffer, series: number): RenderedFamily {
  const h = header(f);
  return { text: h.text, openMetrics: h.openMetrics, body, series };
}

/** The chunks of rendered families in one format, appended to `chunks`; returns their byte count. */
export function appendFamilies(
  chunks: Buffer[],
  families: readonly RenderedFamily[],
  openMetrics: boolean,
): number {
  let bytes = 0;
  for (const f of families) {
    const h = openMetrics ? f.openMetrics : f.text;
    chunks.push(h, f.body);
    bytes += h.length + f.body.length;
  }
  return bytes;
}

/** Label values escaped for the exposition format. */
export function escapeLabel(v: string): string {
  return /[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;
}

/** The memory a snapshot's families are written into: one large buffer (recycled from an earlier
 * snapshot no response uses any more, when the collector has one), and more only when it fills up. */
export class Arena {
  /** Every buffer written into, the current one last. */
  readonly buffers: Buffer[] = [];
  buf: Buffer;
  off = 0;
  constructor(first: Buffer | number) {
    this.buf = typeof first === 'number' ? Buffer.allocUnsafe(Math.max(first, 4096)) : first;
    this.buffers.push(this.buf);
  }
  /** Bytes written. */
  get used(): number {
    let n = this.off;
    for (let i = 0; i < this.buffers.length - 1; i++) n += this.buffers[i].length;
    return n;
  }
  /** Moves on to a new buffer with room for `n` bytes, carrying over the bytes from `keep` on. */
  grow(n: number, keep: number): void {
    const carried = this.off - keep;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, carried + n));
    this.buf.copy(next, 0, keep, this.off);
    this.buf = next;
    this.off = carried;
    this.buffers.push(next);
  }
}

/** Writes one family's sample lines into an arena. */
export class Writer {
  private buf: Buffer;
  private off: number;
  private start: number;
  constructor(
    private readonly arena: Arena,
    estimate: number,
  ) {
    if (arena.off + estimate > arena.buf.length) arena.grow(estimate, arena.off);
    this.buf = arena.buf;
    this.off = this.start = arena.off;
  }
  private ensure(n: number): void {
    if (this.off + n <= this.buf.length) return;
    this.arena.off = this.off;
    this.arena.grow(n, this.start);
    this.buf = this.arena.buf;
    this.off = this.arena.off;
    this.start = 0;
  }
  /** A sample line's name and labels (`name{...} `), both prebuilt. */
  sample(name: Buffer, labels: Buffer): void {
    const n = name.length + labels.length;
    if (this.off + n + 32 > this.buf.length) this.ensure(n + 32);
    this.buf.set(name, this.off); // TypedArray.set: a V8 builtin, no call into C++
    this.buf.set(labels, this.off + name.length);
    this.off += n;
  }
  /** A value and the newline: integers up to 2^53 digit by digit, anything else through String. */
  value(v: number): void {
    this.ensure(32);
    const buf = this.buf;
    if (v >= 0 && v <= 9007199254740991 && Math.floor(v) === v) {
      let digits = 1;
      for (let x = v; x >= 10; x = Math.floor(x / 10)) digits++;
      let at = this.off + digits;
      this.off = at;
      if (v < 2147483648) {
        let x = v;
        do {
          const q = (x / 10) | 0;
          buf[--at] = 48 + (x - q * 10);
          x = q;
        } while (x > 0);
      } else {
        let x = v;
        do {
          const q = Math.floor(x / 10);
          buf[--at] = 48 + (x - q * 10);
          x = q;
        } while (x > 0);
      }
    } else {
      this.off += buf.write(num(v), this.off, 'latin1');
    }
    buf[this.off++] = 10;
  }
  /** The family's bytes (a view into the arena, which moves past them). */
  take(): Buffer {
    this.arena.off = this.off;
    return this.buf.subarray(this.start, this.off);
  }
}

function num(v: number): string {
  return Number.isFinite(v) ? String(v) : v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN';
}
