import { test, describe } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { HttpCheckConfig } from '../../src/health';
import { TestServer, checker, httpServer, response, sleep } from './helpers';

const LATE = 400;
const md5 = (s: string | Buffer): string => createHash('md5').update(s).digest('hex');

type Http = Omit<HttpCheckConfig, 'checker'>;

/**
 * Runs one HTTP_GET check against `srv` and waits for its first transition: from alpha (down) to up
 * when `expectUp`, from up to down otherwise. First check at once (random 0), no retries.
 */
async function firstTransition(
  t: { after: (fn: () => void) => void },
  srv: TestServer,
  check: Http,
  expectUp: boolean,
  extra: Partial<HttpCheckConfig> = {},
): Promise<{ reason: string; ms: number; weights: number[] }> {
  const { hc, rec } = checker({ random: () => 0 });
  t.after(() => hc.close());
  hc.setVirtualService({
    id: 'vs',
    alpha: expectUp,
    real_servers: [
      {
        ip: '127.0.0.1',
        port: srv.port,
        weight: 5,
        checks: [{ checker: 'HTTP_GET', delay_loop: 5, connect_timeout: 2, retry: 0, ...check, ...extra }],
      },
    ],
  });
  const e = await rec.transition(`127.0.0.1:${srv.port}`, 1, 6000);
  assert.equal(e.up, expectUp, `expected ${expectUp ? 'up' : 'down'}, got reason ${e.reason}`);
  hc.close();
  return { reason: e.reason, ms: e.t, weights: rec.weight.map((w) => w.weight) };
}

