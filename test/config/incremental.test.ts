/**
 * The incremental load (a reload re-reading only the changed top-level blocks) equals a full load:
 * deep-equal model, identical errors and warnings with their positions, over many random edits of valid
 * and invalid keepalived.conf files (inside and across blocks, lines added and removed, include files
 * added, removed and changed). And it reuses what did not change (the same model objects).
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IncrementalLoader } from '../../src/config/incremental';
import { useMappedFiles } from '../../src/config/read-into';
import { type LoadOptions, validateConfigFile } from '../../src/config/load';
import type { Config } from '../../src/config/model';
import { prng, tempFiles } from './helpers';

const SEEDS = Number(process.env.LBD_INCREMENTAL_SEEDS ?? 60);
const EDITS = 12;
const OPTS: LoadOptions = {
  configId: 'lb1',
  host: {
    interfaceExists: (n) => n === 'eth0',
    programProblem: (f) => (f === '/bin/true' ? undefined : 'no such file'),
  },
};

function virtualServer(rand: () => number, i: number): string {
  const lines = [`virtual_server 10.0.${i >> 8}.${i & 255} 80 {`, '    lb_algo wrr', '    lb_kind NAT'];
  if (rand() < 0.3) lines.push('    delay_loop 5');
  const reals = 1 + Math.floor(rand() * 3);
  for (let r = 0; r < reals; r++) {
    lines.push(`    real_server 172.16.${i & 255}.${r + 1} 8080 {`, `        weight ${1 + r}`);
    if (rand() < 0.4) lines.push('        TCP_CHECK {', '            connect_timeout 3', '        }');
    if (rand() < 0.1) lines.push('        MISC_CHECK {', '            misc_path "/bin/true"', '        }');
    lines.push('    }');
  }
  lines.push('}');
  return lines.join('\n');
}

function vrrpInstance(i: number): string {
  return [
    `vrrp_instance VI_${i} {`,
    '    state BACKUP',
    '    interface eth0',
    `    virtual_router_id ${10 + i}`,
    '    priority 100',
    '    virtual_ipaddress {',
    `        192.168.${i}.1/24`,
    '    }',
    '}',
  ].join('\n');
}

/** Lines an edit may insert: valid, invalid, comments, braces, conditionals, definitions, includes. */
const SNIPPETS = [
  '# a comment',
  '! another comment',
  '',
  '    weight 7',
  '    weight 70000',
  '    bogus_key 1',
  '}',
  '{',
  'virtual_server 10.9.9.9 80 {\n    real_server 172.31.0.1 80 {\n        weight 1\n    }\n}',
  'virtual_server 10.0.0.0 80 {\n}',
  'global_defs {\n    router_id lb1\n}',
  'global_defs {\n    checker_log_all_failures\n}',
  'vrrp_script chk {\n    script "/bin/true"\n}',
  'virtual_server_group G {\n    10.5.0.1 80\n}',
  'virtual_server group G {\n    real_server 172.30.0.1 80 {\n        weight 1\n    }\n}',
  '@lb1 virtual_server 10.8.8.8 80 {\n@lb1 }',
  '$X=1',
  'include inc/*.conf',
  'include inc/a.conf',
  '} virtual_server 10.7.7.7 80 {',
  '    real_server 172.16.0.9 8080 { weight 2 }',
];

