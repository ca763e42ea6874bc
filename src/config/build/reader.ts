import * as path from 'node:path';
/** Typed reading of document nodes, reporting every mistake with its position. */
import type { Diagnostics, Position } from '../diagnostics';
import { type DocNode, type MapEntry, type MapNode, type SeqNode, describe } from '../document';
import { parseDuration } from '../duration';
import { familyOf } from '../address';
import { didYouMean } from '../suggest';
import type { ScriptCommand } from '../model';

/** Keys renamed in lbd's YAML: a hint for those who write keepalived's other spelling. */
const RENAMED: Record<string, string> = {
  lb_algo: 'lvs_sched',
  lb_kind: 'lvs_method',
  nb_get_retry: 'retry',
  real_server: 'real_servers',
  tcpfin: 'tcp_fin',
  no_preempt: 'nopreempt',
};

/** Something that must exist on the host running lbd: checked by host.ts, not by the loader. */
export interface HostFact {
  kind: 'interface' | 'script';
  /** The interface name, or the path of the program (the first word of a command line). */
  name: string;
  /** What names it, for messages: "interface of vrrp_instance 'VI_1'". */
  what: string;
  pos: Position;
}

export class Reader {
  readonly facts: HostFact[] = [];
  /** Checks whose log_all_failures comes from the global setting, set once global is read. */
  readonly pendingLogAll: Array<{ log_all_failures: boolean }> = [];
  constructor(readonly diags: Diagnostics) {}

  /** Records an interface or a program the host must have. */
  fact(kind: HostFact['kind'], name: string, what: string, pos: Position): void {
    if (kind === 'script') name = name.trim().split(/\s+/)[0] ?? '';
    if (name !== '')
      this.facts.push({ kind, name, what, pos: { file: pos.file, line: pos.line, column: pos.column } });
  }

  error(pos: Position, message: string): void {
    this.diags.error(pos, message);
  }

  warning(pos: Position, message: string): void {
    this.diags.warning(pos, message);
  }

  map(n: DocNode, what: string): MapNode | undefined {
    if (n.kind === 'map') return n;
    if (n.kind === 'scalar' && n.value === null)
      return { kind: 'map', entries: [], file: n.file, line: n.line, column: n.column };
    this.error(n, `${what} must be a mapping, got ${describe(n)}`);
    return undefined;
  }

  /** A list; a single item is accepted where a list of one would do when single is true. */
  seq(n: DocNode, what: What): DocNode[] | undefined {
    if (n.kind === 'seq') return n.items;
    if (n.kind === 'scalar' && n.value === null) return [];
    this.error(n, `${label(what)} must be a list, got ${describe(n)}`);
    return undefined;
  }

  /**
   * The entries of a mapping by key, reporting unknown and repeated keys. `where` names the mapping in
   * messages ("in vrrp instance 'VI_1'").
   */
  fields(map: MapNode, allowed: ReadonlySet<string>, where: string): Fields {
    // The common case, every key known and none repeated, shares the mapping's own entries.
    const list = map.entries;
    let clean = true;
    for (let i = 0; clean && i < list.length; i++) {
      if (!allowed.has(list[i].key)) clean = false;
      else for (let j = 0; j < i; j++) if (list[j].key === list[i].key) clean = false;
    }
    if (clean) return new Fields(list);
    const out = new Fields([]);
    for (const e of map.entries) {
      if (!allowed.has(e.key)) {
        const renamed = RENAMED[e.key];
        const hint =
          renamed !== undefined && allowed.has(renamed)
            ? `; lbd spells it '${renamed}'`
            : didYouMean(e.key, allowed);
        this.error(e.pos, `unknown key '${e.key}' ${where}${hint}`);
        continue;
      }
      if (out.has(e.key)) {
        const first = out.get(e.key)!;
        this.error(e.pos, `duplicate key '${e.key}' ${where} (first at ${lineOf(first, e)})`);
        continue;
      }
      out.set(e.key, e);
    }
    return out;
  }

