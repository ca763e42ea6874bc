/**
 * Loading a keepalived.conf again after an edit, re-reading only what changed: the daemon's reload.
 *
 * The main file is cut into segments, one per top-level statement (with the comment lines before it).
 * On the next load the changed byte range is found against the previous text; only the segments it
 * touches (and their neighbours, those that include other files, and those that are not a single
 * virtual_server when lines moved) are parsed again. A virtual_server segment that did not change is
 * not parsed, mapped or built again: its model object is reused as it was (the same object, so that the
 * daemon can skip it), with its diagnostics and host facts moved by the lines the edit added or removed.
 * The checks across blocks (duplicates, groups, references) run over the whole configuration every time.
 *
 * The result equals a full load (validateConfigFile); whatever the segments cannot stand for (lines with
 * '@', '$' or '~', two statements on one line, a range that leaves a block open, YAML, non-ASCII text,
 * diagnostics in several files) falls back to reading the whole file.
 */
import { isAscii } from 'node:buffer';
import { type HostFact, VirtualServerStream, buildConfig } from './build/index';
import { duplicateKey } from './build/lvs';
import { type Diagnostic, Diagnostics, type Position } from './diagnostics';
import { KeepalivedMapper } from './keepalived/map';
import { type SegmentTrack, type Statement, parseKeepalivedRange } from './keepalived/parse';
import {
  type LoadOptions,
  type ValidationResult,
  defaultConfigId,
  detectFormat,
  validateConfigFile,
  validationResult,
} from './load';
import type { VirtualServer } from './model';
import { readInto } from './read-into';
import { SourceFiles } from './source';

/** A virtual_server segment as built: everything a full load would report for it. */
interface BuiltServer {
  vs: VirtualServer | undefined;
  /** Where its keyword is written. */
  pos: Position;
  diags: Diagnostic[];
  facts: HostFact[];
}

interface Segment {
  /** First line (1-based) and offsets [start, end) in the file. */
  startLine: number;
  start: number;
  end: number;
  statements: Statement[];
  include: boolean;
  parseDiags: Diagnostic[];
  /** Set when the segment is one virtual_server of the main file, built alone: reusable. */
  built?: BuiltServer;
}

interface State {
  file: string;
  configId: string;
  buf: Buffer;
  /** Where the first HEAD_LINES lines of buf end (what the format is told by). */
  head: number;
  segments: Segment[];
  /** Beside each segment, the virtual server it stands for when it is plain (see isPlain). */
  vsAt: Array<VirtualServer | undefined>;
  /** The indexes of the segments that are not plain, in order (few: global_defs, vrrp_instance ...). */
  nonPlain: number[];
  /**
   * How far the segments moved since their offsets and lines were written in them (see Shift): an edit
   * that adds or removes bytes or lines does not step through the thousands of segments after it.
   */
  shifts: Shift[];
  logAll: boolean;
  /** The keys of the virtual servers kept in segments. */
  keys: DuplicateIndex;
  /** Virtual servers built apart (includes, groups, several statements): built again on each load. */
  fresh: VirtualServer[];
  /** How many segments include other files. */
  includes: number;
}

/**
 * The segments from index `from` on (up to the next Shift) are `off` bytes and `line` lines further than
 * their offsets, lines and positions say.
 */
interface Shift {
  from: number;
  off: number;
  line: number;
}

/** More than this many shifts are written into the segments (one walk for many reloads). */
const MAX_SHIFTS = 32;

const NO_SHIFT: Shift = { from: 0, off: 0, line: 0 };

/** The shift of the segment at index k. */
function shiftAt(shifts: readonly Shift[], k: number): Shift {
  let i = shifts.length - 1;
  while (i >= 0 && shifts[i].from > k) i--;
  return i < 0 ? NO_SHIFT : shifts[i];
}

