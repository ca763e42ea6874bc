/**
 * The configuration document both syntaxes are read into before validation: maps, sequences and
 * scalars shaped like the YAML schema, each node with the file, line and column it came from, and
 * the comments an import carries over into YAML.
 */
import type { Position } from './diagnostics';

export interface NodeBase extends Position {
  /** Comment lines before the node (without the leading '#'), carried by import-keepalived. */
  commentBefore?: string[];
  /** A comment at the end of the node's line. */
  comment?: string;
}

export type ScalarValue = string | number | boolean | null;

export interface ScalarNode extends NodeBase {
  kind: 'scalar';
  value: ScalarValue;
}

/** A key and its value; the entry's own position is where the key is written. */
export class MapEntry implements Position {
  commentBefore?: string[];
  comment?: string;
  constructor(
    public key: string,
    public file: string,
    public line: number,
    public column: number,
    public value: DocNode,
  ) {}

  /** Where the key is written. */
  get pos(): Position {
    return this;
  }
}

export interface MapNode extends NodeBase {
  kind: 'map';
  entries: MapEntry[];
}

export interface SeqNode extends NodeBase {
  kind: 'seq';
  items: DocNode[];
}

export type DocNode = ScalarNode | MapNode | SeqNode;

export function scalar(pos: Position, value: ScalarValue): ScalarNode {
  return { kind: 'scalar', value, file: pos.file, line: pos.line, column: pos.column };
}

export function mapNode(pos: Position, entries: MapEntry[] = []): MapNode {
  return { kind: 'map', entries, file: pos.file, line: pos.line, column: pos.column };
}

export function seqNode(pos: Position, items: DocNode[] = []): SeqNode {
  return { kind: 'seq', items, file: pos.file, line: pos.line, column: pos.column };
}

export function entry(key: string, pos: Position, value: DocNode): MapEntry {
  return new MapEntry(key, pos.file, pos.line, pos.column, value);
}

/** A scalar at a file, line and column (no intermediate position object). */
export function scalarAt(file: string, line: number, column: number, value: ScalarValue): ScalarNode {
  return { kind: 'scalar', value, file, line, column };
}

/** The entry for key, if any (the first one). */
export function getEntry(map: MapNode, key: string): MapEntry | undefined {
  for (const e of map.entries) if (e.key === key) return e;
  return undefined;
}

/** A short description of a node's type for error messages. */
export function describe(n: DocNode): string {
  if (n.kind === 'map') return 'a mapping';
  if (n.kind === 'seq') return 'a list';
  if (n.value === null) return 'nothing';
  if (typeof n.value === 'string') return `'${n.value}'`;
  return String(n.value);
}
