import { test, describe } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TargetDefaults, normalizeCheck } from '../../src/health';
import { NativeTcp, openNativeTcp } from '../../src/health/native-tcp';
import { TCP_PROBE_KINDS, TcpProbeKind, createTcpProbe } from '../../src/health/tcp-check';
import { TestServer, sleep, unansweredPort } from './helpers';

const target = (port: number): TargetDefaults => ({
  ip: '127.0.0.1',
  port,
  delayLoop: undefined,
  alpha: false,
  logAllFailures: false,
});

interface Result {
  ok: boolean;
  reason: string;
}

/** Runs one attempt of a TCP_CHECK probe of the given kind; resolves with its only result. */
function attempt(
  kind: TcpProbeKind,
  check: Record<string, unknown>,
  native: NativeTcp | null = null,
): Promise<Result[]> {
  const spec = normalizeCheck({ checker: 'TCP_CHECK', ...check } as never, target(1));
  const prober = native ?? (kind === 'native' ? openNativeTcp() : null);
  const results: Result[] = [];
  return new Promise((resolve) => {
    const probe = createTcpProbe(
      spec,
      {
        probeResult: (ok, reason) => {
          results.push({ ok, reason });
          // A second result would show up within this grace period.
          setTimeout(() => {
            if (native === null) prober?.close();
            resolve(results);
          }, 50);
        },
      },
      prober,
      kind,
    );
    probe.start();
  });
}

const fds = (): number => fs.readdirSync('/proc/self/fd').length;
/** Connections towards a port in SYN-SENT state, host-wide. */
const synSent = (port: number): number =>
  execFileSync('ss', ['-tanH', 'state', 'syn-sent', `( dport = :${port} )`], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.trim() !== '').length;

