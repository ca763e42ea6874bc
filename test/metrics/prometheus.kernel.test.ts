// Metrics end to end in the real kernel (test VM): lbd (with its metrics listener) in a director
// namespace holds a VIP by VRRP and balances it over two real servers by IPVS NAT; a client namespace
// sends steady HTTP traffic; a real Prometheus server (Debian's) on loopback scrapes lbd every second.
// The test asserts through Prometheus's query API that what Prometheus saw matches the kernel and what
// happened: connection counts and rates, a real server's failure (health state, transitions, traffic
// moving to the other server), VRRP state and the VIP. Then headless Chromium loads the status page
// while the server is down and the VIP held, the test reads what the page shows and saves a screenshot.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Topology } from '../support/netns';
import { startHttpd, startLoad } from '../support/servers';
import { Chromium } from './cdp';

const root = path.resolve(__dirname, '..', '..', '..');
const outDir = path.join(root, 'test-output');
const VIP = '198.51.100.100';
const RS1 = '203.0.113.11:80';
const RS2 = '203.0.113.12:80';
const MGMT = '192.0.2.2'; // the director's end of a link from the test's namespace
const METRICS = `${MGMT}:9167`;
const PROM_PORT = 19090;

const conf = `vrrp_instance VI_front {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    virtual_ipaddress {
        ${VIP}/24
    }
}
virtual_server ${VIP} 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 203.0.113.11 80 {
        weight 2
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
    real_server 203.0.113.12 80 {
        weight 1
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
}
`;

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const t0 = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what} (last: ${String(last)})`);
    await wait(250);
  }
}

/** An instant query: the value of each series, by the given label's value. */
async function query(expr: string, by = '', time?: number): Promise<Map<string, number>> {
  const at = time === undefined ? '' : `&time=${time}`;
  const r = await fetch(`http://127.0.0.1:${PROM_PORT}/api/v1/query?query=${encodeURIComponent(expr)}${at}`);
  const body = (await r.json()) as {
    status: string;
    error?: string;
    data: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
  return new Map(body.data.result.map((s) => [by ? (s.metric[by] ?? '') : '', Number(s.value[1])]));
}
async function one(expr: string): Promise<number | undefined> {
  return (await query(expr)).get('');
}

