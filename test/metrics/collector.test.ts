// The metrics collector: scrapes served from its snapshot (no dump of their own), its refresh schedule
// (interval, CPU bound, stop without readers), and label buffers kept across refreshes while the table
// keeps the same objects (and rebuilt when it changes).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import { EventLog } from '../../src/daemon/event-log';
import { HealthChecker } from '../../src/health';
import type { VirtualServiceEntry } from '../../src/ipvs';
import { Collector, IpvsRenderer, Scraper, startMetricsServer, type MetricsSource } from '../../src/metrics';
import { destination, tcpService, ZERO_STATS } from './ipvs-entries';

function service(vip: string, servers: [string, number, number][]): VirtualServiceEntry {
  const dests = servers.map(([address, p, conns]) =>
    destination(address, p, { activeConns: conns, stats: { ...ZERO_STATS, conns } }),
  );
  return tcpService(vip, dests);
}

function source(dump: () => Promise<VirtualServiceEntry[]>, counter: { dumps: number }): MetricsSource {
  return {
    ipvsTable: () => {
      counter.dumps++;
      return dump();
    },
    health: new HealthChecker(),
    vrrp: () => undefined,
    reconciler: () => undefined,
    events: new EventLog(),
    config: () => undefined,
    lastReload: () => undefined,
    startedAt: Date.now(),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('scrapes are served from the snapshot: concurrent and repeated scrapes make no dump', async () => {
  const c = { dumps: 0 };
  const table = [service('192.0.2.1', [['10.0.0.1', 80, 4]])];
  const scraper = new Scraper(
    source(() => new Promise((r) => setTimeout(() => r(table), 30)), c),
    { refreshMs: 60_000 },
  );
  try {
    const first = await Promise.all(Array.from({ length: 5 }, () => scraper.scrape(false)));
    assert.equal(c.dumps, 1, 'the first scrapes share the first dump');
    assert.ok(first.every((r) => r.snapshot === first[0].snapshot));
    await sleep(50);
    const later = await Promise.all(Array.from({ length: 8 }, () => scraper.scrape(true)));
    assert.equal(c.dumps, 1, 'later scrapes serve the snapshot');
    const body = Buffer.concat(later[0].chunks.map((x) => Buffer.from(x))).toString();
    const age = Number(/^lbd_metrics_snapshot_age_seconds (\S+)$/m.exec(body)?.[1]);
    assert.ok(age >= 0.05 && age < 10, `age ${age} counts from the dump`);
    assert.match(
      body,
      /^lbd_ipvs_server_connections_total\{protocol="tcp",address="192\.0\.2\.1",port="80",server="10\.0\.0\.1:80"\} 4$/m,
    );
    assert.equal(later[0].bytes, Buffer.byteLength(body));
    await scraper.collector.refresh();
    assert.equal(c.dumps, 2);
  } finally {
    scraper.close();
  }
});

test('the collector refreshes while read, within its CPU bound, and stops without readers', async () => {
  const c = { dumps: 0 };
  const table = [service('192.0.2.1', [['10.0.0.1', 80, 1]])];
  // Each dump burns 40 ms of CPU; maxLoad 0.5: a pause as long as the CPU used follows each refresh.
  const busy = () => {
    const t = performance.now();
    while (performance.now() - t < 40);
    return Promise.resolve(table);
  };
  const col = new Collector(source(busy, c), { refreshMs: 0, maxLoad: 0.5, idleMs: 400 });
  try {
    await col.latest();
    assert.equal(c.dumps, 1);
    assert.ok(col.lastRefreshCpuMs >= 10, `CPU of a refresh ${col.lastRefreshCpuMs} ms`);
    assert.ok(
      Math.abs(col.pauseMs - col.lastRefreshCpuMs) < 0.001,
      `pause ${col.pauseMs} ms = CPU ${col.lastRefreshCpuMs} ms (refreshMs 0, maxLoad 0.5)`,
    );
    await sleep(250);
    const inWindow = c.dumps;
    assert.ok(inWindow >= 2, `refreshed on its own (${inWindow} dumps)`);
    // At least 40 ms of dump and a pause each: at most 7 dumps in 250 ms with the first.
    assert.ok(inWindow <= 7, `${inWindow} dumps in 250 ms`);
    await sleep(700); // no reader for longer than idleMs: it stops
    const stopped = c.dumps;
    await sleep(300);
    assert.equal(c.dumps, stopped, 'no dumps without readers');
    // The next reader waits for a fresh snapshot.
    const t = Date.now();
    const s = await col.latest();
    assert.ok(s.takenAt >= t, 'a fresh snapshot after idleness');
    assert.equal(c.dumps, stopped + 1);
  } finally {
    col.close();
  }
});

test('label buffers are kept across refreshes and rebuilt when the table changes', () => {
  const r = new IpvsRenderer();
  const text = (t: VirtualServiceEntry[]) => {
    const p = r.prepare(t, undefined);
    return {
      p,
      body: r
        .render(p, false)
        .map((f) => Buffer.concat([f.text, f.body]).toString())
        .join(''),
    };
  };
  const a = text([
    service('192.0.2.1', [
      ['10.0.0.1', 80, 1],
      ['10.0.0.2', 80, 2],
    ]),
  ]);
  const b = text([
    service('192.0.2.1', [
      ['10.0.0.1', 80, 7],
      ['10.0.0.2', 80, 8],
    ]),
  ]);
  assert.equal(b.p.serverLabels[0], a.p.serverLabels[0], 'the same buffer, not rebuilt');
  assert.equal(b.p.serviceLabels[0], a.p.serviceLabels[0]);
  assert.match(b.body, /server="10\.0\.0\.2:80"\} 8$/m, 'new values');
  // A real server replaced, a service added.
  const c = text([
    service('192.0.2.1', [
      ['10.0.0.1', 80, 7],
      ['10.0.0.3', 8080, 9],
    ]),
    service('192.0.2.2', [['10.0.0.4', 80, 5]]),
  ]);
  assert.doesNotMatch(c.body, /10\.0\.0\.2/);
  assert.match(
    c.body,
    /^lbd_ipvs_server_connections_total\{protocol="tcp",address="192\.0\.2\.1",port="80",server="10\.0\.0\.3:8080"\} 9$/m,
  );
  assert.match(c.body, /address="192\.0\.2\.2",port="80",server="10\.0\.0\.4:80"\} 5$/m);
  assert.doesNotMatch(c.body, /_per_second\{[^}]*server=/, 'per-server rates only when asked');
  const lint = spawnSync('promtool', ['check', 'metrics'], { input: c.body, encoding: 'utf8' });
  assert.equal(lint.status, 0, `promtool: ${lint.stdout}${lint.stderr}`);
});

