/** Converting one keepalived statement's arguments into document nodes. */
import type { Diagnostics, Position } from '../diagnostics';
import {
  type DocNode,
  type MapEntry,
  type MapNode,
  entry,
  mapNode,
  scalar,
  scalarAt,
  seqNode,
} from '../document';
import { formatDuration, parseSeconds } from '../duration';
import type { Statement } from './parse';

export function argPos(s: Statement, i: number): Position {
  return { file: s.file, line: s.line, column: s.argCols[i] ?? s.column };
}

export class Converter {
  constructor(readonly diags: Diagnostics) {}

  /** The statement's single argument. */
  one(s: Statement): string | undefined {
    if (s.args.length === 1) return s.args[0];
    if (s.args.length === 0) this.diags.error(s, `'${s.keyword}' needs a value`);
    else this.diags.error(argPos(s, 1), `'${s.keyword}' takes one value, got ${s.args.length}`);
    return undefined;
  }

  str(s: Statement): DocNode | undefined {
    const v = this.one(s);
    return v === undefined ? undefined : scalarAt(s.file, s.line, s.argCols[0], v);
  }

  int(s: Statement): DocNode | undefined {
    const v = this.one(s);
    if (v === undefined) return undefined;
    return scalarAt(s.file, s.line, s.argCols[0], toInt(v));
  }

  intArg(s: Statement, i: number): DocNode {
    return scalarAt(s.file, s.line, s.argCols[i], toInt(s.args[i]));
  }

  /** Decimal seconds as a duration with a unit ("6" -> "6s"). */
  secs(s: Statement, optionalDefault?: string): DocNode | undefined {
    if (s.args.length === 0 && optionalDefault !== undefined) return scalar(s, optionalDefault);
    const v = this.one(s);
    if (v === undefined) return undefined;
    const ms = fastSeconds(v);
    if (ms !== undefined) return scalarAt(s.file, s.line, s.argCols[0], formatDuration(ms));
    return this.secsText(v, argPos(s, 0), s.keyword);
  }

  secsText(v: string, pos: Position, keyword: string): DocNode | undefined {
    const ms = parseSeconds(v);
    if (ms === undefined) {
      this.diags.error(pos, `'${keyword}' must be a number of seconds, got '${v}'`);
      return undefined;
    }
    return scalar(pos, formatDuration(ms));
  }

  /** A keyword alone means true; on/off, true/false, yes/no as an argument. */
  flag(s: Statement): DocNode | undefined {
    if (s.args.length === 0) return scalar(s, true);
    const v = s.args[0].toLowerCase();
    if (s.args.length === 1 && ['on', 'true', 'yes'].includes(v)) return scalar(argPos(s, 0), true);
    if (s.args.length === 1 && ['off', 'false', 'no'].includes(v)) return scalar(argPos(s, 0), false);
    this.diags.error(
      argPos(s, 0),
      `'${s.keyword}' takes no value or one of on, off, true, false, yes, no; got '${s.args.join(' ')}'`,
    );
    return undefined;
  }

  /**
   * A notify script: SCRIPT [USER [GROUP]], where SCRIPT is one word or a quoted command line with its
   * arguments (keepalived's notify_* syntax).
   */
  cmd(s: Statement): DocNode | undefined {
    if (s.args.length === 0) {
      this.diags.error(s, `'${s.keyword}' needs a script`);
      return undefined;
    }
    if (s.args.length > 3) {
      this.diags.error(
        argPos(s, 3),
        `'${s.keyword}' takes a script and at most a user and a group (quote a script that has arguments)`,
      );
      return undefined;
    }
    if (s.args.length === 1) return scalar(argPos(s, 0), s.args[0]);
    const m = mapNode(argPos(s, 0));
    m.entries.push(entry('command', argPos(s, 0), scalar(argPos(s, 0), s.args[0])));
    m.entries.push(entry('user', argPos(s, 1), scalar(argPos(s, 1), s.args[1])));
    if (s.args.length === 3) m.entries.push(entry('group', argPos(s, 2), scalar(argPos(s, 2), s.args[2])));
    return m;
  }

  /** The words of every line of a block, each as a string item. */
  words(s: Statement): DocNode[] {
    const out: DocNode[] = [];
    if (!s.block) {
      this.diags.error(s, `'${s.keyword}' needs a block { ... }`);
      return out;
    }
    for (const b of s.block) {
      out.push(scalar(b, b.keyword));
      b.args.forEach((a, i) => out.push(scalar(argPos(b, i), a)));
      if (b.block) this.diags.error(b, `unexpected block in '${s.keyword}'`);
    }
    return out;
  }

  /** The lines of a block, each line's words joined by a space. */
  lines(s: Statement): DocNode[] {
    if (!s.block) {
      this.diags.error(s, `'${s.keyword}' needs a block { ... }`);
      return [];
    }
    return s.block.map((b) => {
      if (b.block) this.diags.error(b, `unexpected block in '${s.keyword}'`);
      const n = scalar(b, [b.keyword, ...b.args].join(' '));
      attachComments(n, b);
      return n;
    });
  }
}

export function attachComments(target: { commentBefore?: string[]; comment?: string }, s: Statement): void {
  if (s.comments && s.comments.length > 0)
    target.commentBefore = [...(target.commentBefore ?? []), ...s.comments];
  if (s.trailing !== undefined) target.comment = s.trailing;
}

/** Adds key: value to a mapping, with the statement's position and comments. */
export function put(
  out: MapNode,
  key: string,
  s: Statement,
  value: DocNode | undefined,
  pending?: string[],
): void {
  if (value === undefined) return;
  const e = entry(key, s, value);
  attachComments(e, s);
  if (pending && pending.length > 0) {
    e.commentBefore = [...pending.splice(0), ...(e.commentBefore ?? [])];
  }
  out.entries.push(e);
}

/** Appends an item to the list under key, creating it at the statement if absent. */
export function append(out: MapNode, key: string, s: Statement, item: DocNode, pending?: string[]): void {
  attachComments(item, s);
  if (pending && pending.length > 0)
    item.commentBefore = [...pending.splice(0), ...(item.commentBefore ?? [])];
  let e: MapEntry | undefined;
  const list = out.entries;
  for (let i = 0; i < list.length; i++) if (list[i].key === key && list[i].value.kind === 'seq') e = list[i];
  // A new list starts with its item, at its exact size (many, such as a real server's checks, keep one).
  if (!e) list.push(entry(key, s, seqNode(s, [item])));
  else (e.value as { items: DocNode[] }).items.push(item);
}

/** A whole number as a number, anything else as it is (the builder reports it). */
function toInt(v: string): string | number {
  const n = v.length;
  if (n === 0 || n > 15) return v;
  let i = v.charCodeAt(0) === 45 ? 1 : 0;
  if (i === n) return v;
  for (; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return v;
  }
  return Number(v);
}

/** Whole seconds without a regular expression (the common case). */
function fastSeconds(v: string): number | undefined {
  const n = v.length;
  if (n === 0 || n > 9) return undefined;
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  return Number(v) * 1000;
}
