// A reload that changes the metrics block moves lbd's metrics listener (address, port, path, enabled),
// without a restart; when the new port is taken, the previous listener keeps serving and the error is
// logged. lbd runs in a namespace of its own (its own loopback), with no VRRP and no IPVS.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { controlRequest } from '../../src/cli/control-client';
import { Topology } from '../support/netns';
import { until } from '../support/wait';

const root = path.resolve(__dirname, '..', '..', '..');

/** The HTTP status of GET url from inside the namespace, or the connection error's code. */
async function get(topo: Topology, url: string): Promise<string> {
  const js = `fetch(${JSON.stringify(url)}).then((r) => console.log(r.status), (e) => console.log(e.cause?.code ?? e.message))`;
  return (await topo.exec('d', [process.execPath, '-e', js])).stdout.trim();
}

test('a reload moves the metrics listener; a taken port keeps the old one', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbd-metrics-reload-'));
  const topo = await Topology.create({
    lans: { lan: {} },
    hosts: { d: { links: [{ lan: 'lan', addrs: ['192.0.2.1/24'] }] } },
  });
  t.after(() => topo.destroy());
  const file = path.join(dir, 'lbd.yaml');
  const socket = path.join(dir, 'lbd.sock');
  const write = (metrics: string) => fs.writeFileSync(file, `metrics:\n${metrics}`);
  write('  listen: 127.0.0.1:9301\n');
  let log = '';
  const lbd = topo.spawn('d', [
    process.execPath,
    path.join(root, 'bin', 'lbd'),
    '-f',
    file,
    '--socket',
    socket,
    '--pid-file',
    path.join(dir, 'lbd.pid'),
    '--state-file',
    path.join(dir, 'state.json'),
  ]);
  lbd.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  lbd.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  t.after(() => lbd.kill('SIGKILL'));
  await until(
    'the metrics listener',
    async () => (await get(topo, 'http://127.0.0.1:9301/metrics')) === '200',
  );

  // Another port and path: the new one serves, the old one is closed.
  write('  listen: 127.0.0.1:9302\n  path: /m\n');
  await controlRequest('reload', {}, { socketPath: socket });
  assert.equal(await get(topo, 'http://127.0.0.1:9302/m'), '200');
  assert.equal(await get(topo, 'http://127.0.0.1:9302/metrics'), '404');
  assert.equal(await get(topo, 'http://127.0.0.1:9301/metrics'), 'ECONNREFUSED');
  assert.match(log, /metrics on http:\/\/127\.0\.0\.1:9302\/m/);

  // A port some other process holds: the reload is applied, the listener stays where it was.
  const squatter = topo.spawn('d', [
    process.execPath,
    '-e',
    "require('net').createServer().listen(9303, '127.0.0.1', () => console.log('listening'))",
  ]);
  t.after(() => squatter.kill('SIGKILL'));
  await new Promise((r) => squatter.stdout?.once('data', r));
  write('  listen: 127.0.0.1:9303\n');
  await controlRequest('reload', {}, { socketPath: socket });
  assert.equal(await get(topo, 'http://127.0.0.1:9302/m'), '200');
  await until('the error logged', async () => /metrics listener not moved: .*EADDRINUSE/.test(log));

  // Disabled: nothing listens any more, lbd keeps running.
  write('  enabled: false\n');
  await controlRequest('reload', {}, { socketPath: socket });
  assert.equal(await get(topo, 'http://127.0.0.1:9302/m'), 'ECONNREFUSED');
  assert.equal(lbd.exitCode, null);
});
