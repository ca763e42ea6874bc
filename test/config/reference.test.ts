/**
 * The keepalived configurations operators run (../shared/reference/) load, and their import round-trips:
 * keepalived.conf -> YAML -> model equals keepalived.conf -> model. The example YAML files in config/ load.
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { importKeepalived } from '../../src/config/yaml/emit';
import { REFERENCE, ROOT, messages, tempFiles, validate } from './helpers';

const refs = fs.existsSync(REFERENCE)
  ? fs
      .readdirSync(REFERENCE)
      .filter((f) => f.endsWith('.conf'))
      .sort()
  : [];

describe('reference keepalived configurations', () => {
  test('there are reference configurations to check', () => {
    assert.deepEqual(refs, [
      'keepalived-lvs-dr.conf',
      'keepalived-track-script.conf',
      'keepalived-two-vips.conf',
    ]);
  });

  for (const name of refs) {
    const file = path.join(REFERENCE, name);
    test(`${name} loads as keepalived, and its import gives the same model`, () => {
      const direct = validate(file);
      assert.equal(direct.format, 'keepalived');
      assert.deepEqual(messages(direct), []);
      assert.ok(direct.config);
      const imp = importKeepalived(file);
      assert.equal(imp.errors, 0);
      assert.match(imp.yaml, /^# Imported from /);
      const dir = tempFiles({ 'imported.yaml': imp.yaml });
      const viaYaml = validate(path.join(dir, 'imported.yaml'));
      assert.equal(viaYaml.format, 'yaml');
      assert.deepEqual(messages(viaYaml, true), []);
      assert.deepEqual(viaYaml.config, direct.config);
      fs.rmSync(dir, { recursive: true });
    });
  }

  test('keepalived-lvs-dr.conf: the DR service, its real servers and checks', () => {
    const r = validate(path.join(REFERENCE, 'keepalived-lvs-dr.conf'));
    const c = r.config!;
    assert.equal(c.global.router_id, 'lvs1');
    assert.equal(c.vrrp_instances.length, 1);
    const vi = c.vrrp_instances[0];
    assert.deepEqual(
      [vi.name, vi.state, vi.interface, vi.virtual_router_id, vi.priority, vi.advert_int, vi.version],
      ['VI_1', 'MASTER', 'eth0', 50, 100, 1000, 2],
    );
    assert.deepEqual(vi.authentication, { auth_type: 'PASS', auth_pass: '1111' });
    assert.deepEqual(vi.virtual_ipaddress, [
      { address: '192.168.4.15', family: 'inet', prefix: 32, no_track: false },
    ]);
    const vs = c.virtual_servers[0];
    assert.equal(vs.id, 'TCP 192.168.4.15:80');
    assert.deepEqual(
      [vs.lvs_sched, vs.forwarding.method, vs.delay_loop, vs.persistence_timeout],
      ['wrr', 'DR', 6000, undefined],
    );
    assert.deepEqual(
      vs.real_servers.map((rs) => [rs.address, rs.port, rs.weight, rs.forwarding.method]),
      [
        ['192.168.4.100', 80, 1, 'DR'],
        ['192.168.4.200', 80, 2, 'DR'],
      ],
    );
    for (const rs of vs.real_servers) {
      assert.equal(rs.checks.length, 1);
      const ck = rs.checks[0];
      assert.deepEqual(
        [ck.checker, ck.connect_timeout, ck.retry, ck.delay_before_retry, ck.delay_loop],
        ['TCP_CHECK', 3000, 3, 3000, 6000],
      );
    }
    // The mail settings are harmless: warnings with their lines, carried as comments by the import.
    assert.deepEqual(
      r.diagnostics.filter((d) => d.severity === 'warning').map((d) => `${d.line}:${d.column} ${d.message}`),
      [
        "3:4 'notification_email' is ignored: lbd sends no mail",
        "6:4 'notification_email_from' is ignored: lbd sends no mail",
        "7:4 'smtp_server' is ignored: lbd sends no mail",
        "8:4 'smtp_connect_timeout' is ignored: lbd sends no mail",
      ],
    );
    const yaml = importKeepalived(path.join(REFERENCE, 'keepalived-lvs-dr.conf')).yaml;
    assert.match(yaml, /# Configuration File for keepalived: LVS-DR director, master side\n/);
    assert.match(yaml, /# keepalived: smtp_server 127\.0\.0\.1 \(ignored: lbd sends no mail\)\n/);
    assert.match(yaml, /\n {4}# persistence_timeout 50\n {4}protocol: TCP\n/);
  });

  test('keepalived-track-script.conf: the script and its tracking', () => {
    const c = validate(path.join(REFERENCE, 'keepalived-track-script.conf')).config!;
    assert.deepEqual(c.vrrp_scripts, [
      {
        name: 'check_nginx',
        script: '/etc/keepalived/check_nginx.sh',
        interval: 2000,
        timeout: 2000,
        weight: 2,
        weight_reverse: false,
        rise: 1,
        fall: 1,
        init_fail: false,
      },
    ]);
    assert.deepEqual(c.vrrp_instances[0].track_script, [
      { script: 'check_nginx', weight: 2, reverse: false },
    ]);
    assert.equal(c.global.script_user, 'root');
    assert.equal(c.global.enable_script_security, true);
  });

  test('keepalived-two-vips.conf: crossed priorities, VIPs with prefix and dev', () => {
    const c = validate(path.join(REFERENCE, 'keepalived-two-vips.conf')).config!;
    assert.deepEqual(
      c.vrrp_instances.map((i) => [i.name, i.virtual_router_id, i.priority, i.virtual_ipaddress[0]]),
      [
        [
          'VI_141',
          141,
          50,
          { address: '192.168.10.141', family: 'inet', prefix: 26, dev: 'eth0', no_track: false },
        ],
        [
          'VI_142',
          142,
          100,
          { address: '192.168.10.142', family: 'inet', prefix: 26, dev: 'eth0', no_track: false },
        ],
      ],
    );
  });
});

describe('example configurations in config/', () => {
  const dir = path.join(ROOT, 'config');
  const examples = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  test('there are examples', () => assert.ok(examples.length >= 3));
  for (const name of examples) {
    test(`${name} is valid YAML configuration with no warnings`, () => {
      const r = validate(path.join(dir, name));
      assert.equal(r.format, 'yaml');
      assert.deepEqual(messages(r, true), []);
      assert.ok(r.config);
    });
  }
});
