/** YAML files into the configuration document, keeping each node's file, line and column. */
import * as path from 'node:path';
import type { Diagnostics, Position } from '../diagnostics';
import { type DocNode, type MapEntry, type MapNode, entry, mapNode, scalar, seqNode } from '../document';
import { glob, hasGlob } from '../glob';
import type { SourceFiles } from '../source';

type YamlModule = typeof import('yaml');
let yamlModule: YamlModule | undefined;
/** The yaml package, loaded on first use (validating a keepalived.conf never pays for it). */
function yaml(): YamlModule {
  return (yamlModule ??= require('yaml') as YamlModule);
}

/** Reads a YAML file and the files it includes into one document. */
export function loadYamlDocument(
  file: string,
  text: string,
  diags: Diagnostics,
  files: SourceFiles,
  stack: string[] = [],
): MapNode {
  const Y = yaml();
  const lc = new Y.LineCounter();
  const doc = Y.parseDocument(text, {
    lineCounter: lc,
    uniqueKeys: false,
    prettyErrors: false,
    schema: 'core',
    merge: false,
  });
  const pos = (offset: number | undefined): Position => {
    const p = lc.linePos(offset ?? 0);
    return { file, line: p.line, column: p.col };
  };
  for (const err of doc.errors) diags.error(pos(err.pos[0]), yamlMessage(err.message));
  for (const w of doc.warnings) diags.warning(pos(w.pos[0]), yamlMessage(w.message));
  const top: Position = { file, line: 1, column: 1 };
  if (doc.errors.length > 0) return mapNode(top);

  // Aliases are expanded: a budget keeps "billion laughs" documents from expanding without end.
  let budget = 100_000;
  let exhausted = false;
  const convert = (node: unknown, depth: number, viaAlias = false): DocNode => {
    if (depth > 64) {
      diags.error(top, 'the document nests too deeply');
      return scalar(top, null);
    }
    if (viaAlias && --budget < 0) {
      if (!exhausted) diags.error(top, 'the document expands to too many nodes (aliases of aliases?)');
      exhausted = true;
      return scalar(top, null);
    }
    if (Y.isAlias(node)) {
      const target = node.resolve(doc);
      if (!target) {
        diags.error(pos(node.range?.[0]), `unknown alias *${node.source}`);
        return scalar(pos(node.range?.[0]), null);
      }
      return convert(target, depth + 1, true);
    }
    if (Y.isMap(node)) {
      const m = mapNode(pos(node.range?.[0]));
      for (const pair of node.items) {
        const k = pair.key;
        const kpos = pos(Y.isNode(k) ? k.range?.[0] : undefined);
        if (!Y.isScalar(k) || (typeof k.value !== 'string' && typeof k.value !== 'number')) {
          diags.error(kpos, 'keys must be plain words');
          continue;
        }
        const key = String(k.value);
        if (key === '<<') {
          diags.error(kpos, 'merge keys (<<) are not supported; repeat the settings');
          continue;
        }
        const value = pair.value === null ? scalar(kpos, null) : convert(pair.value, depth + 1, viaAlias);
        m.entries.push(entry(key, kpos, value));
      }
      return m;
    }
    if (Y.isSeq(node)) {
      const s = seqNode(pos(node.range?.[0]));
      for (const it of node.items)
        s.items.push(it === null ? scalar(s, null) : convert(it, depth + 1, viaAlias));
      return s;
    }
    if (Y.isScalar(node)) {
      const v = node.value;
      const p = pos(node.range?.[0]);
      if (v === null || typeof v === 'string' || typeof v === 'boolean') return scalar(p, v);
      if (typeof v === 'number') return scalar(p, Number.isFinite(v) ? v : String(node.source ?? v));
      return scalar(p, String(v));
    }
    return scalar(top, null);
  };

  const root = doc.contents === null ? mapNode(top) : convert(doc.contents, 0);
  if (root.kind !== 'map') {
    if (!(root.kind === 'scalar' && root.value === null))
      diags.error(
        root,
        'the configuration must be a mapping of sections (global, vrrp_instances, virtual_servers, ...)',
      );
    return mapNode(top);
  }
  return expandIncludes(root, file, diags, files, [...stack, file]);
}

function yamlMessage(m: string): string {
  const first = m.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  if (/Map keys must be unique/.test(first)) return 'duplicate key';
  return `YAML syntax: ${first.charAt(0).toLowerCase()}${first.slice(1)}`;
}

/** Replaces the top-level `include` with the contents of the files it names. */
function expandIncludes(
  root: MapNode,
  file: string,
  diags: Diagnostics,
  files: SourceFiles,
  stack: string[],
): MapNode {
  const out = mapNode(root);
  const includes: MapEntry[] = [];
  for (const e of root.entries) (e.key === 'include' ? includes : out.entries).push(e);
  for (const inc of includes) {
    const items = inc.value.kind === 'seq' ? inc.value.items : [inc.value];
    for (const it of items) {
      if (it.kind !== 'scalar' || typeof it.value !== 'string' || it.value === '') {
        diags.error(it, `'include' must be a file name or pattern, or a list of them`);
        continue;
      }
      const pattern = it.value;
      const matches = glob(pattern, path.dirname(file));
      if (matches.length === 0 && !hasGlob(pattern))
        diags.error(it, `cannot read included file '${pattern}': no such file`);
      for (const m of matches) {
        if (stack.includes(m)) {
          diags.error(
            it,
            `'${pattern}' includes itself (${[...stack, m].map((s) => path.basename(s)).join(' -> ')})`,
          );
          continue;
        }
        const text = files.read(m);
        if (text === undefined) {
          diags.error(it, `cannot read included file '${m}'`);
          continue;
        }
        const sub = loadYamlDocument(m, text, diags, files, stack);
        mergeInto(out, sub);
      }
    }
  }
  return out;
}

const LIST_SECTIONS = new Set(['virtual_servers']);
const NAMED_SECTIONS = new Set([
  'vrrp_scripts',
  'vrrp_instances',
  'vrrp_sync_groups',
  'virtual_server_groups',
  'global',
]);

/** Adds an included document's sections to the including one. */
export function mergeInto(root: MapNode, sub: MapNode): void {
  for (const e of sub.entries) {
    const existing = root.entries.find((x) => x.key === e.key);
    if (existing && LIST_SECTIONS.has(e.key) && existing.value.kind === 'seq' && e.value.kind === 'seq') {
      existing.value.items.push(...e.value.items);
    } else if (
      existing &&
      NAMED_SECTIONS.has(e.key) &&
      existing.value.kind === 'map' &&
      e.value.kind === 'map'
    ) {
      existing.value.entries.push(...e.value.entries);
    } else {
      root.entries.push(e);
    }
  }
}