  str(e: MapEntry | undefined): string | undefined {
    if (!e) return undefined;
    const n = e.value;
    if (n.kind === 'scalar' && typeof n.value === 'string') return n.value;
    if (n.kind === 'scalar' && typeof n.value === 'number')
      this.error(n, `'${e.key}' must be a string, got ${describe(n)} (quote it: '${n.value}')`);
    else this.error(n, `'${e.key}' must be a string, got ${describe(n)}`);
    return undefined;
  }

  /** A string that must not be empty nor contain blanks (names, interfaces). */
  word(e: MapEntry | undefined): string | undefined {
    const s = this.str(e);
    if (s === undefined || !e) return undefined;
    if (s === '' || /\s/.test(s)) {
      this.error(e.value, `'${e.key}' must be a single word, got '${s}'`);
      return undefined;
    }
    return s;
  }

  int(e: MapEntry | undefined, min: number, max: number): number | undefined {
    if (!e) return undefined;
    return this.intNode(e.value, e, min, max);
  }

  /** `what` names the value in messages: a text, or the entry whose key names it. */
  intNode(n: DocNode, what: What, min: number, max: number): number | undefined {
    if (n.kind !== 'scalar' || typeof n.value !== 'number' || !Number.isInteger(n.value)) {
      this.error(n, `${label(what)} must be an integer, got ${describe(n)}`);
      return undefined;
    }
    if (n.value < min || n.value > max) {
      this.error(n, `${label(what)} must be between ${min} and ${max}, got ${n.value}`);
      return undefined;
    }
    return n.value;
  }

  bool(e: MapEntry | undefined): boolean | undefined {
    if (!e) return undefined;
    const n = e.value;
    if (n.kind === 'scalar' && typeof n.value === 'boolean') return n.value;
    this.error(n, `'${e.key}' must be true or false, got ${describe(n)}`);
    return undefined;
  }

  /** A duration with a unit, in ms, within [min, max] ms. */
  duration(e: MapEntry | undefined, min = 0, max = 365 * 86_400_000): number | undefined {
    if (!e) return undefined;
    const n = e.value;
    const ms =
      n.kind === 'scalar' && typeof n.value === 'string'
        ? parseDuration(n.value)
        : n.kind === 'scalar' && n.value === 0
          ? 0
          : undefined;
    if (ms === undefined) {
      const hint =
        n.kind === 'scalar' && typeof n.value === 'number' ? ` (write ${n.value}s for seconds)` : '';
      this.error(
        n,
        `'${e.key}' must be a duration with a unit such as 6s or 500ms, got ${describe(n)}${hint}`,
      );
      return undefined;
    }
    if (ms < min || ms > max) {
      this.error(n, `'${e.key}' must be between ${fmt(min)} and ${fmt(max)}, got ${fmt(ms)}`);
      return undefined;
    }
    return ms;
  }

  oneOf<T extends string>(e: MapEntry | undefined, values: readonly T[]): T | undefined {
    if (!e) return undefined;
    const n = e.value;
    if (n.kind === 'scalar' && (typeof n.value === 'string' || typeof n.value === 'number')) {
      const v = String(n.value);
      if ((values as readonly string[]).includes(v)) return v as T;
      const ci = values.find((x) => x.toLowerCase() === v.toLowerCase());
      const hint = ci !== undefined ? `; did you mean '${ci}'?` : didYouMean(v, values);
      this.error(n, `'${e.key}' must be one of ${values.join(', ')}, got '${v}'${hint}`);
      return undefined;
    }
    this.error(n, `'${e.key}' must be one of ${values.join(', ')}, got ${describe(n)}`);
    return undefined;
  }

  ipNode(n: DocNode, what: What, family?: 'inet' | 'inet6'): string | undefined {
    if (n.kind === 'scalar' && typeof n.value === 'string') {
      const v = n.value;
      const f = familyOf(v);
      const ok = family === undefined ? f !== undefined : f === family;
      if (ok) return v;
      const kind =
        family === 'inet' ? 'an IPv4 address' : family === 'inet6' ? 'an IPv6 address' : 'an IP address';
      this.error(n, `${label(what)} must be ${kind}, got '${v}'`);
      return undefined;
    }
    this.error(n, `${label(what)} must be an IP address, got ${describe(n)}`);
    return undefined;
  }