describe('metrics scraped by Prometheus, status page in Chromium (real kernel)', () => {
  let topo: Topology;
  let dir: string;
  let lbd: ChildProcess;
  let prom: ChildProcess;
  let lbdOut = '';
  let promOut = '';

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbd-metrics-e2e-'));
    fs.writeFileSync(path.join(dir, 'keepalived.conf'), conf);
    topo = await Topology.create({
      lans: { front: {}, back: {} },
      hosts: {
        client: { links: [{ lan: 'front', addrs: ['198.51.100.2/24'] }] },
        director: {
          links: [
            { lan: 'front', addrs: ['198.51.100.1/24'] },
            { lan: 'back', addrs: ['203.0.113.1/24'] },
          ],
          forwarding: true,
        },
        rs1: { links: [{ lan: 'back', addrs: ['203.0.113.11/24'] }], routes: ['default via 203.0.113.1'] },
        rs2: { links: [{ lan: 'back', addrs: ['203.0.113.12/24'] }], routes: ['default via 203.0.113.1'] },
      },
    });
    const ns = topo.ns.director;
    const veth = `lbdm${process.pid % 100000}`;
    const r = await new Promise<number | null>((resolve) =>
      spawn(
        'sh',
        [
          '-ec',
          `ip link add ${veth} type veth peer name mgmt netns ${ns}
           ip addr add 192.0.2.1/30 dev ${veth}; ip link set ${veth} up; ip link set lo up
           ip -n ${ns} addr add ${MGMT}/30 dev mgmt; ip -n ${ns} link set mgmt up`,
        ],
        { stdio: 'inherit' },
      ).on('exit', resolve),
    );
    assert.equal(r, 0, 'management link');
    await startHttpd(topo, ['rs1', 'rs2']);
    lbd = topo.spawn('director', [
      process.execPath,
      path.join(__dirname, 'lbd-metrics-host.js'),
      path.join(dir, 'keepalived.conf'),
      path.join(dir, 'lbd.sock'),
      MGMT,
      '9167',
    ]);
    lbd.stdout?.setEncoding('utf8');
    lbd.stdout?.on('data', (d: string) => (lbdOut += d));
    lbd.stderr?.setEncoding('utf8');
    lbd.stderr?.on('data', (d: string) => (lbdOut += d));
    fs.writeFileSync(
      path.join(dir, 'prometheus.yml'),
      `global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: lbd
    static_configs:
      - targets: ['${METRICS}']
`,
    );
    prom = spawn(
      'prometheus',
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${PROM_PORT}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prom.stdout?.setEncoding('utf8');
    prom.stdout?.on('data', (d: string) => (promOut = (promOut + d).slice(-4000)));
    prom.stderr?.setEncoding('utf8');
    prom.stderr?.on('data', (d: string) => (promOut = (promOut + d).slice(-4000)));
    try {
      await until('lbd and its metrics listener', async () => /^ready /m.test(lbdOut), 90_000);
      await until('Prometheus to scrape lbd', async () => (await one('up{job="lbd"}')) === 1, 120_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nlbd:\n${lbdOut}\nprometheus:\n${promOut}`, { cause: err });
    }
  });

  after(async () => {
    prom?.kill('SIGKILL');
    lbd?.kill('SIGTERM');
    await topo?.destroy();
  });

  test('traffic: Prometheus sees the connections the kernel counted, at the rate they came', async () => {
    await until(
      'the VIP on the director',
      async () => (await one('lbd_vrrp_vip_held{vip="198.51.100.100"}')) === 1,
    );
    const load = await startLoad(topo, 'client', `http://${VIP}/`, 50);
    try {
      // The kernel's own estimate and Prometheus's rate both show the traffic.
      await until('a connection rate in Prometheus', async () => {
        const r = await one(
          'rate(lbd_ipvs_service_connections_total{address="198.51.100.100",port="80"}[5s])',
        );
        return r !== undefined && r > 2;
      });
      await until(
        'the kernel rate estimate',
        async () => ((await one('lbd_ipvs_service_connections_per_second{port="80"}')) ?? 0) > 0,
      );
      const perServer = await query('rate(lbd_ipvs_server_connections_total{port="80"}[5s])', 'server');
      assert.ok(
        (perServer.get(RS1) ?? 0) > 0 && (perServer.get(RS2) ?? 0) > 0,
        `both servers get traffic: ${[...perServer]}`,
      );
      assert.equal(await one(`lbd_ipvs_server_configured_weight{server="${RS1}"}`), 2);
      assert.equal(await one(`lbd_ipvs_server_weight{server="${RS1}"}`), 2);
    } finally {
      const summary = await load.stop();
      // Traffic stopped: after two more scrapes, Prometheus's last sample is the kernel's count, which is
      // the number of requests the client made (one connection each).
      const made = summary.ok + summary.failed;
      await until(
        'the final connection count in Prometheus',
        async () => (await one('lbd_ipvs_service_connections_total{port="80"}')) === made,
        20_000,
      ).catch(async (err: Error) => {
        const saw = await one('lbd_ipvs_service_connections_total{port="80"}');
        const kernel = await topo.sh('director', 'ipvsadm -Ln --stats -t 198.51.100.100:80');
        throw new Error(`${err.message}: client made ${made}, Prometheus ${saw}; kernel:\n${kernel}`);
      });
      assert.equal(summary.failed, 0);
    }
  });

  test('a real server fails: health state, transitions and traffic as Prometheus sees them', async () => {
    let load = await startLoad(topo, 'client', `http://${VIP}/`, 50);
    try {
      const failedAt = Date.now();
      await topo.killAll('rs2');
      await until(
        'rs2 down in Prometheus',
        async () => (await one(`lbd_health_server_up{server="${RS2}"}`)) === 0,
      );
      const detectS = (Date.now() - failedAt) / 1000;
      assert.equal(await one(`lbd_health_server_up{server="${RS1}"}`), 1);
      assert.equal(await one(`lbd_health_server_transitions_total{server="${RS2}",to="down"}`), 1);
      const reasons = await query(
        `lbd_health_server_last_failure_timestamp_seconds{server="${RS2}"}`,
        'reason',
      );
      assert.deepEqual([...reasons.keys()], ['refused']);
      const at = reasons.get('refused')!;
      assert.ok(
        at * 1000 >= failedAt - 1000 && at * 1000 <= failedAt + detectS * 1000 + 1000,
        `failure time ${at}`,
      );
      assert.equal(await one('lbd_health_quorum_up'), 1);
      assert.ok(((await one('lbd_health_check_failures_total{checker="TCP_CHECK"}')) ?? 0) >= 1);
      assert.ok(((await one('lbd_reconciler_operations_total{kind="delete-destination"}')) ?? 0) >= 1);
      // The kernel stops sending to rs2 (removed), all traffic to rs1.
      await until(
        'rs2 out of the kernel table',
        async () => (await query(`lbd_ipvs_server_weight{server="${RS2}"}`)).size === 0,
      );
      const rate = await one('rate(lbd_ipvs_service_connections_total{port="80"}[10s])');
      assert.ok(rate !== undefined && rate > 2, `service rate ${rate}`);
    } finally {
      const summary = await load.stop();
      assert.ok(summary.ok > 0);
    }
    // The series come from the collector's snapshot (its age is exported), and the kernel folds its
    // per-CPU counters into the totals a dump reads every 2 s (its estimator's period). So the counters
    // are final once Prometheus has scraped a snapshot dumped more than 2.5 s after the traffic stopped,
    // and another one 2.5 s newer shows the same. Then a known number of requests, and once settled
    // again every one of them is counted by the service and by rs1.
    const counts = async () => ({
      service: await one('lbd_ipvs_service_connections_total{port="80"}'),
      rs1: await one(`lbd_ipvs_server_connections_total{server="${RS1}"}`),
    });
    const snapshotAt = async () =>
      ((await one('timestamp(lbd_metrics_snapshot_age_seconds) - lbd_metrics_snapshot_age_seconds')) ?? 0) *
      1000;
    const snapshotAfter = (t: number) =>
      until(`a snapshot dumped after ${t}`, async () => {
        const at = await snapshotAt();
        return at > t && at;
      });
    const settled = (stoppedAt = Date.now()) =>
      until('the counters to settle in Prometheus', async () => {
        const at = await snapshotAfter(stoppedAt + 2500);
        const x = await counts();
        await snapshotAfter(at + 2500);
        const y = await counts();
        return x.service !== undefined && x.service === y.service && x.rs1 === y.rs1 && y;
      });
    const a = await settled();
    load = await startLoad(topo, 'client', `http://${VIP}/`, 50);
    await wait(5000);
    const summary = await load.stop();
    const b = await settled();
    const made = summary.ok + summary.failed;
    assert.ok(made > 20, `requests made ${made}`);
    assert.equal(summary.failed, 0);
    assert.equal(b.service! - a.service!, made, 'the service counted every request');
    assert.equal(b.rs1! - a.rs1!, made, 'the connections of the service all went to rs1');
    // VRRP as Prometheus sees it.
    assert.equal(await one('lbd_vrrp_state{vrrp_instance="VI_front",state="MASTER"}'), 1);
    assert.equal(await one('lbd_vrrp_priority{vrrp_instance="VI_front"}'), 150);
    assert.ok(((await one('lbd_vrrp_adverts_sent_total{vrrp_instance="VI_front"}')) ?? 0) > 0);
    assert.equal(await one('lbd_vrrp_transitions_total{vrrp_instance="VI_front",to="MASTER"}'), 1);
    assert.equal(await one('lbd_vrrp_duplicate_master_total{vrrp_instance="VI_front"}'), 0);
    // The only router: becoming master is the first master known, no change.
    assert.equal(await one('lbd_vrrp_master_changes_total{vrrp_instance="VI_front"}'), 0);
    // lbd_vrrp_vip_held is what the interface has: the VIP deleted behind lbd's back shows 0 while the
    // instance stays MASTER, and 1 once it is back.
    const held = () => one(`lbd_vrrp_vip_held{vip="${VIP}",interface="eth0"}`);
    await topo.sh('director', `ip addr del ${VIP}/24 dev eth0`);
    await until('the deleted VIP not held in Prometheus', async () => (await held()) === 0);
    assert.equal(await one('lbd_vrrp_state{vrrp_instance="VI_front",state="MASTER"}'), 1);
    await topo.sh('director', `ip addr add ${VIP}/24 dev eth0`);
    await until('the VIP held again in Prometheus', async () => (await held()) === 1);
  });

  test('the status page in headless Chromium shows the failed server and the held VIP', async () => {
    const browser = Chromium.launch();
    try {
      const page = await until('Chromium to open a page', () => browser.page(1280, 900), 120_000);
      await page.navigate(`http://${METRICS}/`);
      const seen = await until(
        'the page to draw the status',
        () =>
          page.evaluate<{
            down: string[];
            up: string[];
            vips: string[];
            state: string;
            summary: string;
            events: number;
            downReason: string;
          } | null>(`(() => {
            if (!document.body.dataset.loaded) return null;
            const q = (s) => [...document.querySelectorAll(s)];
            return {
              down: q('tr.server.down').map((r) => r.dataset.server),
              up: q('tr.server.up').map((r) => r.dataset.server),
              vips: q('.vip.held').map((v) => v.dataset.vip),
              state: (document.querySelector('tr.instance .badge') || {}).textContent || '',
              summary: document.getElementById('summary').textContent,
              events: q('tr.event').length,
              downReason: (document.querySelector('tr.server.down .reason') || {}).textContent || '',
            };
          })()`),
        90_000,
      );
      assert.ok(seen);
      fs.mkdirSync(outDir, { recursive: true });
      await page.screenshot(path.join(outDir, 'metrics-status-page.png'));
      assert.deepEqual(seen.down, [RS2]);
      assert.deepEqual(seen.up, [RS1]);
      assert.deepEqual(seen.vips, [VIP]);
      assert.equal(seen.state, 'MASTER');
      assert.match(seen.summary, /1 services, 2 real servers, 1 down/);
      assert.match(seen.downReason, /refused/);
      assert.ok(seen.events > 0);
      // It refreshes itself: rs2 back up shows without a reload.
      await topo.sh('rs2', `busybox httpd -p 80 -h ${dir}`);
      await until(
        'the page to show rs2 up again',
        () =>
          page.evaluate<boolean>(
            `document.querySelectorAll('tr.server.down').length === 0 && document.querySelectorAll('tr.server.up').length === 2`,
          ),
        60_000,
      );
      await page.screenshot(path.join(outDir, 'metrics-status-page-recovered.png'));
    } finally {
      await browser.close();
    }
  });
});
