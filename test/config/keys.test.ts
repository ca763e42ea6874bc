/**
 * Every key in both syntaxes: fixtures/full.conf (keepalived) and fixtures/full.yaml (lbd YAML, with an
 * include) say the same thing with every supported keyword; both must give the same model, the import of
 * the keepalived file must too, and the model must hold what the files say.
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Config } from '../../src/config/model';
import { importKeepalived } from '../../src/config/yaml/emit';
import { FIXTURES, messages, tempFiles, validate } from './helpers';

function load(name: string): Config {
  const r = validate(path.join(FIXTURES, name));
  assert.deepEqual(messages(r), [], `${name} loads without errors`);
  assert.ok(r.config);
  return r.config;
}

/** The value at a dotted path ("vrrp_instances.0.priority"). */
function at(c: unknown, p: string): unknown {
  let v: unknown = c;
  for (const k of p.split('.')) v = (v as Record<string, unknown>)[k];
  return v;
}

const EXPECT: Array<[string, unknown]> = [
  ['global.router_id', 'lvs_full'],
  ['global.script_user', 'nobody'],
  ['global.script_group', 'nogroup'],
  ['global.enable_script_security', true],
  ['global.vrrp_version', 3],
  ['global.vrrp_mcast_group4', '224.0.0.18'],
  ['global.vrrp_mcast_group6', 'ff02::12'],
  ['global.vrrp_garp_master_delay', 10000],
  ['global.vrrp_garp_master_repeat', 2],
  ['global.vrrp_garp_master_refresh', 60000],
  ['global.vrrp_garp_master_refresh_repeat', 2],
  ['global.vrrp_garp_lower_prio_delay', 8000],
  ['global.vrrp_garp_lower_prio_repeat', 3],
  ['global.vrrp_garp_interval', 1],
  ['global.vrrp_gna_interval', 0.001],
  ['global.vrrp_min_garp', false],
  ['global.vrrp_strict', true],
  ['global.vrrp_skip_check_adv_addr', true],
  ['global.checker_log_all_failures', true],
  ['global.lvs_flush', true],
  ['global.lvs_flush_on_stop', true],
  [
    'lvs_sync_daemon',
    {
      interface: 'eth0',
      instance: 'VI_1',
      sync_id: 7,
      maxlen: 1400,
      port: 8849,
      ttl: 2,
      group: '224.0.0.82',
    },
  ],
  ['lvs_timeouts', { tcp: 900000, tcp_fin: 120000, udp: 300000 }],
  [
    'vrrp_scripts.0',
    {
      name: 'chk_a',
      script: '/usr/local/bin/chk a',
      interval: 2000,
      timeout: 1000,
      weight: -10,
      weight_reverse: true,
      rise: 2,
      fall: 3,
      user: 'nobody',
      group: 'nogroup',
      init_fail: true,
    },
  ],
  [
    'vrrp_scripts.1',
    {
      name: 'chk_b',
      script: '/usr/local/bin/chk_b',
      interval: 1000,
      timeout: 1000,
      weight: 0,
      weight_reverse: false,
      rise: 1,
      fall: 1,
      init_fail: false,
    },
  ],
  ['vrrp_instances.0.name', 'VI_1'],
  ['vrrp_instances.0.state', 'BACKUP'],
  ['vrrp_instances.0.interface', 'eth0'],
  ['vrrp_instances.0.virtual_router_id', 51],
  ['vrrp_instances.0.priority', 150],
  ['vrrp_instances.0.advert_int', 500],
  ['vrrp_instances.0.version', 3],
  ['vrrp_instances.0.family', 'inet'],
  [
    'vrrp_instances.0.virtual_ipaddress',
    [
      {
        address: '192.168.1.10',
        family: 'inet',
        prefix: 24,
        dev: 'eth0',
        label: 'eth0:vip',
        scope: 'global',
        no_track: false,
      },
      { address: '192.168.1.11', family: 'inet', prefix: 32, broadcast: '192.168.1.255', no_track: true },
      { address: '192.168.1.12', family: 'inet', prefix: 32, peer: '192.168.1.13', no_track: false },
    ],
  ],
  [
    'vrrp_instances.0.virtual_ipaddress_excluded',
    [{ address: 'fd00::10', family: 'inet6', prefix: 64, dev: 'eth1', no_track: false }],
  ],
  ['vrrp_instances.0.mcast_src_ip', '192.168.1.2'],
  [
    'vrrp_instances.0.track_interface',
    [
      { interface: 'eth1', weight: 0, reverse: false },
      { interface: 'eth2', weight: -20, reverse: true },
    ],
  ],
  [
    'vrrp_instances.0.track_script',
    [
      { script: 'chk_a', weight: -10, reverse: true },
      { script: 'chk_b', weight: 5, reverse: false },
    ],
  ],
  ['vrrp_instances.0.dont_track_primary', true],
  [
    'vrrp_instances.0.notify_master',
    { command: '/usr/local/bin/notify master', user: 'root', group: 'root' },
  ],
  ['vrrp_instances.0.notify_backup', { command: '/usr/local/bin/notify-backup', user: 'nobody' }],
  ['vrrp_instances.0.notify_fault', { command: '/usr/local/bin/notify fault' }],
  ['vrrp_instances.0.notify_stop', { command: '/usr/local/bin/notify-stop' }],
  ['vrrp_instances.0.notify', { command: '/usr/local/bin/notify-any' }],
  ['vrrp_instances.0.nopreempt', true],
  ['vrrp_instances.0.preempt_delay', 30000],
  ['vrrp_instances.0.accept', true],
  ['vrrp_instances.0.strict_mode', false],
  ['vrrp_instances.0.skip_check_adv_addr', true],
  ['vrrp_instances.0.down_timer_adverts', 4],
  ['vrrp_instances.0.garp_master_delay', 3000],
  ['vrrp_instances.0.garp_master_repeat', 4],
  ['vrrp_instances.0.garp_master_refresh', 30000],
  ['vrrp_instances.0.garp_master_refresh_repeat', 2],
  ['vrrp_instances.0.garp_lower_prio_delay', 2000],
  ['vrrp_instances.0.garp_lower_prio_repeat', 1],
  ['vrrp_instances.0.garp_interval', 10],
  ['vrrp_instances.0.gna_interval', 20],
  ['vrrp_instances.0.sync_group', 'G1'],
  ['vrrp_instances.1.state', 'MASTER'],
  ['vrrp_instances.1.version', 2],
  ['vrrp_instances.1.advert_int', 1000],
  ['vrrp_instances.1.authentication', { auth_type: 'PASS', auth_pass: 'secret12' }],
  ['vrrp_instances.1.unicast_src_ip', '10.0.0.2'],
  ['vrrp_instances.1.unicast_peer', ['10.0.0.3', '10.0.0.4']],
  ['vrrp_instances.1.unicast_ttl', 10],
  ['vrrp_instances.1.accept', false],
  ['vrrp_instances.1.strict_mode', true],
  ['vrrp_instances.1.garp_master_delay', 10000],
  ['vrrp_instances.1.garp_interval', 1],
  [
    'vrrp_sync_groups.0',
    {
      name: 'G1',
      group: ['VI_1', 'VI_2'],
      track_interface: [{ interface: 'eth3', weight: 0, reverse: false }],
      track_script: [{ script: 'chk_b', weight: -3, reverse: false }],
      notify_master: { command: '/usr/local/bin/g-master' },
      notify_backup: { command: '/usr/local/bin/g-backup' },
      notify_fault: { command: '/usr/local/bin/g-fault' },
      notify_stop: { command: '/usr/local/bin/g-stop' },
      notify: { command: '/usr/local/bin/g-any' },
    },
  ],
  [
    'virtual_server_groups.0',
    {
      name: 'VSG1',
      entries: [
        { kind: 'range', family: 'inet', first: '192.168.2.1', last: '192.168.2.10', port: 80 },
        { kind: 'range', family: 'inet', first: '192.168.3.0', last: '192.168.3.3', port: 80 },
        { kind: 'range', family: 'inet', first: '10.1.1.1', last: '10.1.1.1', port: 443 },
        { kind: 'fwmark', fwmark: 7, family: 'inet' },
      ],
    },
  ],
  ['virtual_servers.0.id', 'GROUP VSG1 TCP'],
  ['virtual_servers.0.lvs_sched', 'rr'],
  ['virtual_servers.0.real_servers.0.checks.0.connect_timeout', 1000],
  ['virtual_servers.1.id', 'TCP 192.168.1.10:80'],
  ['virtual_servers.1.key', { kind: 'address', address: '192.168.1.10', port: 80, protocol: 'TCP' }],
  ['virtual_servers.1.delay_loop', 10000],
  ['virtual_servers.1.lvs_sched', 'sh'],
  ['virtual_servers.1.sched_flags', ['sh-port', 'sh-fallback']],
  ['virtual_servers.1.forwarding', { method: 'DR' }],
  ['virtual_servers.1.persistence_timeout', 300000],
  ['virtual_servers.1.persistence_granularity', '255.255.255.0'],
  ['virtual_servers.1.quorum', 3],
  ['virtual_servers.1.hysteresis', 1],
  ['virtual_servers.1.quorum_up', { command: '/usr/local/bin/quorum up' }],
  ['virtual_servers.1.quorum_down', { command: '/usr/local/bin/quorum-down' }],
  [
    'virtual_servers.1.sorry_server',
    { address: '192.168.1.250', port: 80, forwarding: { method: 'DR' }, inhibit: true },
  ],
  ['virtual_servers.1.virtualhost', 'www.example.org'],
  ['virtual_servers.1.alpha', true],
  ['virtual_servers.1.omega', true],
  ['virtual_servers.1.ha_suspend', true],
  ['virtual_servers.1.inhibit_on_failure', true],
  ['virtual_servers.1.real_servers.0.weight', 5],
  ['virtual_servers.1.real_servers.0.port', 80],
  ['virtual_servers.1.real_servers.0.notify_up', { command: '/usr/local/bin/rs-up' }],
  ['virtual_servers.1.real_servers.0.notify_down', { command: '/usr/local/bin/rs down', user: 'nobody' }],
  ['virtual_servers.1.real_servers.0.uthreshold', 1000],
  ['virtual_servers.1.real_servers.0.lthreshold', 100],
  ['virtual_servers.1.real_servers.0.virtualhost', 'rs.example.org'],
  ['virtual_servers.1.real_servers.0.alpha', false],
  ['virtual_servers.1.real_servers.0.inhibit_on_failure', false],
  [
    'virtual_servers.1.real_servers.0.checks.0',
    {
      checker: 'HTTP_GET',
      connect_timeout: 2000,
      retry: 5,
      delay_before_retry: 500,
      delay_loop: 3000,
      warmup: 1000,
      alpha: true,
      log_all_failures: false,
      connect_ip: '192.168.1.101',
      connect_port: 8080,
      bindto: '192.168.1.2',
      bind_if: 'eth0',
      bind_port: 40000,
      fwmark: 9,
      http_protocol: '1.1',
      fast_recovery: true,
      enable_sni: false,
      virtualhost: 'http.example.org',
      url: [
        {
          path: '/health',
          digest: '9b3a0c85a887a256d6939da88aabd8cd',
          status_code: [
            [200, 200],
            [300, 302],
          ],
          virtualhost: 'h.example.org',
          regex: 'ok|up',
          regex_no_match: true,
        },
        { path: '/other', status_code: [[200, 299]], regex_no_match: false },
      ],
    },
  ],
  // A checker without settings inherits them from its real server, then its virtual server.
  [
    'virtual_servers.1.real_servers.0.checks.1',
    {
      checker: 'TCP_CHECK',
      connect_timeout: 3000,
      retry: 4,
      delay_before_retry: 1000,
      delay_loop: 7000,
      warmup: 0,
      alpha: false,
      log_all_failures: true,
    },
  ],
  ['virtual_servers.1.real_servers.1.checks.0.checker', 'SSL_GET'],
  ['virtual_servers.1.real_servers.1.checks.0.enable_sni', true],
  ['virtual_servers.1.real_servers.1.checks.0.virtualhost', 'www.example.org'],
  ['virtual_servers.1.real_servers.1.checks.0.connect_timeout', 4000],
  ['virtual_servers.1.real_servers.1.checks.0.retry', 2],
  ['virtual_servers.1.real_servers.1.checks.0.warmup', 5000],
  ['virtual_servers.1.slow_start', 20000],
  ['virtual_servers.1.real_servers.0.slow_start', 7500],
  ['virtual_servers.1.real_servers.1.slow_start', 20000],
  ['virtual_servers.0.slow_start', 0],
  ['virtual_servers.1.real_servers.1.checks.0.delay_loop', 10000],
  ['virtual_servers.1.real_servers.1.checks.1.misc_path', '/usr/local/bin/misc 192.168.1.101'],
  ['virtual_servers.1.real_servers.1.checks.1.misc_timeout', 4000],
  ['virtual_servers.1.real_servers.1.checks.1.misc_dynamic', true],
  ['virtual_servers.1.real_servers.1.checks.1.user', 'nobody'],
  ['virtual_servers.1.real_servers.1.checks.1.group', 'nogroup'],
  ['virtual_servers.1.real_servers.1.checks.2.type', 'AAAA'],
  ['virtual_servers.1.real_servers.1.checks.2.name', 'example.org'],
  ['virtual_servers.2.id', 'FWM 5 IPv6'],
  ['virtual_servers.2.family', 'inet6'],
  ['virtual_servers.2.sched_flags', ['mh-port', 'mh-fallback', 'flag-1']],
  ['virtual_servers.2.forwarding', { method: 'TUN', tunnel: { type: 'gue', port: 6080, checksum: 'csum' } }],
  ['virtual_servers.2.persistence_timeout', 360000],
  [
    'virtual_servers.2.real_servers.0.forwarding',
    { method: 'TUN', tunnel: { type: 'gre', checksum: 'nocsum' } },
  ],
  ['virtual_servers.2.real_servers.0.port', undefined],
  [
    'virtual_servers.2.real_servers.1.forwarding',
    { method: 'TUN', tunnel: { type: 'gue', port: 6080, checksum: 'csum' } },
  ],
  ['virtual_servers.3.protocol', 'UDP'],
  ['virtual_servers.3.ops', true],
  ['virtual_servers.3.lvs_sched', 'wlc'],
  ['virtual_servers.3.real_servers.0.port', 5353],
  [
    'virtual_servers.3.real_servers.0.checks.0',
    {
      checker: 'DNS_CHECK',
      connect_timeout: 5000,
      retry: 3,
      delay_before_retry: 60000,
      delay_loop: 60000,
      warmup: 60000,
      alpha: false,
      log_all_failures: true,
      connect_port: 53,
      type: 'SOA',
      name: '.',
    },
  ],
  ['metrics', { enabled: false, address: '127.0.0.1', port: 10100, path: '/metrics' }],
  ['control', { socket: '/run/lbd/lbd.sock', mode: 0o600 }],
];

describe('every key, in both syntaxes', () => {
  const fromConf = load('full.conf');
  const fromYaml = load('full.yaml');

  test('full.conf and full.yaml give the same model', () => {
    assert.deepEqual(fromYaml, fromConf);
  });

  test('importing full.conf gives YAML that loads to the same model', () => {
    const imp = importKeepalived(path.join(FIXTURES, 'full.conf'));
    assert.equal(imp.errors, 0);
    const dir = tempFiles({ 'imported.yaml': imp.yaml });
    const r = validate(path.join(dir, 'imported.yaml'));
    assert.deepEqual(messages(r), []);
    assert.deepEqual(r.config, fromConf);
    fs.rmSync(dir, { recursive: true });
  });

  for (const [p, v] of EXPECT) {
    test(`${p}`, () => {
      assert.deepEqual(at(fromConf, p), v);
      assert.deepEqual(at(fromYaml, p), v);
    });
  }

  test('the YAML schema keys of the model are all exercised by full.conf', () => {
    const checked = new Set(EXPECT.map(([p]) => p.split('.').filter((s) => !/^\d+$/.test(s))[0]));
    for (const k of Object.keys(fromConf)) assert.ok(checked.has(k), `section ${k} is checked`);
  });
});
