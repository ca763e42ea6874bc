/** lbctl validate, lbctl import-keepalived and lbd --validate: output and exit codes. */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FIXTURES, INVALID, REFERENCE, ROOT, tempFiles } from './helpers';

function run(bin: string, ...args: string[]) {
  return spawnSync(path.join(ROOT, 'bin', bin), args, { encoding: 'utf8' });
}

describe('lbctl validate / lbd --validate', () => {
  const lvs = path.join(REFERENCE, 'keepalived-lvs-dr.conf');

  test('a valid file: exit 0 and a one-line summary', () => {
    for (const r of [
      run('lbctl', 'validate', lvs),
      run('lbd', '--validate', '-f', lvs),
      run('lbd', '-t', '-f', lvs),
    ]) {
      assert.equal(r.status, 0, r.stderr);
      assert.equal(
        r.stdout,
        `${lvs}: valid keepalived configuration: 1 VRRP instance, 1 virtual server, 2 real servers, 4 warnings\n`,
      );
      assert.match(
        r.stderr,
        /keepalived-lvs-dr\.conf:7:4: warning: 'smtp_server' is ignored: lbd sends no mail\n/,
      );
    }
  });

  test('an invalid file: exit 1 and every error with file:line:column', () => {
    const file = path.join(INVALID, 'many-errors.yaml');
    const r = run('lbctl', 'validate', file);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 7);
    assert.equal(
      lines[0],
      `${file}:3:12: error: 'state' must be one of MASTER, BACKUP, got 'BACKUPP'; did you mean 'BACKUP'?`,
    );
    assert.equal(lines[6], `lbctl: ${file}: 6 errors, 0 warnings`);
    const d = run('lbd', '--validate', '-f', file);
    assert.equal(d.status, 1);
    assert.equal(d.stderr.split('\n').filter((l) => l.includes(': error: ')).length, 6);
  });

  test('an unreadable file: exit 2', () => {
    for (const r of [
      run('lbctl', 'validate', '/nonexistent/lbd.yaml'),
      run('lbd', '--validate', '-f', '/nonexistent/lbd.yaml'),
    ]) {
      assert.equal(r.status, 2);
      assert.match(r.stderr, /cannot read '\/nonexistent\/lbd\.yaml'/);
    }
  });

  test('--format forces the syntax', () => {
    const r = run('lbctl', 'validate', '--format', 'keepalived', path.join(FIXTURES, 'full.yaml'));
    assert.equal(r.status, 1);
    const ok = run('lbd', '--validate', '--format=yaml', '-f', path.join(FIXTURES, 'full.yaml'));
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(
      ok.stdout,
      /valid YAML configuration: 2 VRRP instances, 4 virtual servers, 6 real servers, \d+ warnings\n$/,
    );
  });

  test('facts of the host are warnings when validating (validation may run elsewhere)', () => {
    const dir = tempFiles({
      'v.yaml': 'vrrp_instances:\n  V: { interface: lbd-nope0, virtual_router_id: 1 }\n',
    });
    const file = path.join(dir, 'v.yaml');
    const r = run('lbctl', 'validate', file);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stderr,
      `${file}:2:19: warning: interface 'lbd-nope0' (interface of vrrp_instance 'V') does not exist on this host\n`,
    );
    fs.rmSync(dir, { recursive: true });
  });

  test('--host-checks error makes them errors', () => {
    const dir = tempFiles({
      'v.yaml': 'vrrp_instances:\n  V: { interface: lbd-nope0, virtual_router_id: 1 }\n',
    });
    const file = path.join(dir, 'v.yaml');
    for (const r of [
      run('lbctl', 'validate', '--host-checks', 'error', file),
      run('lbd', '--validate', '--host-checks=error', '-f', file),
    ]) {
      assert.equal(r.status, 1);
      assert.match(
        r.stderr,
        /v\.yaml:2:19: error: interface 'lbd-nope0' \(interface of vrrp_instance 'V'\) does not exist/,
      );
    }
    assert.equal(run('lbctl', 'validate', '--host-checks', 'off', file).stderr, '');
    fs.rmSync(dir, { recursive: true });
  });

  test('usage mistakes exit 2', () => {
    assert.equal(run('lbctl', 'validate').status, 2);
    assert.equal(run('lbctl', 'validate', '--format', 'json', 'x').status, 2);
    assert.equal(run('lbctl', 'validate', 'a', 'b').status, 2);
    assert.equal(run('lbd', '-f').status, 2);
    assert.match(
      run('lbd', '--format', 'xml', '-f', 'x').stderr,
      /^lbd: --format must be yaml or keepalived, not 'xml'\n/,
    );
  });
});