/** Writes the shifts into the segments (their offsets, lines and positions are then what they say). */
function applyShifts(segments: readonly Segment[], shifts: readonly Shift[]): void {
  for (let i = 0; i < shifts.length; i++) {
    const { from, off, line } = shifts[i];
    const to = i + 1 < shifts.length ? shifts[i + 1].from : segments.length;
    if (off !== 0 || line !== 0) for (let k = from; k < to; k++) move(segments[k], off, line);
  }
}

/** The virtual server objects a load added and removed against the previous one. */
export interface ModelChange {
  added: VirtualServer[];
  removed: VirtualServer[];
}

export interface IncrementalStats {
  /** The whole file was parsed (first load, or a fallback). */
  full: boolean;
  /** Segments parsed again, and reused as they were. */
  parsed: number;
  reused: number;
}

/** Why segments cannot be used: the whole file is read instead. */
class Fallback extends Error {}

export class IncrementalLoader {
  private state: State | undefined;
  private readonly buffers: Buffer[] = [];
  lastStats: IncrementalStats = { full: true, parsed: 0, reused: 0 };
  /**
   * After an incremental load: which virtual server objects are new and which are gone (every other one
   * is the same object as before). Undefined after a full load: compare everything.
   */
  lastChange: ModelChange | undefined;

  constructor(private readonly opts: LoadOptions = {}) {}

  /** Loads the file: the same result as validateConfigFile(file, opts), reusing what did not change. */
  load(file: string): ValidationResult {
    let buf: Buffer;
    try {
      buf = this.read(file);
    } catch {
      return this.full(file);
    }
    // The previous text was ASCII: only what differs from it needs a look.
    const prev = this.state?.file === file ? this.state.buf : undefined;
    const edit = prev ? findEdit(prev, buf) : undefined;
    if (!isAscii(edit ? buf.subarray(edit.prefix, buf.length - edit.suffix) : buf)) return this.full(file);
    // The lines the format is told by did not change (the previous text had them all): it is the previous
    // load's (kept only for keepalived).
    const h = this.state?.head ?? 0;
    const known = prev && edit && edit.prefix >= h && h < prev.length ? h : undefined;
    const head = known ?? headEnd(buf, HEAD_LINES);
    const format =
      this.opts.format ??
      (known !== undefined ? 'keepalived' : detectFormat(buf.toString('latin1', 0, head), file));
    if (format !== 'keepalived') return this.full(file);
    const configId = defaultConfigId(this.opts.configId);
    const old = this.state?.file === file && this.state.configId === configId ? this.state : undefined;
    try {
      if (old) {
        try {
          if (edit) return this.pass(file, buf, head, configId, old, edit);
        } catch (err) {
          if (!(err instanceof Fallback)) throw err;
        }
      }
      return this.pass(file, buf, head, configId, undefined);
    } catch (err) {
      if (!(err instanceof Fallback)) throw err;
      return this.full(file);
    }
  }

  /** The file's bytes, read into one of two buffers kept from load to load (the other holds the previous
   * text). */
  private read(file: string): Buffer {
    const inUse = this.state?.buf.buffer;
    let i = this.buffers.findIndex((b) => b.buffer !== inUse);
    if (i < 0) i = this.buffers.push(Buffer.allocUnsafeSlow(0)) - 1;
    return readInto(
      file,
      this.buffers[i],
      (size) => (this.buffers[i] = Buffer.allocUnsafeSlow(size + (size >> 3) + 4096)),
    );
  }

  private full(file: string): ValidationResult {
    this.state = undefined;
    this.lastStats = { full: true, parsed: 0, reused: 0 };
    this.lastChange = undefined;
    return validateConfigFile(file, this.opts);
  }

