// config/grafana-lbd.json: valid dashboard JSON whose every query parses (promtool check rules) and
// names only metrics lbd exports (or Prometheus's own scrape series).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IPVS_FAMILIES } from '../../src/metrics';

const root = path.resolve(__dirname, '..', '..', '..');

interface Panel {
  title?: string;
  targets?: { expr: string }[];
}

test('every dashboard query parses and uses exported metrics', () => {
  const dash = JSON.parse(fs.readFileSync(path.join(root, 'config', 'grafana-lbd.json'), 'utf8')) as {
    panels: Panel[];
    annotations: { list: { expr: string }[] };
  };
  const exprs = [
    ...dash.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
    ...dash.annotations.list.map((a) => a.expr),
  ];
  assert.ok(exprs.length > 30);
  const rules = exprs.map(
    (e, i) =>
      `      - record: lbd:dashboard_${i}\n        expr: ${JSON.stringify(e.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.*'))}`,
  );
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lbd-grafana-')), 'rules.yml');
  fs.writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);
  const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  // Names: lbd's README table is the list of what lbd exports.
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const documented = new Set([...readme.matchAll(/`(lbd_[a-z0-9_]+)`/g)].map((m) => m[1]));
  for (const f of IPVS_FAMILIES) assert.ok(documented.has(f.name), `${f.name} documented in the README`);
  for (const e of exprs) {
    for (const [name] of e.matchAll(/lbd_[a-z0-9_]+/g)) {
      const base = name.replace(/_(bucket|sum|count)$/, '');
      assert.ok(documented.has(name) || documented.has(base), `${name} (in ${e}) is documented`);
    }
  }
});
