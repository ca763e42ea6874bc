/**
 * keepalived.conf syntax into a tree of statements: keywords and their arguments, blocks in braces
 * (on one line or across lines), '#' and '!' comments, quoted strings, `include` with globs,
 * '@id' / '@^id' conditional lines and '$NAME=VALUE' definitions (also multi-line) with $NAME and
 * ${NAME} substitution.
 */
import * as path from 'node:path';
import type { Diagnostics } from '../diagnostics';
import { glob, hasGlob } from '../glob';
import type { SourceFiles } from '../source';

export interface Statement {
  keyword: string;
  args: string[];
  /** Column of each argument (1-based). */
  argCols: number[];
  /** Which arguments were quoted. */
  quoted?: boolean[];
  file: string;
  line: number;
  column: number;
  /** The statements of the block that follows, if any. */
  block?: Statement[];
  /** Comment lines before the statement. */
  comments?: string[];
  /** A comment at the end of the statement's line. */
  trailing?: string;
}

export interface ParseOptions {
  /** The config id '@' lines compare with (keepalived -i); default: the host name up to the first dot. */
  configId: string;
}

/** At most this many characters come out of definitions for one line, and in all. */
const MAX_LINE_EXPANSION = 1_000_000;
const MAX_EXPANSION = 32_000_000;

/** Shared by the many statements without arguments ("TCP_CHECK {"); replaced on the first argument. */
const NO_ARGS: string[] = [];
const NO_COLS: number[] = [];
/** The block of a statement while it is read (see Parser.stack). */
const NO_STATEMENTS: Statement[] = [];