  /** One load: with old, only the changed segments are parsed; without, the whole file (recording them). */
  private pass(
    file: string,
    buf: Buffer,
    head: number,
    configId: string,
    old: State | undefined,
    edit?: Edit,
  ): ValidationResult {
    const files = new SourceFiles();
    files.paths.push(file);
    const plan: Plan =
      old && edit
        ? planSegments(old, buf, edit)
        : { items: [{ range: { from: 0, to: buf.length, lineBase: 0 } }], dropped: [] };
    // Runs of kept segments are joined by concat (no step per segment: a reload keeps thousands), and
    // so is what stands beside them. `slow`: the segments assemble() takes one by one.
    let segments: Segment[] = [];
    let vsAt: Array<VirtualServer | undefined> = [];
    const slow: number[] = [];
    let shifts: Shift[] = [];
    const shiftFrom = (from: number, off: number, line: number) => {
      const last = shifts.length > 0 ? shifts[shifts.length - 1] : NO_SHIFT;
      if (last.off === off && last.line === line) return;
      if (shifts.length > 0 && last.from === from) shifts.pop();
      shifts.push({ from, off, line });
    };
    let parsed = 0;
    let includes = old ? old.includes - countIncludes(plan.dropped) : 0;
    let standalone = true;
    const join = <T>(to: T[], more: T[]): T[] => (to.length === 0 ? more : to.concat(more));
    for (const item of plan.items) {
      if ('keep' in item) {
        const { first, end, off, line } = item.keep;
        const at = segments.length;
        // The run's shifts, moved to its new indexes and by what the edit added or removed before it.
        const os = old!.shifts;
        const c = shiftAt(os, first);
        shiftFrom(at, c.off + off, c.line + line);
        for (const sh of os)
          if (sh.from > first && sh.from < end) shiftFrom(at + sh.from - first, sh.off + off, sh.line + line);
        segments = join(segments, old!.segments.slice(first, end));
        vsAt = join(vsAt, old!.vsAt.slice(first, end));
        const np = old!.nonPlain;
        for (let k = firstWhere(np.length, (j) => np[j] >= first); k < np.length && np[k] < end; k++)
          slow.push(at + np[k] - first);
        continue;
      }
      const got = parseRange(file, buf, item.range, files, configId);
      // A part of the file that does not stand alone must be read with the rest; the whole file is
      // read right, but its segments are not kept.
      if (!got.standalone && old) throw new Fallback();
      standalone &&= got.standalone;
      parsed += got.segments.length;
      includes += countIncludes(got.segments);
      for (let k = 0; k < got.segments.length; k++) slow.push(segments.length + k);
      shiftFrom(segments.length, 0, 0);
      segments = join(segments, got.segments);
      vsAt = join(vsAt, new Array<VirtualServer | undefined>(got.segments.length).fill(undefined));
    }
    const keys = old?.keys ?? new DuplicateIndex();
    for (const seg of plan.dropped) if (seg.built?.vs) keys.remove(seg.built.vs);
    const r = this.assemble(file, segments, vsAt, slow, shifts, files, old, keys);
    if (shifts.length > MAX_SHIFTS) {
      applyShifts(segments, shifts);
      shifts = [];
    }
    this.state = standalone
      ? {
          file,
          configId,
          buf,
          head,
          segments,
          vsAt,
          nonPlain: r.nonPlain,
          shifts,
          logAll: r.logAll,
          keys,
          fresh: r.fresh,
          includes,
        }
      : undefined;
    this.lastStats = { full: old === undefined, parsed, reused: segments.length - parsed };
    this.lastChange =
      old && r.checkedAlone
        ? {
            added: r.added,
            removed: [...plan.dropped.flatMap((seg) => (seg.built?.vs ? [seg.built.vs] : [])), ...old.fresh],
          }
        : undefined;
    return r.result;
  }