describe('HTTP_GET', () => {
  test('status_code defaults to 200-299', async (t) => {
    let status = 204;
    const srv = await httpServer(() => response(status, '')).listen();
    t.after(() => srv.close());
    assert.equal((await firstTransition(t, srv, { url: [{ path: '/' }] }, true)).reason, 'status 204');
    status = 503;
    assert.equal((await firstTransition(t, srv, { url: [{ path: '/' }] }, false)).reason, 'status 503');
    status = 301;
    assert.equal((await firstTransition(t, srv, { url: [{ path: '/' }] }, false)).reason, 'status 301');
  });

  test('status_code lists and ranges', async (t) => {
    let status = 503;
    const srv = await httpServer(() => response(status, 'x')).listen();
    t.after(() => srv.close());
    await firstTransition(t, srv, { url: [{ path: '/', status_code: [200, 503] }] }, true);
    status = 302;
    await firstTransition(t, srv, { url: [{ path: '/', status_code: '300-399' }] }, true);
    await firstTransition(t, srv, { url: [{ path: '/', status_code: [[200, 299], 404] }] }, false);
  });

  test('digest: MD5 of the body as genhash prints it; a mismatch fails', async (t) => {
    const body = 'hello world\n';
    const srv = await httpServer(() => response(200, body)).listen();
    t.after(() => srv.close());
    await firstTransition(t, srv, { url: [{ path: '/', digest: md5(body) }] }, true);
    await firstTransition(t, srv, { url: [{ path: '/', digest: md5(body).toUpperCase() }] }, true);
    const r = await firstTransition(t, srv, { url: [{ path: '/', digest: md5('other') }] }, false);
    assert.equal(r.reason, `digest mismatch (${md5(body)})`);
  });

  test('digest of a chunked HTTP/1.1 body is over the decoded body', async (t) => {
    const srv = await httpServer(
      () => 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n',
    ).listen();
    t.after(() => srv.close());
    await firstTransition(
      t,
      srv,
      { http_protocol: '1.1', url: [{ path: '/', digest: md5('hello world') }] },
      true,
    );
  });

  test('body regex', async (t) => {
    const srv = await httpServer(() => response(200, '{"status":"green"}')).listen();
    t.after(() => srv.close());
    await firstTransition(t, srv, { url: [{ path: '/', regex: '"status":"(green|yellow)"' }] }, true);
    const r = await firstTransition(t, srv, { url: [{ path: '/', regex: 'red' }] }, false);
    assert.equal(r.reason, 'regex mismatch');
  });

  test('request line, Host (virtualhost, default ip:port) and http_protocol 1.0, 1.0C, 1.1', async (t) => {
    const heads: string[] = [];
    const srv = await httpServer((head) => {
      heads.push(head);
      return response(200, 'ok');
    }).listen();
    t.after(() => srv.close());
    await firstTransition(t, srv, { url: [{ path: '/health?x=1' }] }, true);
    await firstTransition(
      t,
      srv,
      { virtualhost: 'www.test', http_protocol: '1.1', url: [{ path: '/a' }] },
      true,
    );
    await firstTransition(
      t,
      srv,
      { http_protocol: '1.0C', url: [{ path: '/b', virtualhost: 'b.test' }] },
      true,
    );
    const lines = heads.map((h) => h.split('\r\n'));
    assert.equal(lines[0][0], 'GET /health?x=1 HTTP/1.0');
    assert.ok(lines[0].includes(`Host: 127.0.0.1:${srv.port}`));
    assert.ok(!lines[0].some((l) => /^connection:/i.test(l)));
    assert.equal(lines[1][0], 'GET /a HTTP/1.1');
    assert.ok(lines[1].includes('Host: www.test'));
    assert.ok(lines[1].includes('Connection: close'));
    assert.equal(lines[2][0], 'GET /b HTTP/1.0');
    assert.ok(lines[2].includes('Host: b.test'));
    assert.ok(lines[2].includes('Connection: close'));
  });

  test('several url blocks: each must pass, one connection each', async (t) => {
    const paths: string[] = [];
    const srv = await httpServer((head) => {
      const path = head.split(' ')[1];
      paths.push(path);
      return path === '/bad' ? response(500, '') : response(200, path);
    }).listen();
    t.after(() => srv.close());
    await firstTransition(
      t,
      srv,
      {
        url: [
          { path: '/a', digest: md5('/a') },
          { path: '/b', regex: '^/b$' },
        ],
      },
      true,
    );
    assert.deepEqual(paths, ['/a', '/b']);
    assert.equal(srv.connections, 2);
    const r = await firstTransition(t, srv, { url: [{ path: '/a' }, { path: '/bad' }] }, false);
    assert.equal(r.reason, 'status 500');
  });

  test('IPv6, connect_ip/connect_port and bindto/bind_port', async (t) => {
    const peers: string[] = [];
    const srv = await httpServer((_head, s) => {
      peers.push(`${s.remoteAddress}`);
      return response(200, 'v6');
    }).listen('::1');
    t.after(() => srv.close());
    const { hc, rec } = checker({ random: () => 0 });
    t.after(() => hc.close());
    hc.setVirtualService({
      id: 'vs',
      alpha: true,
      real_servers: [
        {
          ip: '::1',
          port: 1,
          checks: [
            {
              checker: 'HTTP_GET',
              url: [{ path: '/', regex: 'v6' }],
              connect_ip: '::1',
              connect_port: srv.port,
              bindto: '::1',
              delay_loop: 5,
            },
          ],
        },
      ],
    });
    const up = await rec.transition('[::1]:1', 1);
    assert.equal(up.up, true);
    assert.deepEqual(peers, ['::1']);
  });

  test('dynamic weight from the X-LBD-Weight response header', async (t) => {
    let w = '12';
    const srv = await httpServer(() => response(200, 'ok', { 'X-LBD-Weight': w })).listen();
    t.after(() => srv.close());
    const { hc, rec } = checker({ random: () => 0 });
    t.after(() => hc.close());
    hc.setVirtualService({
      id: 'vs',
      real_servers: [
        {
          ip: '127.0.0.1',
          port: srv.port,
          weight: 5,
          checks: [
            { checker: 'HTTP_GET', url: [{ path: '/' }], delay_loop: 0.1, dynamic_weight_header: true },
          ],
        },
      ],
    });
    const e1 = await rec.waitFor('weight 12', () => rec.weight.find((e) => e.weight === 12));
    assert.equal(e1.reason, 'dynamic');
    assert.equal(rec.quorum.length, 1);
    w = '3';
    await rec.waitFor('weight 3', () => rec.weight.find((e) => e.weight === 3));
    w = 'junk'; // ignored: the last weight stays
    await sleep(300);
    assert.equal(rec.weight.at(-1)?.weight, 3);
    assert.equal(hc.status('vs')?.sum, 3);
  });

  test('a custom dynamic weight header name', async (t) => {
    const srv = await httpServer(() => response(200, 'ok', { 'X-Backend-Weight': '9' })).listen();
    t.after(() => srv.close());
    const r = await firstTransition(
      t,
      srv,
      { url: [{ path: '/' }], dynamic_weight_header: 'X-Backend-Weight' },
      true,
    );
    assert.deepEqual(r.weights, [0, 9]);
  });
});