const DEF = /^\$([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;

/**
 * Where the top-level statements of the main file lie, for a reload that re-reads only what changed
 * (incremental.ts). A segment is the lines from the one after the previous statement's last token to
 * this statement's last token (comments before a statement belong to its segment).
 */
export interface SegmentRecord {
  /** First line and offset of the segment. */
  startLine: number;
  start: number;
  /** Line of the statement's keyword. */
  line: number;
  /** Last line with one of its tokens, and the offset after that line. */
  lastLine: number;
  end: number;
  /** It includes other files. */
  include: boolean;
}

export interface SegmentTrack {
  /** The file whose statements are recorded. */
  file: string;
  records: SegmentRecord[];
  /** Lines with '@', '$' or '~' (conditionals, definitions): segments do not stand alone. */
  special: boolean;
  /** A statement starts on the line where the previous one ends. */
  twoOnLine: boolean;
  lastLine: number;
  lastEnd: number;
}

interface FileState {
  file: string;
  defs: Map<string, string>;
}

class Parser {
  private readonly root: Statement[] = [];
  /** The segment (SegmentTrack.records index) of each statement in root. */
  private readonly rootSeg: number[] = [];
  /** Offset after the line being tokenized, and tokens seen on it so far. */
  private lineNext = 0;
  private lineTokens = 0;
  /**
   * The root, then the statements of each open block. A block's statements gather in a buffer reused
   * by the blocks of its depth (lens[d] of them in stack[d]) and are copied once, at their size, into
   * the owner's block when it closes: no array grown by push for each of a large file's blocks.
   */
  private readonly stack: Statement[][] = [this.root];
  private readonly lens: number[] = [0];
  private readonly buffers: Statement[][] = [];
  private readonly owners: Statement[] = [];
  private pendingComments: string[] = [];
  private current: Statement | undefined;
  private last: Statement | undefined;
  private readonly defs = new Map<string, string>();
  private readonly wbuf: string[] = [];
  private readonly cbuf: number[] = [];
  private readonly qbuf: boolean[] = [];
  private nargs = 0;
  private anyQuoted = false;
  /** Characters produced by substitutions so far (bounded, against definitions that multiply). */
  private expanded = 0;

  constructor(
    private readonly diags: Diagnostics,
    private readonly files: SourceFiles,
    private readonly opts: ParseOptions,
    private readonly onTop?: (s: Statement, segment: number) => void,
    private readonly track?: SegmentTrack,
  ) {}

  /**
   * Hands complete top-level statements to onTop as soon as the next one starts, so that a large file
   * never holds all its statements at once. The last one stays: a '{' on the next line may open its block.
   */
  private flushRoot(): void {
    if (!this.onTop || this.root.length < 2) return;
    const done = this.root.splice(0, this.root.length - 1);
    const segs = this.rootSeg.splice(0, done.length);
    for (let k = 0; k < done.length; k++) this.onTop(done[k], segs[k]);
  }

  private pushRoot(s: Statement): void {
    this.root.push(s);
    this.rootSeg.push(this.track ? this.track.records.length - 1 : -1);
  }

  /** Parses text[from, to) (whole lines), numbering its first line lineBase + 1. */
  parseFile(
    file: string,
    text: string,
    includeStack: string[],
    from0 = 0,
    to = text.length,
    lineBase = 0,
  ): void {
    const st: FileState = { file, defs: this.defs };
    let multi: { name: string; parts: string[] } | undefined;
    // Lines are cut one at a time (not split all at once) so that each dies young: a large file's
    // lines never all live together.
    let next = from0;
    for (let i = lineBase; next <= to; i++) {
      const from = next;
      let end = text.indexOf('\n', next);
      if (end < 0 || end > to) end = to;
      next = end + 1;
      this.lineNext = next > to ? to : next;
      if (end > from && text.charCodeAt(end - 1) === 13) end--;
      // Fast path: most lines have no '@', '$' or '~' and are tokenized in place, with no line string.
      let start = from;
      while (start < end && (text.charCodeAt(start) === 32 || text.charCodeAt(start) === 9)) start++;
      if (!multi) {
        if (start === end) continue;
        const c0 = text.charCodeAt(start);
        const special =
          c0 === 64 /* @ */ ||
          c0 === 36 /* $ */ ||
          c0 === 126 /* ~ */ ||
          (this.defs.size > 0 && text.indexOf('$', start) >= 0 && text.indexOf('$', start) < end);
        if (!special) {
          this.tokenizeLine(text, from, end, file, i + 1, includeStack);
          continue;
        }
      }
      if (this.track) this.track.special = true;
      const line = text.slice(from, end);
      if (multi) {
        const cont = line.endsWith('\\');
        multi.parts.push(cont ? line.slice(0, -1) : line);
        if (!cont) {
          this.defs.set(multi.name, multi.parts.join('\n'));
          multi = undefined;
        }
        continue;
      }
      const lead = start - from;
      if (lead === line.length) continue;
      const c = line.charCodeAt(lead);
      if (
        c === 64 /* @ */ ||
        c === 36 /* $ */ ||
        c === 126 /* ~ */ ||
        (this.defs.size > 0 && line.includes('$'))
      ) {
        const r = this.preprocess(line.slice(lead), st, i + 1, lead + 1, 0);
        if (r === 'multi') {
          const m = DEF.exec(line.slice(lead).trimEnd())!;
          multi = { name: m[1], parts: [] };
          const first = m[2].slice(0, -1).trim();
          if (first !== '') multi.parts.push(first);
        } else if (r !== undefined) {
          for (const l of r) this.tokenizeLine(l.text, 0, l.text.length, file, i + 1, includeStack);
        }
        continue;
      }
      this.tokenizeLine(line, 0, line.length, file, i + 1, includeStack);
    }
    if (multi) this.defs.set(multi.name, multi.parts.join('\n'));
  }

  /** Conditionals, definitions and substitution; the resulting lines, 'multi' or undefined (dropped). */
  private preprocess(
    text: string,
    st: FileState,
    line: number,
    col: number,
    depth: number,
  ): Array<{ text: string; col: number }> | 'multi' | undefined {
    if (depth > 16) {
      this.diags.error(
        { file: st.file, line, column: col },
        `definitions nest too deeply (a definition that uses itself?)`,
      );
      return undefined;
    }
    let t = text;
    let c = col;
    if (t.startsWith('@')) {
      const m = /^@(\^?)(\S*)\s*/.exec(t)!;
      const match = m[2] === this.opts.configId;
      if ((m[1] === '^') === match) return undefined;
      c += m[0].length;
      t = t.slice(m[0].length);
    }
    const def = DEF.exec(t.trimEnd());
    if (def) {
      if (def[2].endsWith('\\')) return 'multi';
      this.defs.set(def[1], def[2].trim());
      return [];
    }
    if (t.startsWith('~SEQ') || t.startsWith('~LST')) {
      this.diags.error(
        { file: st.file, line, column: c },
        `${t.slice(0, 4)} sequence blocks are not supported by lbd; write the lines out`,
      );
      return undefined;
    }
    if (!t.includes('$')) return [{ text: ' '.repeat(c - 1) + t, col: 0 }];
    const sub = this.substitute(t, st);
    if (sub === undefined || this.expanded > MAX_EXPANSION) {
      this.diags.error(
        { file: st.file, line, column: c },
        `definitions expand without bound (a definition that uses itself?)`,
      );
      return undefined;
    }
    this.expanded += sub.length;
    if (sub === t) return [{ text: ' '.repeat(c - 1) + t, col: 0 }];
    const out: Array<{ text: string; col: number }> = [];
    for (const part of sub.split('\n')) {
      const trimmed = part.trimStart();
      if (trimmed === '') continue;
      const r = this.preprocess(trimmed, st, line, c, depth + 1);
      if (r === 'multi') {
        this.diags.error(
          { file: st.file, line, column: c },
          `a multi-line definition cannot come from a substitution`,
        );
        continue;
      }
      if (r) out.push(...r);
    }
    return out;
  }

  /** Replaces defined names, recursively; undefined when the result grows without bound. */
  private substitute(text: string, st: FileState): string | undefined {
    let t = text;
    for (let round = 0; round < 16 && t.includes('$'); round++) {
      const next = t.replace(
        /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)(?=\s|$)/g,
        (all, a?: string, b?: string) => {
          const name = (a ?? b)!;
          const v = this.defs.get(name) ?? predefined(name, st.file, this.opts.configId);
          return v ?? all;
        },
      );
      if (next === t) break;
      if (next.length > MAX_LINE_EXPANSION) return undefined;
      t = next;
    }
    return t;
  }

  /** Splits a line into words, quoted strings, braces and a comment, and feeds the statement builder. */
  /** Tokenizes line[from, n): columns count from `from`. */
  private tokenizeLine(
    line: string,
    from: number,
    n: number,
    file: string,
    lineNo: number,
    includeStack: string[],
  ): void {
    let i = from;
    const base = from - 1;
    let sawToken = false;
    const lineNext = this.lineNext;
    this.lineTokens = 0;
    while (i < n) {
      const ch = line.charCodeAt(i);
      if (ch === 32 || ch === 9 || ch === 13) {
        i++;
        continue;
      }
      if (ch === 35 /* # */ || ch === 33 /* ! */) {
        const text = line.slice(i + 1, n).trim();
        if (sawToken) {
          const target = this.current ?? this.last;
          if (target && target.line === lineNo) target.trailing = text;
        } else this.pendingComments.push(text);
        break;
      }
      sawToken = true;
      if (ch === 123 /* { */) {
        this.lineTokens++;
        this.openBlock(file, lineNo, i - base);
        i++;
        continue;
      }
      if (ch === 125 /* } */) {
        this.lineTokens++;
        this.closeBlock(file, lineNo, i - base);
        i++;
        continue;
      }
      if (ch === 34 || ch === 39) {
        let j = i + 1;
        let out = '';
        let closed = false;
        while (j < n) {
          const cj = line.charCodeAt(j);
          if (cj === ch) {
            closed = true;
            break;
          }
          if (cj === 92 /* \ */ && ch === 34 && j + 1 < n) {
            const e = line[j + 1];
            out += e === 'n' ? '\n' : e === 't' ? '\t' : e;
            j += 2;
            continue;
          }
          out += line[j];
          j++;
        }
        if (!closed) this.diags.error({ file, line: lineNo, column: i - base }, `unterminated quoted string`);
        this.word(out, true, file, lineNo, i - base);
        i = closed ? j + 1 : n;
        continue;
      }
      let j = i;
      while (j < n) {
        const cj = line.charCodeAt(j);
        if (cj === 32 || cj === 9 || cj === 123 || cj === 125 || cj === 13) break;
        j++;
      }
      this.word(intern(line, i, j), false, file, lineNo, i - base);
      i = j;
    }
    this.endStatement(includeStack);
    const t = this.track;
    if (sawToken && t !== undefined && file === t.file) {
      t.lastLine = lineNo;
      t.lastEnd = lineNext;
    }
  }

  private word(w: string, quoted: boolean, file: string, line: number, column: number): void {
    const cur = this.current;
    const before = this.lineTokens++;
    if (!cur) {
      const t = this.track;
      if (t !== undefined && this.stack.length === 1 && file === t.file) {
        if (before > 0) t.twoOnLine = true;
        const r = t.records;
        if (r.length > 0) {
          r[r.length - 1].lastLine = t.lastLine;
          r[r.length - 1].end = t.lastEnd;
        }
        r.push({
          startLine: t.lastLine + 1,
          start: t.lastEnd,
          line,
          lastLine: line,
          end: t.lastEnd,
          include: false,
        });
      }
      // Every field set here, in one order: all statements share one shape (fast property access).
      const s: Statement = {
        keyword: w,
        args: NO_ARGS,
        argCols: NO_COLS,
        quoted: quoted ? [] : undefined,
        file,
        line,
        column,
        block: undefined,
        comments: undefined,
        trailing: undefined,
      };
      if (this.pendingComments.length > 0) {
        s.comments = this.pendingComments;
        this.pendingComments = [];
      }
      this.current = s;
      return;
    }
    // Arguments gather in reused buffers and are copied once, at their exact size, when the statement ends.
    const n = this.nargs++;
    this.wbuf[n] = w;
    this.cbuf[n] = column;
    this.qbuf[n] = quoted;
    if (quoted) this.anyQuoted = true;
  }

  /** Gives the current statement its arguments. */
  private takeArgs(s: Statement): void {
    const n = this.nargs;
    if (n > 0) {
      // Most statements have one or two arguments: array literals allocate faster than slices.
      const w = this.wbuf;
      const c = this.cbuf;
      if (n === 1) {
        s.args = [w[0]];
        s.argCols = [c[0]];
      } else if (n === 2) {
        s.args = [w[0], w[1]];
        s.argCols = [c[0], c[1]];
      } else {
        s.args = w.slice(0, n);
        s.argCols = c.slice(0, n);
      }
      if (this.anyQuoted || s.quoted) s.quoted = this.qbuf.slice(0, n);
    }
    this.nargs = 0;
    this.anyQuoted = false;
  }

  private endStatement(includeStack: string[]): void {
    const s = this.current;
    if (!s) return;
    this.current = undefined;
    this.takeArgs(s);
    if (s.keyword.charCodeAt(0) === 105 /* i */ && /^include[rmwba]?$/.test(s.keyword)) {
      this.include(s, includeStack);
      return;
    }
    if (this.stack.length === 1) {
      this.pushRoot(s);
      this.last = s;
      this.flushRoot();
    } else {
      this.addToBlock(s);
      this.last = s;
    }
  }

  /** Adds a statement to the innermost open block. */
  private addToBlock(s: Statement): void {
    const d = this.stack.length - 1;
    this.stack[d][this.lens[d]++] = s;
  }

  private openBlock(file: string, line: number, column: number): void {
    let owner = this.current;
    if (owner) {
      this.current = undefined;
      this.takeArgs(owner);
      if (this.stack.length === 1) {
        this.pushRoot(owner);
        this.flushRoot();
      } else this.addToBlock(owner);
    } else {
      const d = this.stack.length - 1;
      const n = d === 0 ? this.root.length : this.lens[d];
      owner = n > 0 ? this.stack[d][n - 1] : undefined;
      if (!owner || owner.block) {
        // The block is read (so that braces stay balanced) and dropped.
        this.diags.error({ file, line, column }, `'{' without a keyword before it`);
        owner = {
          keyword: '',
          args: [],
          argCols: [],
          quoted: undefined,
          file,
          line,
          column,
          block: undefined,
          comments: undefined,
          trailing: undefined,
        };
      }
    }
    // Marks the block as opened; its statements come when it closes (popBlock).
    owner.block = NO_STATEMENTS;
    const d = this.stack.length;
    this.stack.push((this.buffers[d] ??= []));
    this.lens[d] = 0;
    this.owners.push(owner);
    this.last = owner;
  }

  /** Ends the innermost open block: its owner gets its statements. */
  private popBlock(): Statement {
    const d = this.stack.length - 1;
    const buf = this.stack.pop()!;
    const n = this.lens[d];
    const owner = this.owners.pop()!;
    owner.block = buf.slice(0, n);
    return owner;
  }

  private closeBlock(file: string, line: number, column: number): void {
    this.endStatement([]);
    if (this.stack.length === 1) {
      this.diags.error({ file, line, column }, `'}' without a block to close`);
      return;
    }
    this.last = this.popBlock();
  }

  private include(s: Statement, includeStack: string[]): void {
    const pos = { file: s.file, line: s.line, column: s.column };
    if (this.track && this.track.records.length > 0)
      this.track.records[this.track.records.length - 1].include = true;
    if (s.args.length !== 1) {
      this.diags.error(pos, `include takes one file name or pattern`);
      return;
    }
    const pattern = s.args[0];
    const matches = glob(pattern, path.dirname(s.file));
    if (matches.length === 0 && !hasGlob(pattern)) {
      this.diags.error(
        { ...pos, column: s.argCols[0] },
        `cannot read included file '${pattern}': no such file`,
      );
      return;
    }
    const depth = this.stack.length;
    for (const m of matches) {
      if (includeStack.includes(m)) {
        this.diags.error(
          pos,
          `'${pattern}' includes itself (${[...includeStack, m].map((x) => path.basename(x)).join(' -> ')})`,
        );
        continue;
      }
      const text = this.files.read(m);
      if (text === undefined) {
        this.diags.error({ ...pos, column: s.argCols[0] }, `cannot read included file '${m}'`);
        continue;
      }
      this.parseFile(m, text, [...includeStack, m]);
      this.endStatement([]);
      if (this.stack.length !== depth) {
        this.diags.error(
          { file: m, line: text.split('\n').length, column: 1 },
          `unbalanced braces at the end of the included file`,
        );
        while (this.stack.length > depth) this.popBlock();
      }
    }
  }

  /** Blocks still open. */
  get depth(): number {
    return this.stack.length - 1;
  }

  finish(file: string, text: string): Statement[] {
    this.endStatement([]);
    const t = this.track;
    if (t !== undefined && t.records.length > 0) {
      t.records[t.records.length - 1].lastLine = t.lastLine;
      t.records[t.records.length - 1].end = t.lastEnd;
    }
    if (this.stack.length > 1) {
      const owner = this.owners[this.owners.length - 1];
      this.diags.error(
        { file: owner.file, line: owner.line, column: owner.column },
        `'${owner.keyword}' block is not closed (missing '}')`,
      );
      while (this.stack.length > 1) this.popBlock();
    }
    void text;
    void file;
    if (this.onTop) {
      const segs = this.rootSeg.splice(0);
      const done = this.root.splice(0);
      for (let k = 0; k < done.length; k++) this.onTop(done[k], segs[k]);
    }
    return this.root;
  }
}

/** Words that fill large configurations: shared strings instead of one copy per occurrence. */
const COMMON_WORDS = [
  'real_server',
  'virtual_server',
  'weight',
  'TCP_CHECK',
  'HTTP_GET',
  'SSL_GET',
  'MISC_CHECK',
  'DNS_CHECK',
  'connect_timeout',
  'connect_port',
  'connect_ip',
  'nb_get_retry',
  'retry',
  'delay_before_retry',
  'delay_loop',
  'lb_algo',
  'lb_kind',
  'lvs_sched',
  'lvs_method',
  'protocol',
  'TCP',
  'UDP',
  'SCTP',
  'NAT',
  'DR',
  'TUN',
  'rr',
  'wrr',
  'lc',
  'wlc',
  'sh',
  'mh',
  'persistence_timeout',
  'persistence_granularity',
  'url',
  'path',
  'status_code',
  'digest',
  'inhibit_on_failure',
  'alpha',
  'warmup',
  'quorum',
  'hysteresis',
  'sorry_server',
  'virtualhost',
  'misc_path',
  'misc_timeout',
  'misc_dynamic',
  'bindto',
  'fwmark',
  'vrrp_instance',
  'virtual_ipaddress',
  'state',
  'interface',
  'virtual_router_id',
  'priority',
  'advert_int',
  'MASTER',
  'BACKUP',
  'dev',
  'label',
  'track_script',
  'track_interface',
  'notify_up',
  'notify_down',
  'uthreshold',
  'lthreshold',
  'ha_suspend',
  'omega',
  'group',
  '}',
  '{',
];
const BY_LENGTH: string[][] = [];
for (const w of COMMON_WORDS) (BY_LENGTH[w.length] ??= []).push(w);
const SMALL_NUMBERS: string[] = Array.from({ length: 1000 }, (_, n) => String(n));

/** src.slice(i, j), shared when it is a common word or a number below 1000. */
function intern(src: string, i: number, j: number): string {
  const len = j - i;
  const c0 = src.charCodeAt(i);
  if (len <= 3 && c0 >= 48 && c0 <= 57 && (len === 1 || c0 !== 48)) {
    let v = 0;
    let k = i;
    for (; k < j; k++) {
      const c = src.charCodeAt(k);
      if (c < 48 || c > 57) break;
      v = v * 10 + c - 48;
    }
    if (k === j) return SMALL_NUMBERS[v];
  }
  const bucket = BY_LENGTH[len];
  if (bucket !== undefined)
    for (let b = 0; b < bucket.length; b++) {
      const w = bucket[b];
      if (w.charCodeAt(0) === c0 && src.startsWith(w, i)) return w;
    }
  return src.slice(i, j);
}

function predefined(name: string, file: string, configId: string): string | undefined {
  switch (name) {
    case '_PWD':
      return path.dirname(file);
    case '_INSTANCE':
      return configId;
    case '_HASH':
      return '#';
    case '_BANG':
      return '!';
    default:
      return undefined;
  }
}

/** Parses a keepalived.conf (and what it includes) into statements. */
export function parseKeepalived(
  file: string,
  text: string,
  diags: Diagnostics,
  files: SourceFiles,
  opts: ParseOptions,
  onTop?: (s: Statement) => void,
): Statement[] {
  const p = new Parser(diags, files, opts, onTop);
  p.parseFile(file, text, [file]);
  return p.finish(file, text);
}

/**
 * Parses the whole lines text[from, to) of a keepalived.conf (its first line numbered lineBase + 1),
 * recording its top-level statements in track; each statement goes to onTop with its record's index.
 * Returns the blocks left open at the end (0 when the range stands alone).
 */
export function parseKeepalivedRange(
  file: string,
  text: string,
  range: { from: number; to: number; lineBase: number },
  diags: Diagnostics,
  files: SourceFiles,
  opts: ParseOptions,
  track: SegmentTrack,
  onTop: (s: Statement, segment: number) => void,
): number {
  const p = new Parser(diags, files, opts, onTop, track);
  p.parseFile(file, text, [file], range.from, range.to, range.lineBase);
  const depth = p.depth;
  p.finish(file, text);
  return depth;
}