describe('TCP_CHECK probes', () => {
  test('the addon prober, tcp_wrap handles and net.Socket are all available here', () => {
    assert.deepEqual(TCP_PROBE_KINDS, ['native', 'raw', 'socket']);
    const list = (env: Record<string, string>): string =>
      execFileSync(
        process.execPath,
        [
          '-p',
          `require(${JSON.stringify(path.join(__dirname, '../../src/health/tcp-check.js'))}).TCP_PROBE_KINDS.join()`,
        ],
        { env: { ...process.env, ...env }, encoding: 'utf8' },
      ).trim();
    assert.equal(list({ LBD_HEALTH_NO_NATIVE_TCP: '1' }), 'raw,socket');
    assert.equal(list({ LBD_HEALTH_NO_NATIVE_TCP: '1', LBD_HEALTH_NO_RAW_TCP: '1' }), 'socket');
  });

  test('native: connected without the last ACK, so the server never accepts; reset, no TIME_WAIT', async (t) => {
    const srv = await new TestServer().listen();
    t.after(() => srv.close());
    const before = fds();
    const native = openNativeTcp() as NativeTcp;
    t.after(() => native.close());
    for (let i = 0; i < 20; i++) {
      const results = await attempt('native', { connect_ip: '127.0.0.1', connect_port: srv.port }, native);
      assert.deepEqual(results, [{ ok: true, reason: 'connected' }]);
    }
    await sleep(100);
    assert.equal(srv.connections, 0, 'the handshake never completed on the server');
    const ss = execFileSync('ss', ['-tanH', 'state', 'all', `( dport = :${srv.port} )`], {
      encoding: 'utf8',
    });
    assert.equal(ss.trim(), '', `sockets left towards the server:\n${ss}`);
    // The prober's epoll set and one socket, disconnected and reused by each probe.
    assert.deepEqual([native.inFlight, native.idle, fds() - before], [0, 1, 2]);
    native.close();
    assert.equal(fds(), before);
  });

  test('native: at most 256 idle sockets are kept after a burst', async (t) => {
    const hole = await unansweredPort();
    t.after(() => hole.close());
    const native = openNativeTcp() as NativeTcp;
    t.after(() => native.close());
    const spec = normalizeCheck({ checker: 'TCP_CHECK' }, target(hole.port));
    const probes = Array.from({ length: 300 }, () =>
      createTcpProbe(spec, { probeResult: () => assert.fail('no result after abort') }, native, 'native'),
    );
    for (const p of probes) p.start();
    assert.equal(native.inFlight, 300);
    const before = fds();
    for (const p of probes) p.abort();
    assert.deepEqual([native.inFlight, native.idle, before - fds()], [0, 256, 44]);
  });

  for (const kind of ['raw', 'socket'] as const) {
    test(`${kind}: connected, then reset; the server sees bindto:bind_port`, async (t) => {
      const peers: string[] = [];
      const srv = await new TestServer((s) => {
        peers.push(`${s.remoteAddress}:${s.remotePort}`);
        s.on('close', (hadError) => peers.push(hadError ? 'reset' : 'closed'));
      }).listen('127.0.0.3');
      t.after(() => srv.close());
      const free = await new TestServer().listen('127.0.0.4');
      const bindPort = free.port;
      await free.close();
      const check = {
        connect_ip: '127.0.0.3',
        connect_port: srv.port,
        bindto: '127.0.0.4',
        bind_port: bindPort,
      };
      assert.deepEqual(await attempt(kind, check), [{ ok: true, reason: 'connected' }]);
      const deadline = Date.now() + 3000;
      while (peers.length < 2 && Date.now() < deadline) await sleep(10);
      assert.deepEqual(peers, [`127.0.0.4:${bindPort}`, 'reset']);
    });
  }

  for (const kind of TCP_PROBE_KINDS) {
    test(`${kind}: refused, bind failures, IPv6`, async (t) => {
      const closed = await new TestServer().listen();
      await closed.close();
      assert.deepEqual(await attempt(kind, { connect_port: closed.port }), [
        { ok: false, reason: 'refused' },
      ]);
      const held = await new TestServer().listen('127.0.0.4');
      t.after(() => held.close());
      assert.deepEqual(
        await attempt(kind, { connect_port: held.port, bindto: '127.0.0.4', bind_port: held.port }),
        [{ ok: false, reason: 'bind failed (EADDRINUSE)' }],
      );
      assert.deepEqual(await attempt(kind, { connect_port: held.port, bindto: '192.0.2.1' }), [
        { ok: false, reason: 'bind failed (EADDRNOTAVAIL)' },
      ]);
      const v6 = await new TestServer().listen('::1');
      t.after(() => v6.close());
      assert.deepEqual(await attempt(kind, { connect_ip: '::1', connect_port: v6.port }), [
        { ok: true, reason: 'connected' },
      ]);
    });

    test(`${kind}: abort while connecting reports nothing and closes the socket`, async (t) => {
      const hole = await unansweredPort();
      t.after(() => hole.close());
      await sleep(20);
      const before = fds();
      const connecting = synSent(hole.port); // the helper's own filler
      const native = kind === 'native' ? openNativeTcp() : null;
      const spec = normalizeCheck({ checker: 'TCP_CHECK' }, target(hole.port));
      const results: string[] = [];
      const probes = Array.from({ length: 20 }, () =>
        createTcpProbe(spec, { probeResult: (_ok, reason) => results.push(reason) }, native, kind),
      );
      for (const p of probes) p.start();
      await sleep(100);
      assert.ok(fds() >= before + 20, 'one socket per attempt in flight');
      for (const p of probes) p.abort();
      await sleep(200);
      assert.deepEqual(results, []);
      if (native !== null) {
        // The aborted probes' sockets are disconnected and kept for reuse until the prober closes.
        assert.deepEqual([native.inFlight, native.idle], [0, 20]);
        assert.equal(synSent(hole.port), connecting, 'no connection attempt of the probes left');
        native.close();
      }
      assert.equal(fds(), before);
    });
  }
});
