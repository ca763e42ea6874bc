import { test, describe } from 'node:test';
import * as assert from 'node:assert/strict';
import { HealthConfigError, checkKey, normalizeCheck, parseStatusCodes, serverId } from '../../src/health';

const target = { ip: '10.0.0.1', port: 8080, delayLoop: undefined, alpha: false, logAllFailures: false };

describe('check configuration (keepalived names)', () => {
  test('defaults: target address, connect_timeout 5 s, retry 1, delay_before_retry 1 s, delay_loop 60 s', () => {
    const s = normalizeCheck({ checker: 'TCP_CHECK' }, target);
    assert.equal(s.ip, '10.0.0.1');
    assert.equal(s.port, 8080);
    assert.equal(s.timeoutMs, 5000);
    assert.equal(s.retry, 1);
    assert.equal(s.retryDelayMs, 1000);
    assert.equal(s.intervalMs, 60000);
    assert.equal(s.warmupMs, undefined);
    assert.equal(s.rise, 1);
    assert.equal(s.fall, 1);
    assert.equal(s.alpha, false);
  });

  test('every common parameter is taken, in seconds with fractions', () => {
    const s = normalizeCheck(
      {
        checker: 'TCP_CHECK',
        connect_ip: '10.0.0.2',
        connect_port: 81,
        bindto: '10.0.0.9',
        bind_port: 5000,
        connect_timeout: 0.25,
        retry: 3,
        delay_before_retry: 0.5,
        delay_loop: 1.5,
        warmup: 2,
        rise: 2,
        fall: 3,
        log_all_failures: true,
      },
      { ...target, alpha: true },
    );
    assert.deepEqual(
      [s.ip, s.port, s.bindto, s.bindPort, s.timeoutMs, s.retry, s.retryDelayMs, s.intervalMs, s.warmupMs],
      ['10.0.0.2', 81, '10.0.0.9', 5000, 250, 3, 500, 1500, 2000],
    );
    assert.deepEqual([s.rise, s.fall, s.alpha, s.logAllFailures], [2, 3, true, true]);
  });

  test('nb_get_retry is the old name of retry; retry wins', () => {
    assert.equal(normalizeCheck({ checker: 'TCP_CHECK', nb_get_retry: 4 }, target).retry, 4);
    assert.equal(normalizeCheck({ checker: 'TCP_CHECK', nb_get_retry: 4, retry: 2 }, target).retry, 2);
  });

  test('delay_loop is inherited from the real server / virtual service', () => {
    assert.equal(normalizeCheck({ checker: 'TCP_CHECK' }, { ...target, delayLoop: 3 }).intervalMs, 3000);
  });

  test('status_code: default 200-299, lists, ranges, keepalived text', () => {
    assert.deepEqual(parseStatusCodes(undefined), [[200, 299]]);
    assert.deepEqual(parseStatusCodes(200), [[200, 200]]);
    assert.deepEqual(parseStatusCodes([200, 301]), [
      [200, 200],
      [301, 301],
    ]);
    assert.deepEqual(parseStatusCodes([[200, 204]]), [[200, 204]]);
    assert.deepEqual(parseStatusCodes('200 300-399'), [
      [200, 200],
      [300, 399],
    ]);
    assert.throws(() => parseStatusCodes('abc'), HealthConfigError);
    assert.throws(() => parseStatusCodes('300-200'), HealthConfigError);
    assert.throws(() => parseStatusCodes(700), HealthConfigError);
  });

  test('HTTP_GET: Host defaults to ip:port, virtualhost per checker and per url, digest lower-cased', () => {
    const s = normalizeCheck(
      {
        checker: 'HTTP_GET',
        virtualhost: 'www.test',
        url: [
          { path: '/a', digest: 'ABCDEF0123456789ABCDEF0123456789' },
          { path: '/b', virtualhost: 'b.test' },
        ],
      },
      target,
    );
    assert.equal(s.http?.urls[0].host, 'www.test');
    assert.equal(s.http?.urls[1].host, 'b.test');
    assert.equal(s.http?.urls[0].digest, 'abcdef0123456789abcdef0123456789');
    assert.equal(s.http?.protocol, '1.0');
    const t = normalizeCheck({ checker: 'HTTP_GET', url: [{ path: '/' }] }, target);
    assert.equal(t.http?.urls[0].host, '10.0.0.1:8080');
    const v6 = normalizeCheck(
      { checker: 'HTTP_GET', url: [{ path: '/' }] },
      { ...target, ip: '::1', port: 80 },
    );
    assert.equal(v6.http?.urls[0].host, '[::1]');
  });

  test('SSL_GET: SNI from enable_sni + virtualhost or sni_name; verification off by default', () => {
    const a = normalizeCheck({ checker: 'SSL_GET', url: [{ path: '/' }], virtualhost: 'v.test' }, target);
    assert.equal(a.http?.sni, undefined);
    assert.equal(a.http?.verify, false);
    const b = normalizeCheck(
      {
        checker: 'SSL_GET',
        url: [{ path: '/' }],
        virtualhost: 'v.test',
        enable_sni: true,
        verify_cert: true,
      },
      target,
    );
    assert.equal(b.http?.sni, 'v.test');
    assert.equal(b.http?.verifyName, 'v.test');
    assert.equal(b.http?.verify, true);
    const c = normalizeCheck({ checker: 'SSL_GET', url: [{ path: '/' }], sni_name: 's.test' }, target);
    assert.equal(c.http?.sni, 's.test');
  });

  test('MISC_CHECK: misc_timeout defaults to delay_loop and is the deadline', () => {
    const s = normalizeCheck({ checker: 'MISC_CHECK', misc_path: 'true', delay_loop: 7 }, target);
    assert.equal(s.misc?.timeoutMs, 7000);
    assert.equal(s.timeoutMs, 7000);
    const t = normalizeCheck(
      { checker: 'MISC_CHECK', misc_path: 'true', misc_timeout: 2, misc_dynamic: true },
      target,
    );
    assert.deepEqual(t.misc, { path: 'true', timeoutMs: 2000, dynamic: true });
  });

  test('DNS_CHECK: type SOA and name . by default', () => {
    assert.deepEqual(normalizeCheck({ checker: 'DNS_CHECK' }, target).dns, { type: 'SOA', name: '.' });
    assert.deepEqual(normalizeCheck({ checker: 'DNS_CHECK', type: 'A', name: 'x.test' }, target).dns, {
      type: 'A',
      name: 'x.test',
    });
  });

  test('invalid values are rejected', () => {
    const bad: unknown[] = [
      { checker: 'TCP_CHECK', connect_ip: 'not-an-ip' },
      { checker: 'TCP_CHECK', connect_port: 70000 },
      { checker: 'TCP_CHECK', connect_timeout: -1 },
      { checker: 'TCP_CHECK', retry: 1.5 },
      { checker: 'TCP_CHECK', delay_loop: 0 },
      { checker: 'HTTP_GET', url: [] },
      { checker: 'HTTP_GET', url: [{ path: 'nopath' }] },
      { checker: 'HTTP_GET', url: [{ path: '/', digest: 'xyz' }] },
      { checker: 'HTTP_GET', url: [{ path: '/', regex: '(' }] },
      { checker: 'HTTP_GET', url: [{ path: '/' }], http_protocol: '2' },
      { checker: 'MISC_CHECK', misc_path: '' },
      { checker: 'DNS_CHECK', type: 'PTR' },
      { checker: 'PING_CHECK' },
    ];
    for (const c of bad) {
      assert.throws(() => normalizeCheck(c as never, target), Error, JSON.stringify(c));
    }
  });

  test('identical checks have identical keys, any parameter changes the key', () => {
    const a = checkKey(normalizeCheck({ checker: 'TCP_CHECK', delay_loop: 1 }, target));
    const b = checkKey(normalizeCheck({ checker: 'TCP_CHECK', delay_loop: 1 }, target));
    const c = checkKey(normalizeCheck({ checker: 'TCP_CHECK', delay_loop: 2 }, target));
    const d = checkKey(normalizeCheck({ checker: 'TCP_CHECK', delay_loop: 1 }, { ...target, alpha: true }));
    assert.equal(a, b);
    assert.notEqual(a, c);
    assert.notEqual(a, d);
  });

  test('server ids bracket IPv6', () => {
    assert.equal(serverId('10.0.0.1', 80), '10.0.0.1:80');
    assert.equal(serverId('::1', 80), '[::1]:80');
  });
});