  /**
   * Builds the configuration from the segments: those at the indexes in `slow` (in order) one by one,
   * the runs of plain ones between them at once (their virtual servers in vsAt). Sets vsAt beside the
   * slow ones that end up plain, and returns those that do not.
   */
  private assemble(
    file: string,
    segments: Segment[],
    vsAt: Array<VirtualServer | undefined>,
    slow: readonly number[],
    shifts: readonly Shift[],
    files: SourceFiles,
    old: State | undefined,
    keys: DuplicateIndex,
  ): {
    result: ValidationResult;
    logAll: boolean;
    nonPlain: number[];
    /** Built in this load: all new objects, and those not kept for the next load. */
    added: VirtualServer[];
    fresh: VirtualServer[];
    /** The duplicate check needed only the new ones. */
    checkedAlone: boolean;
  } {
    const diags = new Diagnostics();
    const stream = new VirtualServerStream(diags);
    const { reader, builder } = stream;
    let added: VirtualServer | 'deferred' | undefined;
    let deferred = false;
    const km = new KeepalivedMapper(diags, file, (vs) => {
      added = builder.add(vs);
      if (added === 'deferred') deferred = true;
    });
    const addedAll: VirtualServer[] = [];
    const fresh: VirtualServer[] = [];
    const nonPlain: number[] = [];
    let next = 0;
    const posAt = (k: number): Position => {
      const pos = segments[k].built!.pos;
      const line = shiftAt(shifts, k).line;
      return line === 0 ? pos : { ...pos, line: pos.line + line };
    };
    const plainRun = (end: number) => {
      const from = next;
      // A short run one by one: each run is joined by a copy of what the builder holds.
      if (end - from < 32) {
        for (let k = from; k < end; k++) builder.addBuilt(vsAt[k]!, posAt(k));
        return;
      }
      builder.addBuiltRun(vsAt.slice(from, end) as VirtualServer[], () => {
        const out: Position[] = [];
        for (let k = from; k < end; k++) out.push(posAt(k));
        return out;
      });
    };
    const one = (seg: Segment, at: number) => {
      const b = seg.built;
      if (b) {
        // Its checks already have the global log_all_failures (unchanged, or the whole file is read).
        // Its diagnostics name lines: a segment with some did not move to other lines (see movable).
        for (let i = 0; i < b.diags.length; i++) diags.add(b.diags[i]);
        const line = shiftAt(shifts, at).line;
        for (let i = 0; i < b.facts.length; i++) {
          const f = b.facts[i];
          reader.facts.push(line === 0 ? f : { ...f, pos: { ...f.pos, line: f.pos.line + line } });
        }
        if (b.vs) builder.addBuilt(b.vs, posAt(at));
        return;
      }
      for (const d of seg.parseDiags) diags.add(d);
      const mark = diags.count;
      const facts = reader.facts.length;
      const s = seg.statements[0];
      const alone =
        seg.statements.length === 1 && s.keyword === 'virtual_server' && s.file === file && !seg.include;
      for (const st of seg.statements) {
        added = undefined;
        km.add(st);
        if (added !== undefined && added !== 'deferred') {
          addedAll.push(added);
          if (!alone) fresh.push(added);
        }
      }
      if (alone && added !== 'deferred') {
        seg.built = {
          vs: added,
          pos: { file, line: s.line, column: s.column },
          diags: [...seg.parseDiags, ...diags.since(mark)],
          facts: reader.facts.slice(facts),
        };
        if (added) keys.add(added);
        // Statements are not kept once built: the model stands for them.
        seg.statements = [];
      }
    };
    for (let i = 0; i < slow.length; i++) {
      const at = slow[i];
      plainRun(at);
      next = at + 1;
      const seg = segments[at];
      one(seg, at);
      if (isPlain(seg)) vsAt[at] = seg.built!.vs;
      else nonPlain.push(at);
    }
    plainRun(segments.length);
    // The duplicate check over the whole table is needed only when the index of the kept virtual
    // servers has a key twice, or one built apart (from an include, a group) meets one.
    const checkedAlone = !deferred && keys.duplicates === 0 && !keys.meets(fresh);
    builder.noDuplicates = checkedAlone;
    const built = buildConfig(km.top, diags, stream);
    const logAllNow = built.config.global.checker_log_all_failures;
    // Reused checks took the previous global setting: a change of it needs them built again.
    if (old && old.logAll !== logAllNow) throw new Fallback();
    const result = validationResult(file, 'keepalived', built, this.opts, files, diags);
    // Diagnostics of several files are ordered by which file reported first, which only a full load knows.
    if (result.diagnostics.some((d) => d.file !== result.diagnostics[0].file)) throw new Fallback();
    return { result, logAll: logAllNow, nonPlain, added: addedAll, fresh, checkedAlone };
  }
}

