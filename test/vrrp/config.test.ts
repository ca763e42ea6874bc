import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { normaliseInstance, parseVip, validateConfig, VrrpConfigError } from '../../src/vrrp/config';
import { AuthType } from '../../src/vrrp/packet';

const base = { name: 'VI_1', interface: 'eth0', vrid: 51, vips: ['192.0.2.10'] };

test('keepalived-style virtual addresses', () => {
  assert.deepEqual(parseVip('192.168.10.141/26 dev eth1 label eth1:vip scope global', 'eth0'), {
    address: '192.168.10.141',
    family: 4,
    prefix: 26,
    dev: 'eth1',
    label: 'eth1:vip',
    scope: 'global',
  });
  assert.equal(parseVip('2001:DB8:0::1', 'eth0').address, '2001:db8::1');
  assert.equal(parseVip('2001:db8::1', 'eth0').prefix, 128);
  assert.throws(() => parseVip('192.0.2.1/24 brd 1.2.3.4', 'eth0'), VrrpConfigError);
  assert.throws(() => parseVip('192.0.2.1/33', 'eth0'), /prefix/);
});

test('defaults follow keepalived: v2, priority 100, 1 s, preempt, garp 5 s x 5', () => {
  const n = normaliseInstance(base);
  assert.equal(n.version, 2);
  assert.equal(n.priority, 100);
  assert.equal(n.intervalCs, 100);
  assert.equal(n.preempt, true);
  assert.equal(n.authType, AuthType.None);
  assert.deepEqual([n.garp.masterDelayMs, n.garp.masterRepeat], [5000, 5]);
  const p = normaliseInstance({
    ...base,
    auth: { type: 'PASS', pass: '8888' },
    nopreempt: true,
    preemptDelay: 3,
  });
  assert.equal(p.authType, AuthType.Pass);
  assert.equal(p.authPass, '8888');
  assert.equal(p.preempt, false);
  assert.equal(p.preemptDelayMs, 3000);
  assert.equal(normaliseInstance({ ...base, version: 3, advertInt: 0.05 }).intervalCs, 5);
});

test('configuration errors are clear', () => {
  assert.throws(() => normaliseInstance({ ...base, auth: { type: 'AH' } }), /AH is not supported/);
  assert.throws(() => normaliseInstance({ ...base, vips: ['2001:db8::1'] }), /IPv6 needs VRRPv3/);
  assert.throws(() => normaliseInstance({ ...base, advertInt: 0.5 }), /whole seconds/);
  assert.throws(() => normaliseInstance({ ...base, version: 3, advertInt: 50 }), /advert_int/);
  assert.throws(() => normaliseInstance({ ...base, vrid: 0 }), /vrid/);
  assert.throws(() => normaliseInstance({ ...base, priority: 256 }), /priority/);
  assert.throws(
    () => normaliseInstance({ ...base, vips: ['192.0.2.1', '2001:db8::1'], version: 3 }),
    /mixed/,
  );
  assert.throws(
    () => normaliseInstance({ ...base, version: 3, auth: { type: 'PASS', pass: 'x' } }),
    /VRRPv2 only/,
  );
  assert.throws(() => validateConfig({ instances: [base, { ...base, name: 'VI_2' }] }), /VRID 51 used twice/);
  assert.throws(
    () => validateConfig({ instances: [{ ...base, trackScripts: ['nope'] }] }),
    /unknown track_script/,
  );
  assert.throws(
    () => validateConfig({ instances: [base], syncGroups: [{ name: 'G', instances: ['VI_1', 'X'] }] }),
    /unknown instance 'X'/,
  );
});
