// The metrics listener on the host, over a real configuration, a real health checker (TCP checks on
// loopback: one server listening, one refusing) and an IPVS table given by the test (the kernel part is
// covered in prometheus.kernel.test.ts). Output is validated by promtool (Debian prometheus package).
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfigFile } from '../../src/config/load';
import { healthService } from '../../src/daemon/health-services';
import { EventLog } from '../../src/daemon/event-log';
import { HealthChecker } from '../../src/health';
import { port, type VirtualServiceEntry } from '../../src/ipvs';
import { startMetricsServer, type MetricsServer, type MetricsSource } from '../../src/metrics';
import type { StatusDocument } from '../../src/metrics/status';
import { destination, tcpService, ZERO_STATS } from './ipvs-entries';

const BIG = 2 ** 40 + 7; // beyond 32 bits: the kernel's 64-bit counters must come through exactly

function stats(n: number) {
  return {
    conns: n,
    inPackets: n * 10,
    outPackets: n * 9,
    inBytes: BIG + n,
    outBytes: n * 1000,
    cps: 3,
    inPps: 30,
    outPps: 27,
    inBps: 3000,
    outBps: 27000,
  };
}

function table(okPort: number, badPort: number): VirtualServiceEntry[] {
  const dest = (p: number, weight: number, n: number) =>
    destination('127.0.0.1', p, {
      forward: { method: 'masq' },
      weight,
      activeConns: n,
      inactiveConns: 1,
      stats: stats(n),
    });
  return [tcpService('192.0.2.10', [dest(okPort, 3, 5), dest(badPort, 0, 0)], stats(12))];
}

async function get(url: string, headers: Record<string, string> = {}) {
  const r = await fetch(url, { headers });
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() };
}

