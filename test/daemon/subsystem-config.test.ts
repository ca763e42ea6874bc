// The config model mapped onto the health checker and VRRP: the reference keepalived configurations
// load into the real subsystems with the operator's values.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { validateConfigText } from '../../src/config/load';
import type { Config } from '../../src/config/model';
import { healthServices } from '../../src/daemon/health-services';
import { vrrpConfig } from '../../src/daemon/vrrp-config';
import { HealthChecker, type WeightEvent } from '../../src/health';
import { validateConfig } from '../../src/vrrp/config';

const ref = path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'reference');

function load(name: string): Config {
  const file = path.join(ref, name);
  const r = validateConfigText(file, fs.readFileSync(file, 'utf8'), { hostChecks: 'off' });
  assert.ok(r.config, r.diagnostics.map((d) => d.message).join('\n'));
  return r.config;
}

test('LVS-DR reference: TCP_CHECK parameters reach the health checker in seconds, weights as configured', () => {
  const services = healthServices(load('keepalived-lvs-dr.conf'));
  assert.equal(services.length, 1);
  const [vs] = services;
  assert.equal(vs.id, 'TCP 192.168.4.15:80');
  assert.equal(vs.delay_loop, 6);
  assert.deepEqual(
    vs.real_servers.map((r) => [r.ip, r.port, r.weight]),
    [
      ['192.168.4.100', 80, 1],
      ['192.168.4.200', 80, 2],
    ],
  );
  const check = vs.real_servers[0].checks?.[0];
  assert.equal(check?.checker, 'TCP_CHECK');
  assert.equal(check?.connect_timeout, 3);
  assert.equal(check?.retry, 3);
  assert.equal(check?.delay_before_retry, 3);
  // The real checker accepts it and starts the servers up (alpha off) at their configured weights.
  const hc = new HealthChecker();
  const weights: WeightEvent[] = [];
  hc.on('weight', (e) => weights.push(e));
  try {
    hc.setVirtualService(vs);
  } finally {
    hc.close();
  }
  assert.deepEqual(
    weights.map((w) => [w.server, w.present, w.weight]),
    [
      ['192.168.4.100:80', true, 1],
      ['192.168.4.200:80', true, 2],
    ],
  );
});

test('VRRP references: instances, VIPs, auth and tracking reach the VRRP subsystem', () => {
  const dr = validateConfig(vrrpConfig(load('keepalived-lvs-dr.conf')));
  assert.equal(dr.length, 1);
  assert.equal(dr[0].name, 'VI_1');
  assert.equal(dr[0].interface, 'eth0');
  assert.equal(dr[0].vrid, 50);
  assert.equal(dr[0].priority, 100);
  assert.equal(dr[0].intervalCs, 100);
  assert.equal(dr[0].initialMaster, true);
  assert.equal(dr[0].authPass, '1111');
  assert.deepEqual(
    dr[0].vips.map((v) => [v.address, v.prefix, v.dev]),
    [['192.168.4.15', 32, 'eth0']],
  );

  const two = validateConfig(vrrpConfig(load('keepalived-two-vips.conf')));
  assert.deepEqual(
    two.map((i) => [
      i.name,
      i.vrid,
      i.priority,
      i.initialMaster,
      i.vips.map((v) => `${v.address}/${v.prefix} ${v.dev}`),
    ]),
    [
      ['VI_141', 141, 50, false, ['192.168.10.141/26 eth0']],
      ['VI_142', 142, 100, false, ['192.168.10.142/26 eth0']],
    ],
  );

  const track = vrrpConfig(load('keepalived-track-script.conf'));
  assert.deepEqual(
    track.scripts?.map((sc) => [sc.name, sc.script, sc.interval, sc.weight]),
    [['check_nginx', '/etc/keepalived/check_nginx.sh', 2, 2]],
  );
  const [i] = validateConfig(track);
  assert.deepEqual(i.trackScripts, [{ name: 'check_nginx', weight: 2 }]);
});