function edit(rand: () => number, text: string): string {
  const lines = text.split('\n');
  const at = Math.floor(rand() * (lines.length + 1));
  const pick = () => SNIPPETS[Math.floor(rand() * SNIPPETS.length)];
  const k = rand();
  if (k < 0.25 && lines.length > 0) {
    // Change a character (a digit, a letter of a word or keyword, a brace, a comment sign) in place: the
    // line count stays.
    const i = Math.min(at, lines.length - 1);
    const l = lines[i];
    const c = Math.floor(rand() * (l.length + 1));
    const chars = '0123456789{} x_.a#';
    const ch = chars[Math.floor(rand() * chars.length)];
    lines[i] = l.slice(0, c) + ch + l.slice(c + 1);
  } else if (k < 0.5) lines.splice(at, 0, ...pick().split('\n'));
  else if (k < 0.7 && lines.length > 0) lines.splice(at, 1 + Math.floor(rand() * 4));
  else if (k < 0.85 && lines.length > 0) {
    // Move a run of lines elsewhere (across blocks).
    const n = 1 + Math.floor(rand() * 6);
    const cut = lines.splice(at, n);
    lines.splice(Math.floor(rand() * (lines.length + 1)), 0, ...cut);
  } else {
    // Replace the weight of some real server (the common reload).
    const i = lines.findIndex((l, j) => j >= at && /weight \d+/.test(l));
    if (i >= 0) lines[i] = lines[i].replace(/weight \d+/, `weight ${Math.floor(rand() * 300)}`);
  }
  return lines.join('\n');
}

function editIncludes(rand: () => number, dir: string): void {
  const inc = path.join(dir, 'inc');
  const k = rand();
  const name = path.join(inc, `${'ab'[Math.floor(rand() * 2)]}.conf`);
  if (k < 0.4) fs.writeFileSync(name, virtualServer(rand, 200 + Math.floor(rand() * 3)) + '\n');
  else if (k < 0.6) fs.rmSync(name, { force: true });
  else if (k < 0.8 && fs.existsSync(name)) fs.writeFileSync(name, edit(rand, fs.readFileSync(name, 'utf8')));
}

/** Loads incrementally, compares with a full load, and returns the model (for the next comparison). */
function sameAsFull(
  loader: IncrementalLoader,
  file: string,
  what: string,
  prev?: Config,
): Config | undefined {
  const inc = loader.load(file);
  const full = validateConfigFile(file, OPTS);
  assert.deepStrictEqual(inc, full, what);
  // What the loader says changed: every other virtual server is the very object of the previous load.
  const change = loader.lastChange;
  if (change && prev && inc.config) {
    const before = new Set(prev.virtual_servers);
    const now = new Set(inc.config.virtual_servers);
    const added = new Set(change.added);
    const removed = new Set(change.removed);
    for (const vs of now)
      assert.ok(added.has(vs) || before.has(vs), `${what}\n${vs.id} is new but not in added`);
    for (const vs of before)
      assert.ok(removed.has(vs) || now.has(vs), `${what}\n${vs.id} is gone but not in removed`);
    for (const vs of added) assert.ok(!before.has(vs), `${what}\n${vs.id} is in added but was there`);
  }
  return inc.config;
}