/** How many kept virtual servers have each key: duplicates known without a walk of the table. */
class DuplicateIndex {
  private readonly counts = new Map<string, number>();
  /** Keys held more than once. */
  duplicates = 0;

  add(vs: VirtualServer): void {
    const k = duplicateKey(vs);
    const n = (this.counts.get(k) ?? 0) + 1;
    this.counts.set(k, n);
    if (n === 2) this.duplicates++;
  }

  remove(vs: VirtualServer): void {
    const k = duplicateKey(vs);
    const n = (this.counts.get(k) ?? 0) - 1;
    if (n <= 0) this.counts.delete(k);
    else this.counts.set(k, n);
    if (n === 1) this.duplicates--;
  }

  /** Whether these (built apart) share a key with each other or with the index. */
  meets(others: readonly VirtualServer[]): boolean {
    const seen = new Set<string>();
    for (const vs of others) {
      const k = duplicateKey(vs);
      if (this.counts.has(k) || seen.has(k)) return true;
      seen.add(k);
    }
    return false;
  }
}

/**
 * A run of previous segments kept (their indexes [first, end), moving `off` bytes and `line` lines), or a
 * range of the new text to parse again.
 */
type PlanItem =
  | { keep: { first: number; end: number; off: number; line: number } }
  | { range: { from: number; to: number; lineBase: number } };

interface Plan {
  items: PlanItem[];
  /** The previous segments that the ranges replace. */
  dropped: Segment[];
}

const countIncludes = (segs: readonly Segment[]): number => {
  let n = 0;
  for (let i = 0; i < segs.length; i++) if (segs[i].include) n++;
  return n;
};

