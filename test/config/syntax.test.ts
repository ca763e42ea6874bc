/** The syntaxes' features: keepalived.conf parsing, includes, conditionals, definitions, YAML details, host checks. */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../../src/config/diagnostics';
import { formatDuration, parseDuration } from '../../src/config/duration';
import { expandBraces, glob } from '../../src/config/glob';
import { detectFormat, loadConfigFile } from '../../src/config/load';
import { didYouMean } from '../../src/config/suggest';
import { importKeepalived } from '../../src/config/yaml/emit';
import { messages, tempFiles, validate, validateText } from './helpers';

const VS = (body: string) => `virtual_server 10.0.0.1 80 {\n${body}\n}\n`;

describe('keepalived.conf syntax', () => {
  test('comments with ! and #, anywhere on a line', () => {
    const r = validateText(
      `! a comment\n# another\nvirtual_server 10.0.0.1 80 { # trailing\n  lb_algo rr ! trailing too\n  real_server 10.0.0.2 80 {\n  }\n}\n`,
      'keepalived',
    );
    assert.deepEqual(messages(r, true), []);
    assert.equal(r.config!.virtual_servers[0].lvs_sched, 'rr');
  });

  test('quoted strings keep spaces and escapes; unquoted words make a command line', () => {
    const r = validateText(
      `vrrp_script chk {\n  script "/bin/check \\"a b\\""\n}\nvrrp_script chk2 {\n  script '/bin/x  y'\n}\nvrrp_script chk3 {\n  script /bin/z --flag value\n}\n`,
      'keepalived',
    );
    assert.deepEqual(messages(r), []);
    assert.deepEqual(
      r.config!.vrrp_scripts.map((s) => s.script),
      ['/bin/check "a b"', '/bin/x  y', '/bin/z --flag value'],
    );
  });

  test('blocks on one line, across lines, and with the brace on the next line', () => {
    const r = validateText(
      `vrrp_instance VI_1\n{\n  interface eth0\n  virtual_router_id 1\n  virtual_ipaddress { 10.0.0.1/24 }\n  authentication { auth_type PASS\n auth_pass x }\n}\n`,
      'keepalived',
    );
    assert.deepEqual(messages(r), []);
    const i = r.config!.vrrp_instances[0];
    assert.equal(i.virtual_ipaddress[0].address, '10.0.0.1');
    assert.deepEqual(i.authentication, { auth_type: 'PASS', auth_pass: 'x' });
  });

  test('@id lines are kept only for the matching config id, @^id only for the others', () => {
    const text = `global_defs {\n  @main router_id main_router\n  @backup router_id backup_router\n  @^main lvs_flush\n}\n`;
    const main = validateText(text, 'keepalived', { configId: 'main' }).config!.global;
    const backup = validateText(text, 'keepalived', { configId: 'backup' }).config!.global;
    assert.deepEqual([main.router_id, main.lvs_flush], ['main_router', false]);
    assert.deepEqual([backup.router_id, backup.lvs_flush], ['backup_router', true]);
  });

  test('$NAME=value definitions, $NAME and ${NAME}, multi-line definitions, _HASH', () => {
    const text = [
      '$PRIO=150',
      '$NET=10.1',
      '$INST= \\',
      'vrrp_instance VI_${N} { \\',
      '  interface eth0 \\',
      '  virtual_router_id ${N} \\',
      '  priority $PRIO \\',
      '  virtual_ipaddress { \\',
      '    ${NET}.${N}.1/24 \\',
      '  } \\',
      '}',
      '$N=1',
      '$INST',
      '$N=2',
      '$INST',
      'vrrp_script s {',
      '  script "/bin/echo ${_HASH}"',
      '}',
    ].join('\n');
    const r = validateText(text, 'keepalived');
    assert.deepEqual(messages(r), []);
    assert.deepEqual(
      r.config!.vrrp_instances.map((i) => [
        i.name,
        i.virtual_router_id,
        i.priority,
        i.virtual_ipaddress[0].address,
      ]),
      [
        ['VI_1', 1, 150, '10.1.1.1'],
        ['VI_2', 2, 150, '10.1.2.1'],
      ],
    );
    assert.equal(r.config!.vrrp_scripts[0].script, '/bin/echo #');
  });

  test('include with a glob, relative to the including file, with positions in the included file', () => {
    const dir = tempFiles({
      'keepalived.conf': `global_defs {\n  router_id top\n}\ninclude conf.d/*.conf\n`,
      'conf.d/a.conf': VS('  lb_algo rr\n  real_server 10.0.0.2 80 {\n  }'),
      'conf.d/b.conf': `virtual_server 10.0.0.3 80 {\n  lb_algo bogus\n}\n`,
      'conf.d/skip.txt': 'not included\n',
    });
    const r = validate(path.join(dir, 'keepalived.conf'));
    assert.deepEqual(
      r.diagnostics
        .filter((d) => d.severity === 'error')
        .map((d) => `${path.relative(dir, d.file)}:${d.line}:${d.column}`),
      ['conf.d/b.conf:2:11'],
    );
    assert.deepEqual(
      r.files.map((f) => path.relative(dir, f)),
      ['keepalived.conf', 'conf.d/a.conf', 'conf.d/b.conf'],
    );
    fs.rmSync(dir, { recursive: true });
  });

  test('definitions that multiply are stopped, quickly', () => {
    const t0 = Date.now();
    for (const text of ['$X=$X $X $X $X $X $X $X $X $X $X\n$X\n', '$M= \\\n$M \\\n$M \\\n$M\n$M\n']) {
      const r = validateText(text, 'keepalived');
      assert.ok(
        r.diagnostics.some(
          (d) => d.message === 'definitions expand without bound (a definition that uses itself?)',
        ),
        JSON.stringify(r.diagnostics),
      );
    }
    assert.ok(Date.now() - t0 < 10_000);
  });

  test('an include cycle is an error, not a hang', () => {
    const dir = tempFiles({ 'a.conf': 'include b.conf\n', 'b.conf': 'include a.conf\n' });
    const r = validate(path.join(dir, 'a.conf'));
    assert.equal(r.errors, 1);
    assert.match(r.diagnostics[0].message, /includes itself \(a\.conf -> b\.conf -> a\.conf\)/);
    fs.rmSync(dir, { recursive: true });
  });

  test('harmless keywords are warnings with their lines; behaviour-changing ones are errors', () => {
    const r = validateText(
      `global_defs {\n  notification_email {\n    a@b\n  }\n  smtp_server 127.0.0.1\n  enable_traps\n}\nvrrp_instance V {\n  interface eth0\n  virtual_router_id 3\n  use_vmac\n  smtp_alert\n}\n`,
      'keepalived',
    );
    assert.deepEqual(messages(r, true), [
      "2:3 'notification_email' is ignored: lbd sends no mail",
      "5:3 'smtp_server' is ignored: lbd sends no mail",
      "6:3 'enable_traps' is ignored: lbd exports Prometheus metrics, not SNMP",
      "11:3 'use_vmac' is not supported by lbd: virtual MAC interfaces are not supported",
      "12:3 'smtp_alert' is ignored: lbd sends no mail",
    ]);
    assert.deepEqual(
      r.diagnostics.map((d) => d.severity),
      ['warning', 'warning', 'warning', 'error', 'warning'],
    );
  });

  test('old spellings map to the same model: lb_algo, lb_kind, nb_get_retry, lvs_id', () => {
    const a = validateText(
      `global_defs {\n lvs_id x\n}\n` +
        VS(
          '  lb_algo rr\n  lb_kind DR\n  real_server 10.0.0.2 80 {\n    TCP_CHECK {\n      nb_get_retry 7\n    }\n  }',
        ),
      'keepalived',
    );
    const b = validateText(
      `global_defs {\n router_id x\n}\n` +
        VS(
          '  lvs_sched rr\n  lvs_method DR\n  real_server 10.0.0.2 80 {\n    TCP_CHECK {\n      retry 7\n    }\n  }',
        ),
      'keepalived',
    );
    assert.deepEqual(messages(a), []);
    assert.deepEqual(a.config, b.config);
  });
});

