// lbd with VRRP-only configurations, on this host whose kernel has no IPVS: the reference keepalived
// configurations (addresses moved to documentation ranges) run between directors in namespaces.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { controlRequest } from '../../src/cli/control-client';
import { Topology } from '../support/netns';
import { until } from '../support/wait';

const root = path.resolve(__dirname, '..', '..', '..');
const reference = (name: string) =>
  fs.readFileSync(path.join(root, '..', 'shared', 'reference', name), 'utf8');

interface Instance {
  name: string;
  state: string;
  priority: number;
}

function startLbd(
  topo: Topology,
  host: string,
  dir: string,
  conf: string,
  extra: string[] = [],
): { proc: ChildProcess; socket: string } {
  const file = path.join(dir, `${host}.conf`);
  fs.writeFileSync(file, conf);
  const socket = path.join(dir, `${host}.sock`);
  const proc = topo.spawn(host, [
    process.execPath,
    path.join(root, 'bin', 'lbd'),
    '-f',
    file,
    '--pid-file',
    path.join(dir, `${host}.pid`),
    '--socket',
    socket,
    '--state-file',
    path.join(dir, `${host}.json`),
    ...extra,
  ]);
  return { proc, socket };
}

const instances = async (socket: string) =>
  ((await controlRequest('vrrp', {}, { socketPath: socket })) as { instances: Instance[] }).instances;

const vips = async (topo: Topology, host: string) =>
  (await topo.sh(host, 'ip -4 -o addr show dev eth0')).match(/198\.51\.100\.14\d\/26/g)?.sort() ?? [];

