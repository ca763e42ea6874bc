import { test, describe, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tls from 'node:tls';
import * as fs from 'node:fs';
import { HttpCheckConfig } from '../../src/health';
import { TestCerts, TestServer, checker, makeCerts, response } from './helpers';

const LATE = 400;

/** An HTTPS server on loopback answering 200 'secure'; records the SNI names it saw. */
async function httpsServer(
  t: { after: (fn: () => void) => void },
  cert: { key: string; cert: string },
): Promise<{ port: number; snis: (string | false)[] }> {
  const snis: (string | false)[] = [];
  const srv = tls.createServer({ key: cert.key, cert: cert.cert }, (s) => {
    snis.push(s.servername ?? false);
    s.on('error', () => {});
    s.once('data', () => s.end(response(200, 'secure')));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  t.after(() => srv.close());
  return { port: (srv.address() as { port: number }).port, snis };
}

async function firstTransition(
  t: { after: (fn: () => void) => void },
  port: number,
  check: Omit<HttpCheckConfig, 'checker' | 'url'>,
  expectUp: boolean,
): Promise<{ reason: string; ms: number }> {
  const { hc, rec } = checker({ random: () => 0 });
  t.after(() => hc.close());
  hc.setVirtualService({
    id: 'vs',
    alpha: expectUp,
    real_servers: [
      {
        ip: '127.0.0.1',
        port,
        checks: [
          {
            checker: 'SSL_GET',
            url: [{ path: '/', regex: 'secure' }],
            delay_loop: 5,
            retry: 0,
            connect_timeout: 2,
            ...check,
          },
        ],
      },
    ],
  });
  const e = await rec.transition(`127.0.0.1:${port}`, 1, 6000);
  assert.equal(e.up, expectUp, `expected ${expectUp ? 'up' : 'down'}, got ${e.reason}`);
  hc.close();
  return { reason: e.reason, ms: e.t };
}

describe('SSL_GET', () => {
  let certs: TestCerts;
  before(() => {
    certs = makeCerts();
  });
  after(() => fs.rmSync(certs.dir, { recursive: true, force: true }));

  test('without verify_cert any certificate will do (keepalived default)', async (t) => {
    for (const c of [certs.good, certs.expired, certs.wrongName]) {
      const srv = await httpsServer(t, c);
      await firstTransition(t, srv.port, {}, true);
      assert.deepEqual(srv.snis, [false], 'no SNI unless enabled');
    }
  });

  test('verify_cert with the CA and the right name; SNI from virtualhost with enable_sni', async (t) => {
    const srv = await httpsServer(t, certs.good);
    const r = await firstTransition(
      t,
      srv.port,
      { verify_cert: true, ca: certs.ca, virtualhost: 'good.test', enable_sni: true },
      true,
    );
    assert.equal(r.reason, 'status 200');
    assert.deepEqual(srv.snis, ['good.test']);
  });

  test('sni_name sets SNI and the verified name', async (t) => {
    const srv = await httpsServer(t, certs.good);
    await firstTransition(t, srv.port, { verify_cert: true, ca: certs.ca, sni_name: 'good.test' }, true);
    assert.deepEqual(srv.snis, ['good.test']);
  });

  test('verify_cert: an expired certificate fails with a TLS error', async (t) => {
    const srv = await httpsServer(t, certs.expired);
    const r = await firstTransition(
      t,
      srv.port,
      { verify_cert: true, ca: certs.ca, virtualhost: 'good.test' },
      false,
    );
    assert.equal(r.reason, 'TLS error: CERT_HAS_EXPIRED');
    assert.ok(r.ms < 2000);
  });

  test('verify_cert: a certificate for another name fails with a TLS error', async (t) => {
    const srv = await httpsServer(t, certs.wrongName);
    const r = await firstTransition(
      t,
      srv.port,
      { verify_cert: true, ca: certs.ca, virtualhost: 'good.test' },
      false,
    );
    assert.equal(r.reason, 'TLS error: ERR_TLS_CERT_ALTNAME_INVALID');
  });

  test('verify_cert: a certificate from an unknown CA fails', async (t) => {
    const srv = await httpsServer(t, certs.good);
    const r = await firstTransition(t, srv.port, { verify_cert: true, virtualhost: 'good.test' }, false);
    assert.match(
      r.reason,
      /^TLS error: (UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/,
    );
  });

  test('a server that accepts and never speaks TLS fails at connect_timeout', async (t) => {
    const srv = await new TestServer((s) => s.resume()).listen();
    t.after(() => srv.close());
    const r = await firstTransition(t, srv.port, { connect_timeout: 0.5 }, false);
    assert.equal(r.reason, 'timeout');
    assert.ok(r.ms >= 495 && r.ms <= 500 + LATE, `failed after ${r.ms} ms`);
  });

  test('a plain HTTP server fails the handshake with a TLS error', async (t) => {
    const srv = await new TestServer((s) => s.once('data', () => s.end(response(400, 'plain')))).listen();
    t.after(() => srv.close());
    const r = await firstTransition(t, srv.port, {}, false);
    assert.match(r.reason, /^TLS error: /);
  });

  test('a reset during the handshake is a TLS error', async (t) => {
    const srv = await new TestServer((s) => s.once('data', () => s.resetAndDestroy())).listen();
    t.after(() => srv.close());
    const r = await firstTransition(t, srv.port, {}, false);
    assert.equal(r.reason, 'TLS error: reset');
  });
});
