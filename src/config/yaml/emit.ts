/** lbctl import-keepalived: a keepalived.conf as lbd YAML, with its comments carried over. */
import * as path from 'node:path';
import { Document, Pair, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import { buildConfig } from '../build/index';
import { type Diagnostic, Diagnostics } from '../diagnostics';
import type { DocNode, MapNode } from '../document';
import { type LoadOptions, readDocument } from '../load';
import type { Config } from '../model';
import { SourceFiles } from '../source';

const ORDER = [
  'global',
  'lvs_sync_daemon',
  'lvs_timeouts',
  'metrics',
  'control',
  'vrrp_scripts',
  'vrrp_instances',
  'vrrp_sync_groups',
  'virtual_server_groups',
  'virtual_servers',
];

export interface ImportResult {
  /** The YAML text; empty when there are errors. */
  yaml: string;
  diagnostics: Diagnostic[];
  errors: number;
  unreadable: boolean;
  config?: Config;
}

/** Converts a keepalived.conf (and its includes) to one YAML document. */
export function importKeepalived(file: string, opts: Pick<LoadOptions, 'configId'> = {}): ImportResult {
  const files = new SourceFiles();
  const diags = new Diagnostics();
  const text = files.read(file);
  if (text === undefined) {
    diags.error({ file, line: 0, column: 0 }, `cannot read '${file}'`);
    return { yaml: '', diagnostics: diags.sorted(), errors: 1, unreadable: true };
  }
  const doc = readDocument(file, text, 'keepalived', diags, files, opts.configId);
  const { config } = buildConfig(doc, diags);
  const diagnostics = diags.sorted();
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  if (errors > 0) return { yaml: '', diagnostics, errors, unreadable: false };
  return {
    yaml: documentToYaml(doc, `Imported from ${path.basename(file)} by lbctl import-keepalived`),
    diagnostics,
    errors,
    unreadable: false,
    config,
  };
}

/** YAML text of a document, top-level sections in the schema's order. */
export function documentToYaml(root: MapNode, header?: string): string {
  const sorted: MapNode = { ...root, entries: [...root.entries].sort((a, b) => rank(a.key) - rank(b.key)) };
  const doc = new Document(toYaml(sorted));
  if (header) doc.commentBefore = ' ' + header;
  return doc.toString({ lineWidth: 0, indentSeq: true });
}

function rank(key: string): number {
  const i = ORDER.indexOf(key);
  return i < 0 ? ORDER.length : i;
}

function comments(lines: string[] | undefined): string | undefined {
  if (!lines || lines.length === 0) return undefined;
  return lines.map((l) => ' ' + l).join('\n');
}

const FLOW_KEYS = new Set(['status_code', 'sched_flags', 'group']);

function toYaml(n: DocNode, key?: string): Scalar | YAMLMap | YAMLSeq {
  let out: Scalar | YAMLMap | YAMLSeq;
  if (n.kind === 'scalar') out = new Scalar(n.value);
  else if (n.kind === 'map') {
    const m = new YAMLMap();
    for (const e of n.entries) {
      const k = new Scalar(e.key);
      const before = comments([...(e.commentBefore ?? []), ...(e.value.commentBefore ?? [])]);
      if (before) k.commentBefore = before;
      const v = toYaml({ ...e.value, commentBefore: undefined } as DocNode, e.key);
      const trailing = e.comment ?? e.value.comment;
      if (trailing !== undefined) v.comment = ' ' + trailing;
      m.items.push(new Pair(k, v));
    }
    if (n.entries.length === 0) m.flow = true;
    out = m;
  } else {
    const s = new YAMLSeq();
    for (const it of n.items) s.items.push(toYaml(it));
    if (
      (key !== undefined &&
        FLOW_KEYS.has(key) &&
        n.items.every((i) => i.kind === 'scalar' && !i.commentBefore && i.comment === undefined)) ||
      n.items.length === 0
    )
      s.flow = true;
    out = s;
  }
  if (n.kind !== 'map' || key === undefined) {
    const before = comments(n.commentBefore);
    if (before) out.commentBefore = before;
    if (n.comment !== undefined && n.kind === 'scalar') out.comment = ' ' + n.comment;
  }
  return out;
}