describe('YAML syntax', () => {
  test('include with globs merges named sections and appends virtual servers; positions point into each file', () => {
    const dir = tempFiles({
      'lbd.yaml': `include: [conf.d/*.yaml, 'extra/{a,b}.yaml']\nvirtual_servers:\n  - { address: 10.0.0.1, port: 80, real_servers: [{ address: 10.0.0.2 }] }\n`,
      'conf.d/vrrp.yaml': `vrrp_instances:\n  VI_1: { interface: eth0, virtual_router_id: 1 }\n`,
      'extra/a.yaml': `virtual_servers:\n  - { address: 10.0.0.1, port: 81, real_servers: [{ address: 10.0.0.2 }] }\n`,
      'extra/b.yaml': `vrrp_instances:\n  VI_2:\n    interface: eth0\n    virtual_router_id: 1\n`,
    });
    const r = validate(path.join(dir, 'lbd.yaml'));
    assert.deepEqual(
      r.diagnostics.map((d) => `${path.relative(dir, d.file)}:${d.line}:${d.column} ${d.message}`),
      [
        "extra/b.yaml:4:24 virtual_router_id 1 is already used on eth0 by vrrp_instance 'VI_1' (line 2 of vrrp.yaml)",
      ],
    );
    fs.rmSync(dir, { recursive: true });
  });

  test('anchors and aliases are resolved; merge keys are refused', () => {
    const ok = validateText(`x-rs: &rs { address: 10.0.0.2 }\n`, 'yaml');
    assert.deepEqual(messages(ok), ["1:1 unknown key 'x-rs' at the top level"]);
    const alias = validateText(
      `virtual_servers:\n  - { address: 10.0.0.1, port: 80, real_servers: [&a { address: 10.0.0.2 }] }\n  - { address: 10.0.0.1, port: 81, real_servers: [*a] }\n`,
      'yaml',
    );
    assert.deepEqual(messages(alias), []);
    assert.equal(alias.config!.virtual_servers[1].real_servers[0].address, '10.0.0.2');
    const merge = validateText(`global: &g { router_id: a }\nmetrics:\n  <<: *g\n`, 'yaml');
    assert.deepEqual(messages(merge), ['3:3 merge keys (<<) are not supported; repeat the settings']);
  });

  test('a duplicate real server is found among many', () => {
    let text = 'virtual_servers:\n  - address: 10.0.0.1\n    port: 80\n    real_servers:\n';
    for (let i = 0; i < 200; i++) text += `      - { address: 10.1.${i >> 8}.${i & 255} }\n`;
    text += '      - { address: 10.1.0.100, port: 80 }\n';
    assert.deepEqual(messages(validateText(text, 'yaml')), [
      '205:9 real server 10.1.0.100:80 is listed twice in virtual server TCP 10.0.0.1:80 (first at line 105)',
    ]);
  });

  test('aliases of aliases ("billion laughs") are stopped', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 10; i++) {
      const n = String.fromCharCode(97 + i);
      const prev = String.fromCharCode(96 + i);
      lines.push(`${n}: &${n} [${new Array(10).fill('*' + prev).join(', ')}]`);
    }
    const r = validateText(lines.join('\n') + '\n', 'yaml');
    assert.ok(
      r.diagnostics.some((d) => d.message === 'the document expands to too many nodes (aliases of aliases?)'),
    );
  });

  test('an empty file is a valid, empty configuration', () => {
    const r = validateText('', 'yaml');
    assert.deepEqual(messages(r, true), []);
    assert.deepEqual(r.config!.virtual_servers, []);
  });
});