/** The first index in [0, n) where `at(k)` holds (it holds from some index on), or n. */
function firstWhere(n: number, at: (k: number) => boolean): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (at(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * What the new text is made of: the previous segments it still has (moved in place by the bytes and
 * lines the edit added or removed), the ranges to parse again, and the segments those replace.
 */
function planSegments(old: State, buf: Buffer, edit: Edit): Plan {
  const a = old.buf;
  const p = edit.prefix;
  const q = edit.suffix;
  const oldEnd = a.length - q;
  const offDelta = buf.length - a.length;
  const lineDelta = countLines(buf, p, buf.length - q) - countLines(a, p, oldEnd);
  const same = offDelta === 0 && p === a.length;
  // The neighbours of the touched segments are parsed again only when the edit may move where blocks
  // open and close, lines end or comments and quoted strings start: a changed word or number cannot.
  const near = structural(a, p, oldEnd) || structural(buf, p, buf.length - q) ? 1 : 0;
  const segs = old.segments;
  const startOf = (x: number) => (x <= p ? x : x + offDelta);
  const endOf = (x: number) => (x >= oldEnd ? x + offDelta : x);
  const lineOf = (start: number, line: number) => (start <= p ? line : line + lineDelta);
  if (old.includes === 0 && !same) {
    // Segments are in file order: the ones the edit touches are found by two binary searches, those
    // before them are kept as they are, those after them move (a shift, not a step for each). Only a
    // segment after the edit that cannot move to other lines needs the walk below.
    const n = segs.length;
    const sh = old.shifts;
    const startAt = (k: number) => segs[k].start + shiftAt(sh, k).off;
    const endAt = (k: number) => segs[k].end + shiftAt(sh, k).off;
    const first = firstWhere(n, (k) => endAt(k) >= p);
    const last = firstWhere(n, (k) => startAt(k) > oldEnd) - 1;
    let tailMovable = first <= last;
    // Plain segments can move; the others are few.
    if (lineDelta !== 0)
      for (const k of old.nonPlain) if (k >= last + 2 && !movable(segs[k])) tailMovable = false;
    if (tailMovable) {
      // The touched segments, and their neighbours when a '{' or '}' may move across them.
      const lo = Math.max(0, first - near);
      const hi = Math.min(n - 1, last + near);
      const range = {
        from: startOf(startAt(lo)),
        to: endOf(endAt(hi)),
        lineBase: lineOf(startAt(lo), segs[lo].startLine + shiftAt(sh, lo).line) - 1,
      };
      const items: PlanItem[] = [];
      if (lo > 0) items.push({ keep: { first: 0, end: lo, off: 0, line: 0 } });
      items.push({ range });
      if (hi + 1 < n) items.push({ keep: { first: hi + 1, end: n, off: offDelta, line: lineDelta } });
      return { items, dropped: segs.slice(lo, hi + 1) };
    }
  }
  // The walk: every segment's offsets and lines as they are, then moved one by one.
  applyShifts(segs, old.shifts);
  old.shifts = [];
  const dirty = new Uint8Array(segs.length);
  for (let k = 0; k < segs.length; k++) {
    const seg = segs[k];
    if (!same && seg.end >= p && seg.start <= oldEnd) {
      // Touched by the edit: parsed again, with its neighbours when a '{' or '}' may move across them.
      dirty[k] = 1;
      if (near && k > 0) dirty[k - 1] = 1;
      if (near && k + 1 < segs.length) dirty[k + 1] = 1;
    } else if (seg.include || (lineDelta !== 0 && seg.start >= oldEnd && !movable(seg))) dirty[k] = 1;
  }
  const items: PlanItem[] = [];
  const dropped: Segment[] = [];
  let run = 0;
  for (let k = 0; k < segs.length; k++) {
    const seg = segs[k];
    if (dirty[k]) {
      let j = k;
      while (j + 1 < segs.length && dirty[j + 1]) j++;
      if (run < k) items.push({ keep: { first: run, end: k, off: 0, line: 0 } });
      items.push({
        range: {
          from: startOf(seg.start),
          to: endOf(segs[j].end),
          lineBase: lineOf(seg.start, seg.startLine) - 1,
        },
      });
      for (let i = k; i <= j; i++) dropped.push(segs[i]);
      k = j;
      run = j + 1;
      continue;
    }
    if (seg.start > p) move(seg, offDelta, lineDelta);
  }
  if (run < segs.length) items.push({ keep: { first: run, end: segs.length, off: 0, line: 0 } });
  return { items, dropped };
}

/** Bytes that shape statements and blocks: { } # ! " ' \\ @ $ ~ and line ends. */
const SHAPING = new Uint8Array(128);
for (const c of '{}#!"\'\\@$~\n\r') SHAPING[c.charCodeAt(0)] = 1;

/** Whether buf[from, to) has a byte that can move where statements and blocks begin and end. */
function structural(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i] >= 128 || SHAPING[buf[i]] === 1) return true;
  return false;
}

/** A built virtual server with nothing else to report (no diagnostics, no host facts): a load that keeps
 * it only hands its model object on. */
function isPlain(seg: Segment): boolean {
  const b = seg.built;
  return b !== undefined && b.vs !== undefined && b.diags.length === 0 && b.facts.length === 0;
}

/**
 * Whether a segment can move to other lines as it is: a built virtual server without diagnostics (their
 * messages may name lines, "first at line 12"); statements carry their lines, so they are parsed again.
 */
function movable(seg: Segment): boolean {
  return seg.built !== undefined && seg.built.diags.length === 0;
}

/** Moves a segment after the edit (same content) to its new offsets and lines. */
function move(seg: Segment, offDelta: number, lineDelta: number): void {
  seg.start += offDelta;
  seg.end += offDelta;
  if (lineDelta === 0) return;
  seg.startLine += lineDelta;
  const b = seg.built;
  if (b) {
    b.pos = { ...b.pos, line: b.pos.line + lineDelta };
    if (b.facts.length > 0)
      b.facts = b.facts.map((f) => ({ ...f, pos: { ...f.pos, line: f.pos.line + lineDelta } }));
  }
}

