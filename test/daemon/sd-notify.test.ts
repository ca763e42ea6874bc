// sd_notify datagrams as systemd receives them: a python3 receiver bound to a Unix datagram socket.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SdNotify } from '../../src/daemon/sd-notify';

/** Receives `count` datagrams on a Unix datagram socket (python3, as node cannot). */
function receiver(socketPath: string, count: number): { ready: Promise<void>; messages: Promise<string[]> } {
  const py = `
import socket, sys, json
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
p = sys.argv[1]
s.bind(("\\0" + p[1:]) if p.startswith("@") else p)
print("ready", flush=True)
s.settimeout(10)
out = []
for _ in range(int(sys.argv[2])):
    out.append(s.recv(4096).decode())
print(json.dumps(out), flush=True)
`;
  const child = spawn('python3', ['-c', py, socketPath, String(count)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let buf = '';
  let onReady: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  const messages = new Promise<string[]>((resolve, reject) => {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      buf += d;
      if (buf.startsWith('ready\n')) onReady();
    });
    child.on('exit', (code) => {
      const last = buf.trim().split('\n').pop() ?? '';
      if (code === 0) resolve(JSON.parse(last) as string[]);
      else reject(new Error(`receiver exited ${code}: ${buf}`));
    });
  });
  return { ready, messages };
}

test('READY, STATUS, RELOADING, STOPPING reach the notify socket (path and abstract)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbd-notify-'));
  for (const socketPath of [path.join(dir, 'notify'), `@lbd-test-notify-${process.pid}`]) {
    const rx = receiver(socketPath, 4);
    await rx.ready;
    const sd = new SdNotify(socketPath, undefined);
    sd.ready('serving 3 services');
    sd.status('reloading config');
    sd.reloading();
    sd.stopping();
    const got = await rx.messages;
    assert.equal(got[0], 'READY=1\nSTATUS=serving 3 services\n');
    assert.equal(got[1], 'STATUS=reloading config\n');
    assert.match(got[2], /^RELOADING=1\nMONOTONIC_USEC=\d+\n$/);
    assert.equal(got[3], 'STOPPING=1\n');
  }
});

test('the watchdog pings every half of WATCHDOG_USEC after READY', async () => {
  const socketPath = `@lbd-test-wd-${process.pid}`;
  const rx = receiver(socketPath, 4);
  await rx.ready;
  const sd = new SdNotify(socketPath, 100_000);
  const t0 = Date.now();
  sd.ready();
  const keep = setInterval(() => {}, 10);
  const got = await rx.messages;
  assert.deepEqual(got, ['READY=1\n', 'WATCHDOG=1\n', 'WATCHDOG=1\n', 'WATCHDOG=1\n']);
  // The receiver is gone now: the pings that follow fail, and must not throw out of the timer (that
  // would kill lbd); node's test runner fails the test on an uncaught exception.
  await new Promise((r) => setTimeout(r, 200));
  clearInterval(keep);
  sd.stopWatchdog();
  assert.ok(Date.now() - t0 >= 140, 'three pings at 50 ms take at least 150 ms');
});

test('outside systemd nothing is sent and nothing fails', () => {
  const sd = new SdNotify(undefined, undefined);
  assert.equal(sd.enabled, false);
  sd.ready();
  sd.stopping();
});

test('a notify socket that does not exist is a clear error', () => {
  const sd = new SdNotify('/nonexistent/notify', undefined);
  assert.throws(
    () => sd.send('READY=1\n'),
    /sd_notify to '\/nonexistent\/notify': No such file or directory/,
  );
});