describe('HTTP_GET against hostile servers: always a failure within connect_timeout', () => {
  const timeoutCheck = { url: [{ path: '/' }], connect_timeout: 0.5 };

  test('accepts and never answers', async (t) => {
    const srv = await new TestServer((s) => s.resume()).listen();
    t.after(() => srv.close());
    const r = await firstTransition(t, srv, timeoutCheck, false);
    assert.equal(r.reason, 'timeout');
    assert.ok(r.ms >= 495 && r.ms <= 500 + LATE, `failed after ${r.ms} ms`);
    await sleep(50);
    assert.equal(srv.sockets.size, 0, 'the checker closed its connection');
  });

  test('answers one byte a second', async (t) => {
    const srv = await new TestServer((s) => {
      const msg = response(200, 'x'.repeat(100));
      let i = 0;
      const timer = setInterval(() => (s.destroyed ? clearInterval(timer) : s.write(msg[i++] ?? '')), 1000);
      s.write(msg[i++]);
      s.on('close', () => clearInterval(timer));
    }).listen();
    t.after(() => srv.close());
    const r = await firstTransition(t, srv, { ...timeoutCheck, connect_timeout: 1.2 }, false);
    assert.equal(r.reason, 'timeout');
    assert.ok(r.ms >= 1195 && r.ms <= 1200 + LATE, `failed after ${r.ms} ms`);
  });

  test('resets mid-response', async (t) => {
    const srv = await new TestServer((s) => {
      s.once('data', () => {
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial');
        setTimeout(() => s.resetAndDestroy(), 20);
      });
    }).listen();
    t.after(() => srv.close());
    const r = await firstTransition(t, srv, timeoutCheck, false);
    assert.equal(r.reason, 'reset');
    assert.ok(r.ms < 500, `failed after ${r.ms} ms`);
  });

  test('closes mid-response', async (t) => {
    const srv = await httpServer(() => 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial').listen();
    t.after(() => srv.close());
    const r = await firstTransition(t, srv, timeoutCheck, false);
    assert.equal(r.reason, 'truncated response');
  });

  test('sends a 10 MB body', async (t) => {
    const big = Buffer.alloc(10 << 20, 0x61);
    const srv = await new TestServer((s) => {
      s.once('data', () => {
        s.write('HTTP/1.0 200 OK\r\n\r\n');
        s.end(big);
      });
    }).listen();
    t.after(() => srv.close());
    const r = await firstTransition(t, srv, { ...timeoutCheck, connect_timeout: 2 }, false);
    assert.equal(r.reason, 'body too large');
    assert.ok(r.ms < 2000, `failed after ${r.ms} ms`);
  });

  test('announces a 10 MB body by Content-Length, then stalls', async (t) => {
    const srv = await httpServer((_h, s) => {
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${10 << 20}\r\n\r\n`);
    }).listen();
    t.after(() => srv.close());
    assert.equal((await firstTransition(t, srv, timeoutCheck, false)).reason, 'body too large');
  });

  test('endless headers', async (t) => {
    const srv = await new TestServer((s) => {
      s.once('data', () => {
        s.write('HTTP/1.1 200 OK\r\n');
        const timer = setInterval(() => s.write('X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'), 1);
        s.on('close', () => clearInterval(timer));
      });
    }).listen();
    t.after(() => srv.close());
    const r = await firstTransition(t, srv, timeoutCheck, false);
    assert.match(r.reason, /^(headers too large|timeout)$/);
  });

  test('not HTTP at all', async (t) => {
    const srv = await new TestServer((s) => s.end('SSH-2.0-OpenSSH_9.2\r\n\r\n')).listen();
    t.after(() => srv.close());
    assert.equal((await firstTransition(t, srv, timeoutCheck, false)).reason, 'bad status line');
  });

  test('refused', async (t) => {
    const srv = await new TestServer().listen();
    await srv.close();
    assert.equal((await firstTransition(t, srv, timeoutCheck, false)).reason, 'refused');
  });
});