/**
 * Parses whole lines of the main file (buf[from, to), ASCII: only that range is decoded) into segments,
 * one per top-level statement.
 */
function parseRange(
  file: string,
  buf: Buffer,
  range: { from: number; to: number; lineBase: number },
  files: SourceFiles,
  configId: string,
): { segments: Segment[]; standalone: boolean } {
  const diags = new Diagnostics();
  const text = buf.toString('latin1', range.from, range.to);
  const track: SegmentTrack = {
    file,
    records: [],
    special: false,
    twoOnLine: false,
    lastLine: range.lineBase,
    lastEnd: 0,
  };
  const stmts: Statement[][] = [];
  const local = { from: 0, to: text.length, lineBase: range.lineBase };
  const depth = parseKeepalivedRange(file, text, local, diags, files, { configId }, track, (s, k) =>
    (stmts[Math.max(k, 0)] ??= []).push(s),
  );
  const recs = track.records;
  const segments: Segment[] = recs.map((r, k) => ({
    startLine: k === 0 ? range.lineBase + 1 : r.startLine,
    start: k === 0 ? range.from : range.from + r.start,
    end: k === recs.length - 1 ? range.to : range.from + recs[k + 1].start,
    statements: stmts[k] ?? [],
    include: r.include,
    parseDiags: [],
  }));
  if (segments.length === 0)
    segments.push({
      startLine: range.lineBase + 1,
      start: range.from,
      end: range.to,
      statements: stmts[0] ?? [],
      include: false,
      parseDiags: [],
    });
  for (const d of diags.since(0)) {
    let k = 0;
    if (d.file === file) {
      while (k + 1 < segments.length && segments[k + 1].startLine <= d.line) k++;
    } else
      k = Math.max(
        0,
        segments.findIndex((s) => s.include),
      );
    segments[k].parseDiags.push(d);
  }
  return { segments, standalone: depth === 0 && !track.special && !track.twoOnLine };
}

/** Where b differs from a: the bytes before and after the change they share. */
interface Edit {
  prefix: number;
  suffix: number;
}

function findEdit(a: Buffer, b: Buffer): Edit {
  const prefix = commonPrefix(a, b);
  return { prefix, suffix: commonSuffix(a, b, prefix) };
}

/** How many leading bytes a and b share (memcmp by chunks, then by halves: not a byte loop). */
function commonPrefix(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  const CHUNK = 1 << 16;
  let lo = 0;
  while (lo + CHUNK <= n && a.compare(b, lo, lo + CHUNK, lo, lo + CHUNK) === 0) lo += CHUNK;
  let hi = Math.min(n, lo + CHUNK);
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (a.compare(b, lo, mid, lo, mid) === 0) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** How many trailing bytes a and b share, not reaching into their first `prefix` bytes. */
function commonSuffix(a: Buffer, b: Buffer, prefix: number): number {
  const n = Math.min(a.length, b.length) - prefix;
  const CHUNK = 1 << 16;
  const al = a.length;
  const bl = b.length;
  let lo = 0;
  while (lo + CHUNK <= n && a.compare(b, bl - lo - CHUNK, bl - lo, al - lo - CHUNK, al - lo) === 0)
    lo += CHUNK;
  let hi = Math.min(n, lo + CHUNK);
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (a.compare(b, b.length - mid, b.length - lo, a.length - mid, a.length - lo) === 0) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The lines detectFormat looks at. */
const HEAD_LINES = 200;

/** Where the first n lines of buf end. */
function headEnd(buf: Buffer, n: number): number {
  let end = -1;
  for (let i = 0; i < n; i++) {
    end = buf.indexOf(10, end + 1);
    if (end < 0) return buf.length;
  }
  return end + 1;
}

function countLines(buf: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = buf.indexOf(10, from); i >= 0 && i < to; i = buf.indexOf(10, i + 1)) n++;
  return n;
}
