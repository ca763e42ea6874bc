import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ControlServer } from '../../src/daemon/control-server';
import { ControlError } from '../../src/daemon/control-protocol';
import { ControlClientError, controlRequest, controlStream } from '../../src/cli/control-client';

function tmpSocket(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lbd-ctl-')), 'sub', 'lbd.sock');
}

/** Sends raw lines and collects the reply lines. */
function raw(socketPath: string, payload: string, expectLines: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const s = net.connect(socketPath);
    let buf = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buf += d;
      const lines = buf.split('\n').filter(Boolean);
      if (lines.length >= expectLines) {
        s.destroy();
        resolve(lines);
      }
    });
    s.on('close', () => resolve(buf.split('\n').filter(Boolean)));
    s.on('error', reject);
    s.write(payload);
  });
}

test('request/reply over a 0600 socket, with 64-bit counters kept exact', async (t) => {
  const sock = tmpSocket();
  const server = new ControlServer(sock).handle('status', (args) => ({ echo: args, bytes: 2n ** 63n + 5n }));
  await server.listen();
  t.after(() => server.close());
  assert.equal(fs.statSync(sock).mode & 0o777, 0o600);
  const result = await controlRequest('status', { verbose: true }, { socketPath: sock });
  assert.deepEqual(result, { echo: { verbose: true }, bytes: '9223372036854775813' });
});

test('errors: unknown command, handler error with code, bad JSON; the connection and daemon keep serving', async (t) => {
  const sock = tmpSocket();
  const server = new ControlServer(sock)
    .handle('reload', () => {
      throw new ControlError('invalid-config', '2 errors', ['a.yaml:3:5: x', 'a.yaml:9:1: y']);
    })
    .handle('ping', () => 'pong');
  await server.listen();
  t.after(() => server.close());
  await assert.rejects(controlRequest('nope', {}, { socketPath: sock }), (err: ControlClientError) => {
    assert.equal(err.code, 'unknown-command');
    assert.equal(err.message, "unknown command 'nope' (known: ping, reload)");
    return true;
  });
  await assert.rejects(controlRequest('reload', {}, { socketPath: sock }), (err: ControlClientError) => {
    assert.equal(err.code, 'invalid-config');
    assert.deepEqual(err.details, ['a.yaml:3:5: x', 'a.yaml:9:1: y']);
    return true;
  });
  const lines = await raw(sock, '{not json\n{"id":"x","cmd":"ping"}\n{"id":7,"cmd":"ping"}\n', 3);
  assert.deepEqual(
    lines.map((l) => JSON.parse(l)),
    [
      { id: 0, ok: false, error: { code: 'bad-request', message: 'request is not JSON' } },
      { id: 0, ok: false, error: { code: 'bad-request', message: "request has no integer 'id'" } },
      { id: 7, ok: true, result: 'pong' },
    ],
  );
});

test('an over-long request line is refused and the connection closed', async (t) => {
  const sock = tmpSocket();
  const server = new ControlServer(sock).handle('ping', () => 'pong');
  await server.listen();
  t.after(() => server.close());
  const lines = await raw(sock, 'x'.repeat(1.5 * 1024 * 1024), 1);
  assert.equal(JSON.parse(lines[0]).error.message, 'request line too long');
  assert.equal(await controlRequest('ping', {}, { socketPath: sock }), 'pong');
});

test('a stream delivers events in order and stops when the client goes away', async (t) => {
  const sock = tmpSocket();
  let stopped = false;
  let emitter: ((e: unknown) => void) | undefined;
  const server = new ControlServer(sock).stream('events', (_args, emit) => {
    emitter = emit;
    return () => (stopped = true);
  });
  await server.listen();
  t.after(() => server.close());
  const got: unknown[] = [];
  const ac = new AbortController();
  const done = controlStream(
    'events',
    { follow: true },
    (e) => {
      got.push(e);
      if (got.length === 3) ac.abort();
    },
    { socketPath: sock, signal: ac.signal },
  );
  while (!emitter) await new Promise((r) => setTimeout(r, 5));
  for (let seq = 1; seq <= 3; seq++) emitter({ seq });
  await done;
  assert.deepEqual(got, [{ seq: 1 }, { seq: 2 }, { seq: 3 }]);
  for (let i = 0; i < 100 && !stopped; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(stopped, true);
});

test('a second daemon on a live socket is refused; a stale socket file is replaced', async (t) => {
  const sock = tmpSocket();
  const first = new ControlServer(sock).handle('ping', () => 1);
  await first.listen();
  await assert.rejects(new ControlServer(sock).listen(), /another lbd is running/);
  await first.close();
  // A stale socket file, as a daemon killed with SIGKILL leaves it.
  const script = `require('net').createServer().listen(${JSON.stringify(sock)}, () => process.kill(process.pid, 'SIGKILL'))`;
  spawnSync(process.execPath, ['-e', script]);
  assert.ok(fs.existsSync(sock));
  const second = new ControlServer(sock).handle('ping', () => 2);
  await second.listen();
  t.after(() => second.close());
  assert.equal(await controlRequest('ping', {}, { socketPath: sock }), 2);
});

test('the client says clearly when lbd is not running', async () => {
  await assert.rejects(
    controlRequest('status', {}, { socketPath: tmpSocket() }),
    (err: ControlClientError) => {
      assert.equal(err.code, 'not-running');
      assert.match(err.message, /^lbd is not running \(no control socket answers at .*lbd\.sock\)$/);
      return true;
    },
  );
});