describe('format detection, durations, hints', () => {
  test('detectFormat reads the content, not the name', () => {
    assert.equal(detectFormat('global_defs {\n}\n', 'x.yaml'), 'keepalived');
    assert.equal(detectFormat('! comment\nfoo\n', 'x.yaml'), 'keepalived');
    assert.equal(detectFormat('# c\nglobal:\n  router_id: a\n', 'keepalived.conf'), 'yaml');
    assert.equal(detectFormat('---\n', 'a'), 'yaml');
    assert.equal(detectFormat('', 'a.yml'), 'yaml');
    assert.equal(detectFormat('', 'keepalived.conf'), 'keepalived');
  });

  test('durations', () => {
    assert.equal(parseDuration('1s'), 1000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('1m30s'), 90000);
    assert.equal(parseDuration('0.5s'), 500);
    assert.equal(parseDuration('250us'), 0.25);
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.equal(parseDuration('0'), 0);
    for (const bad of ['', '1', 's', '1 s', '-1s', '1x', '1s2'])
      assert.equal(parseDuration(bad), undefined, bad);
    assert.deepEqual([6000, 500, 900000, 90000, 1, 0.001, 0].map(formatDuration), [
      '6s',
      '500ms',
      '15m',
      '90s',
      '1ms',
      '1us',
      '0s',
    ]);
    for (const ms of [1, 10, 999, 1000, 1500, 60000, 3_600_000, 0.5, 123456])
      assert.equal(parseDuration(formatDuration(ms)), ms);
  });

  test('did you mean', () => {
    assert.equal(
      didYouMean('delay_lop', ['delay_loop', 'delay_before_retry']),
      "; did you mean 'delay_loop'?",
    );
    assert.equal(didYouMean('zzz', ['delay_loop']), '');
  });

  test('globs and braces', () => {
    assert.deepEqual(expandBraces('a{b,c{d,e}}f'), ['abf', 'acdf', 'acef']);
    const dir = tempFiles({ 'x/1.conf': '', 'x/2.conf': '', 'x/.hidden.conf': '', 'y/3.conf': '' });
    assert.deepEqual(
      glob('*/[12].conf', dir).map((f) => path.relative(dir, f)),
      ['x/1.conf', 'x/2.conf'],
    );
    assert.deepEqual(
      glob('{x,y}/*.conf', dir).map((f) => path.relative(dir, f)),
      ['x/1.conf', 'x/2.conf', 'y/3.conf'],
    );
    assert.deepEqual(glob('nothing/*', dir), []);
    fs.rmSync(dir, { recursive: true });
  });
});