describe('-i / --config-id: which @ID lines count', () => {
  const conf = [
    'virtual_server 10.0.0.1 80 {',
    '    lb_kind NAT',
    '    real_server 10.0.1.1 80 {',
    '        weight 1',
    '    }',
    '}',
    '@lb2 virtual_server 10.0.0.2 80 {',
    '@lb2     lb_kind NAT',
    '@lb2     real_server 10.0.1.2 80 {',
    '@lb2         weight 2',
    '@lb2     }',
    '@lb2 }',
    '@^lb2 bogus_keyword 1',
    '',
  ].join('\n');

  test("'@lb2' lines count with -i lb2, '@^lb2' lines with any other id", () => {
    const dir = tempFiles({ 'keepalived.conf': conf });
    const file = path.join(dir, 'keepalived.conf');
    const summary = `${file}: valid keepalived configuration: 0 VRRP instances, 2 virtual servers, 2 real servers, 0 warnings\n`;
    for (const r of [
      run('lbctl', 'validate', '-i', 'lb2', file),
      run('lbctl', 'validate', '--config-id=lb2', file),
      run('lbd', '-t', '-i', 'lb2', '-f', file),
      run('lbd', '--validate', '--config-id', 'lb2', '-f', file),
    ]) {
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, summary);
      assert.equal(r.stderr, '');
    }
    for (const r of [
      run('lbctl', 'validate', '-i', 'lb1', file),
      run('lbd', '-t', '--config-id=lb1', '-f', file),
    ]) {
      assert.equal(r.status, 1);
      assert.equal(r.stdout, '');
      assert.match(
        r.stderr,
        new RegExp(`^${file}:13:7: error: unknown keyword 'bogus_keyword' at the top level\n`),
      );
    }
    const imported = run('lbctl', 'import-keepalived', '-i', 'lb2', file);
    assert.equal(imported.status, 0, imported.stderr);
    assert.match(imported.stdout, /10\.0\.1\.2/);
    fs.rmSync(dir, { recursive: true });
  });

  test('a missing or empty id is a usage error: exit 2', () => {
    assert.equal(run('lbctl', 'validate', 'x.conf', '-i').status, 2);
    assert.equal(run('lbctl', 'validate', '--config-id=', 'x.conf').status, 2);
    assert.equal(run('lbd', '-t', '-f', 'x.conf', '-i').status, 2);
    assert.match(
      run('lbd', '-t', '--config-id=', '-f', 'x.conf').stderr,
      /^lbd: --config-id needs a config id/,
    );
  });
});

describe('lbctl import-keepalived', () => {
  test('prints YAML that validates to the same summary', () => {
    const src = path.join(REFERENCE, 'keepalived-two-vips.conf');
    const r = run('lbctl', 'import-keepalived', src);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^# Imported from keepalived-two-vips\.conf by lbctl import-keepalived\n/);
    assert.match(r.stdout, /\n {6}- 192\.168\.10\.141\/26 dev eth0\n/);
    const dir = tempFiles({ 'lbd.yaml': r.stdout });
    const v = run('lbctl', 'validate', path.join(dir, 'lbd.yaml'));
    assert.equal(v.status, 0, v.stderr);
    assert.match(v.stdout, /valid YAML configuration: 2 VRRP instances, 0 virtual servers, 0 real servers/);
    fs.rmSync(dir, { recursive: true });
  });

  test('an invalid keepalived.conf: exit 1, nothing on stdout', () => {
    const r = run('lbctl', 'import-keepalived', path.join(INVALID, 'ka-priority-range.conf'));
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      /ka-priority-range\.conf:5:14: error: 'priority' must be between 1 and 255, got 256\n/,
    );
    assert.equal(run('lbctl', 'import-keepalived', '/nonexistent.conf').status, 2);
  });
});