  ip(e: MapEntry | undefined, family?: 'inet' | 'inet6'): string | undefined {
    if (!e) return undefined;
    return this.ipNode(e.value, e, family);
  }

  port(e: MapEntry | undefined): number | undefined {
    return this.int(e, 1, 65535);
  }

  /** A command: "path args" or {command, user, group}. */
  command(e: MapEntry | undefined, where: string): ScriptCommand | undefined {
    if (!e) return undefined;
    const n = e.value;
    if (n.kind === 'scalar') {
      const s = this.str(e);
      if (s === undefined) return undefined;
      if (s.trim() === '') {
        this.error(n, `'${e.key}' must not be empty`);
        return undefined;
      }
      this.fact('script', s, `'${e.key}'`, n);
      return { command: s };
    }
    const m = this.map(n, `'${e.key}'`);
    if (!m) return undefined;
    const f = this.fields(m, COMMAND_KEYS, `in '${e.key}' ${where}`);
    const command = this.str(f.get('command'));
    if (!f.has('command')) this.error(m, `'${e.key}' needs 'command'`);
    if (command === undefined) return undefined;
    this.fact('script', command, `'${e.key}'`, f.get('command')!.value);
    const out: ScriptCommand = { command };
    const user = this.word(f.get('user'));
    const group = this.word(f.get('group'));
    if (user !== undefined) out.user = user;
    if (group !== undefined) out.group = group;
    return out;
  }

  /** Items of a list given as key. */
  list(e: MapEntry | undefined): DocNode[] {
    if (!e) return [];
    return this.seq(e.value, e) ?? [];
  }

  seqNode(e: MapEntry): SeqNode | undefined {
    return e.value.kind === 'seq' ? e.value : undefined;
  }
}

const COMMAND_KEYS = new Set(['command', 'user', 'group']);

/**
 * What a message names: a text ("a unicast_peer"), or an entry, named by its key in quotes. The text
 * for an entry is made only for a message: most values are read without one.
 */
type What = string | MapEntry;

function label(what: What): string {
  return typeof what === 'string' ? what : `'${what.key}'`;
}

function fmt(ms: number): string {
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

export function keys(...names: string[]): ReadonlySet<string> {
  return new Set(names);
}

/**
 * What fn reads from each item (those it rejects, undefined, left out), in an array of exactly their
 * number: a large model holds tens of thousands of short lists, and an array grown by push keeps room
 * for 17 items.
 */
export function readItems<T>(items: readonly DocNode[], fn: (item: DocNode) => T | undefined): T[] {
  if (items.length === 1) {
    // The common case, made at its size at once.
    const v = fn(items[0]);
    return v === undefined ? [] : [v];
  }
  const out: T[] = [];
  for (const it of items) {
    const v = fn(it);
    if (v !== undefined) out.push(v);
  }
  return out.slice();
}

/** "line 12", or "line 12 of other.conf" when in another file than here. */
export function lineOf(first: { file: string; line: number }, here: { file: string }): string {
  return first.file === here.file
    ? `line ${first.line}`
    : `line ${first.line} of ${path.basename(first.file)}`;
}

/**
 * The known entries of a mapping by key. Mappings are small, so a linear search beats building a Map
 * for each of the many thousands of real servers and checks of a large configuration.
 */
export class Fields {
  constructor(private readonly list: MapEntry[] = []) {}

  get size(): number {
    return this.list.length;
  }

  get(key: string): MapEntry | undefined {
    const l = this.list;
    for (let i = 0; i < l.length; i++) if (l[i].key === key) return l[i];
    return undefined;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Whether any of the keys is present. */
  hasAny(keys: ReadonlySet<string>): boolean {
    const l = this.list;
    for (let i = 0; i < l.length; i++) if (keys.has(l[i].key)) return true;
    return false;
  }

  set(key: string, e: MapEntry): void {
    void key;
    this.list.push(e);
  }
}