test('a refresh reuses the memory of a snapshot no response uses, never of one still being sent', async () => {
  const c = { dumps: 0 };
  let conns = 1;
  const scraper = new Scraper(
    source(() => Promise.resolve([service('192.0.2.1', [['10.0.0.1', 80, conns]])]), c),
    { refreshMs: 60_000 },
  );
  const bytes = (r: { chunks: (string | Buffer)[] }) =>
    Buffer.concat(r.chunks.map((x) => Buffer.from(x))).toString();
  const conn = (body: string) =>
    Number(/^lbd_ipvs_server_connections_total\{[^}]*\} (\d+)$/m.exec(body)?.[1]);
  try {
    const held = await scraper.scrape(false); // a response still being sent
    const before = bytes(held);
    assert.equal(conn(before), 1);
    for (conns = 2; conns <= 4; conns++) await scraper.collector.refresh();
    assert.equal(bytes(held), before, 'the held snapshot is intact after three refreshes');
    const reusesWhileHeld = scraper.collector.arenaReuses;
    assert.ok(reusesWhileHeld >= 1, 'refreshes reused the memory of the snapshots nobody held');
    held.release();
    await scraper.collector.refresh(); // conns 5: may write into the released snapshot's memory
    assert.equal(scraper.collector.arenaReuses, reusesWhileHeld + 1, 'the released memory is reused');
    const now = await scraper.scrape(false);
    assert.equal(conn(bytes(now)), 5);
    now.release();
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: bytes(now), encoding: 'utf8' });
    assert.equal(lint.status, 0, `promtool: ${lint.stdout}${lint.stderr}`);
  } finally {
    scraper.close();
  }
});

test('a slow client gets the snapshot it asked for, intact, while refreshes reuse memory', async () => {
  // 100,000 real servers: a body of about 100 MB, more than the socket buffers hold, so most of it waits in
  // the server's write queue while the client does not read and the collector refreshes.
  let n = 1000;
  const table = () =>
    Array.from({ length: 10000 }, (_, i) =>
      service(
        `10.1.${i >> 8}.${i & 255}`,
        Array.from(
          { length: 10 },
          (_, j) => [`10.2.${i >> 8}.${i & 255}`, 1000 + j, n] as [string, number, number],
        ),
      ),
    );
  const c = { dumps: 0 };
  const server = await startMetricsServer(
    source(() => Promise.resolve(table()), c),
    {
      port: 0,
      refreshMs: 60_000,
    },
  );
  try {
    await server.scraper.collector.refresh(); // n = 1000 in every series
    const sock = net.connect(server.port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.pause();
    sock.write('GET /metrics HTTP/1.0\r\n\r\n');
    await sleep(300); // the response is written as far as it goes
    for (n = 2000; n <= 5000; n += 1000) await server.scraper.collector.refresh();
    assert.ok(server.scraper.collector.arenaReuses >= 1, 'refreshes reused memory meanwhile');
    const parts: Buffer[] = [];
    sock.on('data', (d: Buffer) => parts.push(d));
    sock.resume();
    await new Promise((r) => sock.once('end', r));
    const text = Buffer.concat(parts).toString('latin1');
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    const values = new Set<string>();
    let lines = 0;
    for (const line of body.split('\n')) {
      if (!line.startsWith('lbd_ipvs_server_connections_total{')) continue;
      lines++;
      values.add(line.slice(line.lastIndexOf(' ') + 1));
    }
    assert.equal(lines, 100_000);
    assert.deepEqual([...values], ['1000'], 'every series from the snapshot the scrape was served');
    const lint = spawnSync('promtool', ['check', 'metrics'], {
      input: body,
      encoding: 'utf8',
      maxBuffer: 1e9,
    });
    assert.equal(lint.status, 0, `promtool: ${lint.stdout.slice(0, 2000)}${lint.stderr.slice(0, 2000)}`);
  } finally {
    await server.close();
  }
});