describe('incremental load equals a full load', () => {
  // The file read through the addon's mapping, and with read(2).
  for (const mapped of [true, false])
    test(`${SEEDS} seeds x ${EDITS} random edits (valid and invalid files, includes), ${mapped ? 'mapped' : 'read(2)'}`, () => {
      useMappedFiles(mapped);
      try {
        randomEdits();
      } finally {
        useMappedFiles(true);
      }
    });

  function randomEdits(): void {
    let reusedSome = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const rand = prng(seed);
      const blocks: string[] = [];
      if (rand() < 0.5) blocks.push('global_defs {\n    router_id lb1\n}');
      if (rand() < 0.5) blocks.push(vrrpInstance(1));
      const n = 3 + Math.floor(rand() * 8);
      for (let i = 0; i < n; i++) blocks.push(virtualServer(rand, i));
      if (rand() < 0.3) blocks.splice(Math.floor(rand() * blocks.length), 0, 'include inc/*.conf');
      const dir = tempFiles({
        'keepalived.conf': blocks.join('\n\n') + '\n',
        'inc/a.conf': virtualServer(rand, 100),
      });
      const file = path.join(dir, 'keepalived.conf');
      const loader = new IncrementalLoader(OPTS);
      let prev = sameAsFull(loader, file, `seed ${seed}: first load`);
      let text = fs.readFileSync(file, 'utf8');
      for (let e = 0; e < EDITS; e++) {
        if (rand() < 0.2) editIncludes(rand, dir);
        else {
          text = edit(rand, text);
          fs.writeFileSync(file, text);
        }
        prev = sameAsFull(loader, file, `seed ${seed}, edit ${e}:\n${text}`, prev);
        if (!loader.lastStats.full && loader.lastStats.reused > 0) reusedSome++;
      }
      fs.rmSync(dir, { recursive: true });
    }
    // The test would prove nothing if every load fell back to reading the whole file.
    assert.ok(reusedSome > SEEDS * 2, `only ${reusedSome} loads reused segments`);
  }

  test('100 reloads in a row that move the blocks after them: lines and positions stay right', () => {
    // Each edit adds or removes bytes and lines before many blocks, which then move without a step for
    // each: after many such reloads every position (errors, host facts, duplicates) is still a full load's.
    const rand = prng(11);
    const blocks = ['global_defs {\n    router_id lb1\n}', vrrpInstance(1)];
    // Long runs of plain virtual servers (nothing to report), which a reload hands on at once.
    const plain = (i: number) =>
      `virtual_server 10.0.${i >> 8}.${i & 255} 80 {\n    real_server 172.16.${i & 255}.1 8080 {\n        weight 1\n    }\n}`;
    for (let i = 0; i < 150; i++) blocks.push(plain(i));
    // A host fact that is reported (a missing program), far down the file.
    blocks.push(
      [
        'virtual_server 10.1.0.1 80 {',
        '    real_server 172.17.0.1 80 {',
        '        MISC_CHECK {',
        '            misc_path "/bin/missing"',
        '        }',
        '    }',
        '}',
      ].join('\n'),
    );
    for (let i = 150; i < 160; i++) blocks.push(virtualServer(rand, i));
    const dir = tempFiles({ 'keepalived.conf': blocks.join('\n') + '\n' });
    const file = path.join(dir, 'keepalived.conf');
    const loader = new IncrementalLoader(OPTS);
    let prev = sameAsFull(loader, file, 'first load');
    let text = fs.readFileSync(file, 'utf8');
    let incremental = 0;
    for (let e = 0; e < 100; e++) {
      const lines = text.split('\n');
      const k = rand();
      if (k < 0.4) {
        // A weight of another length somewhere.
        const from = Math.floor(rand() * lines.length);
        const i = lines.findIndex((l, j) => j >= from && /weight \d+/.test(l));
        if (i >= 0) lines[i] = lines[i].replace(/weight \d+/, `weight ${Math.floor(rand() * 1000)}`);
      } else if (k < 0.8) {
        // A comment line added before a block, or one removed.
        const at = lines.findIndex(
          (l, j) => j >= Math.floor(rand() * lines.length) && l.startsWith('virtual_server'),
        );
        if (at >= 0) lines.splice(at, 0, '# note ' + e);
      } else {
        const at = lines.findIndex((l) => l.startsWith('# note'));
        if (at >= 0) lines.splice(at, 1);
      }
      // A duplicate names the line of the first definition, moved by the edits above it.
      if (e === 60)
        lines.push(
          'virtual_server 10.0.0.100 80 {',
          '    real_server 172.31.0.1 80 {',
          '        weight 1',
          '    }',
          '}',
        );
      if (e === 70) lines.splice(2, 0, '    bogus_key 1');
      text = lines.join('\n');
      fs.writeFileSync(file, text);
      prev = sameAsFull(loader, file, `edit ${e}:\n${text}`, prev);
      if (!loader.lastStats.full) incremental++;
    }
    assert.ok(incremental >= 90, `only ${incremental} of 100 loads were incremental`);
    const last = loader.load(file);
    assert.ok(last.diagnostics.some((d) => /defined twice \(first at line \d+\)/.test(d.message)));
    assert.ok(last.diagnostics.some((d) => d.message.includes('/bin/missing')));
    fs.rmSync(dir, { recursive: true });
  });

  test('one changed weight: one block read again, every other virtual server the same object', () => {
    const rand = prng(7);
    const blocks = [vrrpInstance(1)];
    for (let i = 0; i < 600; i++) blocks.push(virtualServer(rand, i));
    const dir = tempFiles({ 'keepalived.conf': blocks.join('\n') + '\n' });
    const file = path.join(dir, 'keepalived.conf');
    const loader = new IncrementalLoader(OPTS);
    const first = loader.load(file).config!;
    const text = fs.readFileSync(file, 'utf8');
    const vs20 = text.indexOf('virtual_server 10.0.1.164 ');
    const at = text.indexOf('weight 1', vs20);
    // A comment line added before virtual server 20, and a weight changed in it: the servers after it move
    // down one line.
    const edited = (weight: string) =>
      text.slice(0, vs20) + '# a new line\n' + text.slice(vs20, at) + weight + text.slice(at + 8);
    fs.writeFileSync(file, edited('weight 9'));
    const r = loader.load(file);
    assert.deepEqual(loader.lastStats.full, false);
    assert.ok(loader.lastStats.parsed <= 5, `parsed ${loader.lastStats.parsed} segments`);
    const next = r.config!;
    assert.equal(next.virtual_servers.length, 600);
    next.virtual_servers.forEach((vs, i) => {
      if (i === 420) assert.notEqual(vs, first.virtual_servers[i]);
      else if (i < 418 || i > 421)
        assert.equal(vs, first.virtual_servers[i], `virtual server ${i} was built again`);
    });
    assert.equal(next.virtual_servers[420].real_servers[0].weight, 9);
    // Only a number changed (no brace, line end, comment or quote): its block alone is read again, and
    // only its virtual server is new.
    const at9 = edited('weight 9').indexOf('weight 9', vs20);
    fs.writeFileSync(file, edited('weight 9').slice(0, at9) + 'weight 4' + edited('weight 9').slice(at9 + 8));
    const digit = loader.load(file);
    assert.deepEqual(loader.lastStats, { full: false, parsed: 1, reused: 600 });
    assert.deepEqual(digit, validateConfigFile(file, OPTS));
    digit.config!.virtual_servers.forEach((vs, i) =>
      i === 420 ? assert.notEqual(vs, next.virtual_servers[i]) : assert.equal(vs, next.virtual_servers[i]),
    );
    assert.deepEqual(loader.lastChange?.removed, [next.virtual_servers[420]]);
    assert.equal(digit.config!.virtual_servers[420].real_servers[0].weight, 4);
    // A first line that makes the file YAML: the format is told again (not kept from the previous load).
    fs.writeFileSync(file, 'virtual_servers:\n' + text);
    assert.deepEqual(loader.load(file), validateConfigFile(file, OPTS));
    assert.equal(loader.lastStats.full, true);
    fs.writeFileSync(file, text);
    loader.load(file);
    // An error after the inserted line names the moved line.
    fs.writeFileSync(file, '# a new first line\n' + text.slice(0, at) + 'weight 70000' + text.slice(at + 8));
    const bad = loader.load(file);
    const full = validateConfigFile(file, OPTS);
    assert.deepEqual(bad.diagnostics, full.diagnostics);
    assert.equal(bad.errors, 1);
    // A duplicate at the end names the line of the first definition, which a line added above moved.
    const dup = 'virtual_server 10.0.0.30 80 {\n}\n';
    fs.writeFileSync(file, text + dup);
    loader.load(file);
    fs.writeFileSync(file, text.slice(0, vs20) + '# a new line\n' + text.slice(vs20) + dup);
    const moved = loader.load(file);
    assert.equal(loader.lastStats.full, false);
    assert.deepEqual(moved.diagnostics, validateConfigFile(file, OPTS).diagnostics);
    assert.ok(moved.diagnostics.some((d) => /defined twice \(first at line \d+\)/.test(d.message)));
    fs.rmSync(dir, { recursive: true });
  });
});