describe('host facts and loading for lbd', () => {
  const text = `vrrp_script chk {\n  script /nonexistent/check arg\n}\nvrrp_instance V {\n  interface lbd-no-such-if0\n  virtual_router_id 9\n  track_script {\n    chk\n  }\n  virtual_ipaddress {\n    10.0.0.1/24 dev lo\n  }\n}\n`;

  test('missing interfaces and scripts are warnings when validating', () => {
    const r = validateText(text, 'keepalived', { hostChecks: 'warning' });
    assert.ok(r.config);
    assert.deepEqual(messages(r, true), [
      "2:10 program '/nonexistent/check' (script of vrrp_script 'chk') does not exist on this host",
      "5:13 interface 'lbd-no-such-if0' (interface of vrrp_instance 'V') does not exist on this host",
    ]);
    assert.ok(r.diagnostics.every((d) => d.severity === 'warning'));
  });

  test('and errors when lbd starts', () => {
    const r = validateText(text, 'keepalived', { hostChecks: 'error' });
    assert.equal(r.config, undefined);
    assert.equal(r.errors, 2);
  });

  test('a fake host decides what exists', () => {
    const host = {
      interfaceExists: (n: string) => n === 'lbd-no-such-if0' || n === 'lo',
      programProblem: () => undefined,
    };
    const r = validateText(text, 'keepalived', { hostChecks: 'error', host });
    assert.deepEqual(messages(r, true), []);
  });

  test('loadConfigFile throws a ConfigError with every error, and flags unreadable files', () => {
    const dir = tempFiles({ 'bad.yaml': 'vrrp_instances:\n  V: { priority: 0 }\n' });
    assert.throws(
      () => loadConfigFile(path.join(dir, 'bad.yaml')),
      (e: unknown) =>
        e instanceof ConfigError && !e.unreadable && e.diagnostics.length === 3 && /priority/.test(e.message),
    );
    assert.throws(
      () => loadConfigFile(path.join(dir, 'missing.yaml')),
      (e: unknown) => e instanceof ConfigError && e.unreadable,
    );
    fs.rmSync(dir, { recursive: true });
  });

  test('import-keepalived refuses an invalid file and says why', () => {
    const dir = tempFiles({ 'k.conf': VS('  lb_algo nope') });
    const r = importKeepalived(path.join(dir, 'k.conf'));
    assert.equal(r.yaml, '');
    assert.equal(r.errors, 1);
    fs.rmSync(dir, { recursive: true });
  });
});