function sample(body: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of body.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (ok) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('metrics listener', () => {
  let dir: string;
  let listener: net.Server;
  let okPort: number;
  let badPort: number;
  let health: HealthChecker;
  let server: MetricsServer;
  const events = new EventLog();
  let dumps = 0;

  before(async () => {
    listener = net.createServer((s) => {
      s.on('error', () => undefined);
      s.end();
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    okPort = (listener.address() as net.AddressInfo).port;
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    badPort = (closed.address() as net.AddressInfo).port;
    await new Promise((r) => closed.close(r));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbd-metrics-'));
    const file = path.join(dir, 'keepalived.conf');
    fs.writeFileSync(
      file,
      `virtual_server 192.0.2.10 80 {
    delay_loop 0.2
    lb_algo wlc
    lb_kind NAT
    protocol TCP
    real_server 127.0.0.1 ${okPort} {
        weight 3
        TCP_CHECK {
            connect_timeout 1
        }
    }
    real_server 127.0.0.1 ${badPort} {
        weight 2
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
}
`,
    );
    const config = loadConfigFile(file, { hostChecks: 'off' }).config;
    health = new HealthChecker();
    const source: MetricsSource = {
      ipvsTable: () => {
        dumps++;
        return new Promise((r) => setTimeout(() => r(table(okPort, badPort)), 50));
      },
      health,
      vrrp: () => undefined,
      reconciler: () => ({
        operations: { 'add-service': 1, 'add-destination': 2 },
        errors: 0,
        driftRepaired: 1,
        lastApplyMs: 12,
        passes: 3,
      }),
      events,
      config: () => config,
      lastReload: () => undefined,
      startedAt: Date.now() - 5000,
    };
    server = await startMetricsServer(source, { port: 0, refreshMs: 200 });
    health.on('server', (e) =>
      events.publish({
        source: 'health',
        type: e.up ? 'server-up' : 'server-down',
        vs: e.vs,
        server: e.server,
        reason: e.reason,
      }),
    );
    for (const vs of config.virtual_servers) health.setVirtualService(healthService(config, vs));
  });

  after(async () => {
    await server?.close();
    health?.close();
    listener?.close();
  });

  const base = () => `http://127.0.0.1:${server.port}`;

  test('Prometheus text: IPVS counters exact, health states, one dump for concurrent scrapes', async () => {
    // Wait until the refusing server is seen down (fall 1, retry 0).
    const t0 = Date.now();
    let body: string;
    for (;;) {
      body = (await get(`${base()}/metrics`)).body;
      if (sample(body, 'lbd_health_server_up', { server: `127.0.0.1:${badPort}` }) === 0) break;
      assert.ok(Date.now() - t0 < 20_000, `the refusing server never went down:\n${body.slice(0, 3000)}`);
      await wait(200);
    }
    assert.equal(sample(body, 'lbd_health_server_up', { server: `127.0.0.1:${okPort}` }), 1);
    assert.equal(sample(body, 'lbd_ipvs_server_in_bytes_total', { server: `127.0.0.1:${okPort}` }), BIG + 5);
    assert.equal(
      sample(body, 'lbd_ipvs_service_in_bytes_total', { address: '192.0.2.10', port: '80' }),
      BIG + 12,
    );
    assert.equal(sample(body, 'lbd_ipvs_server_configured_weight', { server: `127.0.0.1:${okPort}` }), 3);
    assert.equal(sample(body, 'lbd_ipvs_server_configured_weight', { server: `127.0.0.1:${badPort}` }), 2);
    assert.equal(sample(body, 'lbd_ipvs_server_weight', { server: `127.0.0.1:${badPort}` }), 0);
    assert.equal(sample(body, 'lbd_ipvs_server_active_connections', { server: `127.0.0.1:${okPort}` }), 5);
    assert.equal(sample(body, 'lbd_reconciler_operations_total', { kind: 'add-destination' }), 2);
    assert.ok(
      body.includes(
        `lbd_health_server_last_failure_timestamp_seconds{vs="TCP 192.0.2.10:80",server="127.0.0.1:${badPort}",reason="refused"}`,
      ),
      'last failure reason',
    );
    assert.ok((sample(body, 'lbd_health_checks_total', { checker: 'TCP_CHECK' }) ?? 0) > 0);
    assert.ok((sample(body, 'lbd_health_check_failures_total', { checker: 'TCP_CHECK' }) ?? 0) > 0);
    assert.ok((sample(body, 'lbd_health_check_duration_seconds_count', { checker: 'TCP_CHECK' }) ?? 0) > 0);
    assert.ok(sample(body, 'lbd_process_resident_memory_bytes')! > 0);
    // Scrapes are served from the collector's snapshot: scrapers make no dumps.
    const before = dumps;
    const all = await Promise.all(Array.from({ length: 8 }, () => get(`${base()}/metrics`)));
    assert.ok(
      dumps - before <= 1,
      `eight concurrent scrapes: ${dumps - before} dumps (only the collector's)`,
    );
    const age = sample(all[0].body, 'lbd_metrics_snapshot_age_seconds');
    assert.ok(age !== undefined && age >= 0 && age < 5, `snapshot age ${age}`);
    assert.ok(all.every((r) => r.status === 200 && r.type.startsWith('text/plain; version=0.0.4')));
    // The kernel's per-server rate estimates only when asked for.
    assert.equal(sample(all[0].body, 'lbd_ipvs_server_in_bytes_per_second'), undefined);
    assert.equal(sample(all[0].body, 'lbd_ipvs_service_in_bytes_per_second'), 3000);
    const withRates = (await get(`${base()}/metrics?server_rates=1`)).body;
    assert.equal(
      sample(withRates, 'lbd_ipvs_server_in_bytes_per_second', { server: `127.0.0.1:${okPort}` }),
      3000,
    );
    for (const body of [all[0].body, withRates]) {
      const lint = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
      assert.equal(lint.status, 0, `promtool: ${lint.stdout}${lint.stderr}`);
    }
  });

  test('OpenMetrics when asked, /healthz, read-only', async () => {
    const r = await get(`${base()}/metrics`, {
      accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5',
    });
    assert.match(r.type, /^application\/openmetrics-text; version=1\.0\.0/);
    assert.ok(r.body.endsWith('# EOF\n'));
    assert.equal(r.body.indexOf('# EOF'), r.body.length - 6, 'one # EOF, at the end');
    assert.match(r.body, /^# TYPE lbd_ipvs_server_connections counter$/m);
    assert.match(r.body, /^# TYPE lbd_health_checks counter$/m);
    assert.equal(
      sample(r.body, 'lbd_ipvs_server_in_bytes_total', { server: `127.0.0.1:${okPort}` }),
      BIG + 5,
    );
    assert.equal((await get(`${base()}/healthz`)).body, 'ok\n');
    assert.equal((await fetch(`${base()}/metrics`, { method: 'POST' })).status, 405);
    assert.equal((await get(`${base()}/nothing`)).status, 404);
  });

  test('status.json and the page', async () => {
    const doc = JSON.parse((await get(`${base()}/status.json`)).body) as StatusDocument;
    assert.equal(doc.services.length, 1);
    const bad = doc.services[0].servers.find((s) => s.server === `127.0.0.1:${badPort}`);
    assert.equal(bad?.up, false);
    assert.equal(bad?.reason, 'refused');
    const good = doc.services[0].servers.find((s) => s.server === `127.0.0.1:${okPort}`);
    assert.equal(good?.up, true);
    assert.equal(good?.activeConns, 5);
    assert.ok(doc.events.some((e) => e.type === 'server-down'));
    const page = await get(`${base()}/`);
    assert.match(page.type, /^text\/html/);
    assert.ok(!/(src|href)=["']?https?:/.test(page.body), 'no external assets');
    assert.ok(page.body.includes('status.json'));
  });
});

test('IPVS values are written exactly (small integers digit by digit, 64-bit counters, fractions)', async () => {
  const { renderIpvs } = await import('../../src/metrics/ipvs-text');
  const values = [0, 1, 9, 10, 99, 100, 123456789, 2147483647, 2147483648, 2 ** 40 + 7, 2 ** 53 - 1, 1.5];
  const base = table(80, 81)[0];
  const t: VirtualServiceEntry[] = [
    {
      ...base,
      stats: ZERO_STATS,
      destinations: values.map((v, i) => ({
        ...base.destinations[0],
        port: port(1000 + i),
        stats: { ...ZERO_STATS, inBytes: v },
      })),
    },
  ];
  const text = renderIpvs(t, undefined)
    .map((f) => Buffer.concat([f.text, f.body]).toString())
    .join('');
  const got = text
    .split('\n')
    .filter((l) => l.startsWith('lbd_ipvs_server_in_bytes_total{'))
    .map((l) => l.slice(l.lastIndexOf(' ') + 1));
  assert.deepEqual(got, values.map(String));
  const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(lint.status, 0, `promtool: ${lint.stdout}${lint.stderr}`);
});