describe('lbd runs VRRP-only keepalived configurations without IPVS', () => {
  test('two VIPs with crossed priorities: each director holds one; SIGTERM hands both over at once', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbd-vrrp-'));
    const topo = await Topology.create({
      lans: { lan: {} },
      hosts: {
        d1: { links: [{ lan: 'lan', addrs: ['198.51.100.1/26'] }] },
        d2: { links: [{ lan: 'lan', addrs: ['198.51.100.2/26'] }] },
      },
    });
    t.after(() => topo.destroy());
    const conf1 = reference('keepalived-two-vips.conf').replaceAll('192.168.10.', '198.51.100.');
    // The peer director: the same file with the priorities crossed.
    const conf2 = conf1
      .replace('priority 50', 'priority X')
      .replace('priority 100', 'priority 50')
      .replace('priority X', 'priority 100');
    const d1 = startLbd(topo, 'd1', dir, conf1);
    const d2 = startLbd(topo, 'd2', dir, conf2, ['--metrics-listen', '127.0.0.1:9100']);
    const states = async () => [
      (await instances(d1.socket)).map((i) => `${i.name}:${i.state}`).join(' '),
      (await instances(d2.socket)).map((i) => `${i.name}:${i.state}`).join(' '),
    ];
    await until('the election', async () => {
      const [a, b] = await states();
      return a === 'VI_141:BACKUP VI_142:MASTER' && b === 'VI_141:MASTER VI_142:BACKUP';
    });
    // d2 serves Prometheus metrics (inside its namespace): its instances' states as VRRP sees them.
    const fetchMetrics =
      "fetch('http://127.0.0.1:9100/metrics').then(async (r) => process.stdout.write(await r.text()))";
    const metrics = await until('metrics from d2', async () => {
      const r = await topo.exec('d2', [process.execPath, '-e', fetchMetrics]);
      return r.code === 0 && r.stdout.includes('lbd_vrrp_state') && r.stdout;
    });
    assert.match(metrics, /^lbd_vrrp_state\{vrrp_instance="VI_141",state="MASTER"\} 1$/m);
    assert.match(metrics, /^lbd_vrrp_state\{vrrp_instance="VI_142",state="BACKUP"\} 1$/m);
    await until(
      'the VIPs',
      async () =>
        (await vips(topo, 'd1')).join() === '198.51.100.142/26' &&
        (await vips(topo, 'd2')).join() === '198.51.100.141/26',
    );

    // A reload that changes VI_142 only: VI_141 keeps running untouched on d2 (still MASTER, VIP kept).
    const seq = ((await controlRequest('status', {}, { socketPath: d2.socket })) as { lastEvent: number })
      .lastEvent;
    fs.writeFileSync(path.join(dir, 'd2.conf'), conf2.replace('priority 50', 'priority 60'));
    await controlRequest('reload', {}, { socketPath: d2.socket });
    const after = (await controlRequest('events', { after: seq }, { socketPath: d2.socket })) as {
      type: string;
      instance?: string;
      kept?: string[];
      restarted?: string[];
    }[];
    const reloaded = after.find((e) => e.type === 'reloaded' && e.kept);
    assert.deepEqual([reloaded?.kept, reloaded?.restarted], [['VI_141'], ['VI_142']]);
    assert.ok(!after.some((e) => e.type === 'transition' && e.instance === 'VI_141'), JSON.stringify(after));
    assert.deepEqual(await vips(topo, 'd2'), ['198.51.100.141/26']);
    await until(
      'VI_142 back to BACKUP on d2',
      async () => (await states())[1] === 'VI_141:MASTER VI_142:BACKUP',
    );

    const exited = new Promise<number | null>((r) => d1.proc.once('exit', (code) => r(code)));
    const t0 = Date.now();
    d1.proc.kill('SIGTERM');
    await until('d2 to hold both VIPs', async () => (await vips(topo, 'd2')).length === 2, 5000);
    const takeoverMs = Date.now() - t0;
    assert.equal(await exited, 0);
    assert.deepEqual(await vips(topo, 'd1'), [], 'the stopped director released its VIP');
    assert.ok(
      takeoverMs < 1500,
      `takeover after SIGTERM took ${takeoverMs} ms (priority 0 advert, not a timeout)`,
    );
    assert.equal(
      (await instances(d2.socket)).map((i) => `${i.name}:${i.state}`).join(' '),
      'VI_141:MASTER VI_142:MASTER',
    );
    const events = (await controlRequest('events', {}, { socketPath: d2.socket })) as {
      source: string;
      type: string;
      instance?: string;
      to?: string;
    }[];
    assert.ok(
      events.some(
        (e) => e.source === 'vrrp' && e.type === 'transition' && e.instance === 'VI_142' && e.to === 'MASTER',
      ),
    );
    d2.proc.kill('SIGTERM');
  });

  test('track_script moves the priority: +2 while the script succeeds', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbd-vrrp-'));
    const topo = await Topology.create({
      lans: { lan: {} },
      hosts: { d1: { links: [{ lan: 'lan', name: 'eth1', addrs: ['198.51.100.1/24'] }] } },
    });
    t.after(() => topo.destroy());
    const flag = path.join(dir, 'nginx-ok');
    const script = path.join(dir, 'check_nginx.sh');
    fs.writeFileSync(script, `#!/bin/sh\ntest -e ${flag}\n`, { mode: 0o755 });
    fs.writeFileSync(flag, '');
    const conf = reference('keepalived-track-script.conf')
      .replace('/etc/keepalived/check_nginx.sh', script)
      .replace('interval 2', 'interval 0.2')
      .replaceAll('192.168.101.', '198.51.100.');
    const d1 = startLbd(topo, 'd1', dir, conf);
    t.after(() => d1.proc.kill('SIGKILL'));
    await until('MASTER with priority 102', async () => {
      const [i] = await instances(d1.socket);
      return i.state === 'MASTER' && i.priority === 102;
    });
    assert.match(await topo.sh('d1', 'ip -4 -o addr show dev eth1'), /198\.51\.100\.100\/32/);
    fs.rmSync(flag);
    await until(
      'priority 100 once the script fails',
      async () => (await instances(d1.socket))[0].priority === 100,
    );
    fs.writeFileSync(flag, '');
    await until('priority 102 again', async () => (await instances(d1.socket))[0].priority === 102);
  });
});
