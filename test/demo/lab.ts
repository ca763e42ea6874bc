// `make demo`: a complete lbd lab, narrated. Runs as root in a kernel with IPVS (the test VM when the
// host has none). Two directors run lbd from the same keepalived.conf (priorities 150 and 100) and share
// a VIP by VRRPv3; three real servers answer HTTP behind it in direct routing; a client sends steady
// traffic. The lab measures what an operator cares about and prints a summary.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { controlRequest } from '../../src/cli/control-client';
import { Topology, type HostSpec } from '../support/netns';
import { startHttpd, startLoad, type LoadSummary } from '../support/servers';
import { until, wait } from '../support/wait';

const root = path.resolve(__dirname, '..', '..', '..');
const VIP = '198.51.100.100';
const RS = ['rs1', 'rs2', 'rs3'];
const WEIGHTS = [3, 2, 1];
const ADVERT = 0.5;
const t0 = Date.now();
const clock = () => `${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s`;
const say = (text: string) => process.stdout.write(`[${clock()}] ${text}\n`);

function config(priority: number): string {
  const servers = RS.map(
    (_, i) => `    real_server 198.51.100.${11 + i} 80 {
        weight ${WEIGHTS[i]}
        HTTP_GET {
            url {
                path /
                status_code 200
            }
            connect_timeout 1
            retry 0
        }
    }`,
  ).join('\n');
  return `global_defs {
    vrrp_version 3
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority ${priority}
    advert_int ${ADVERT}
    virtual_ipaddress {
        ${VIP}/32
    }
}
virtual_server ${VIP} 80 {
    delay_loop 1
    lb_algo wrr
    lb_kind DR
    protocol TCP
${servers}
}
`;
}

function spread(s: LoadSummary): string {
  const total = s.ok || 1;
  return RS.map((rs) => `${rs} ${(((s.byBody[rs] ?? 0) * 100) / total).toFixed(0)}%`).join(', ');
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbd-demo-'));
  const dr = { 'net.ipv4.conf.all.arp_ignore': '1', 'net.ipv4.conf.all.arp_announce': '2' };
  const hosts: Record<string, HostSpec> = {
    client: { links: [{ lan: 'lan', addrs: ['198.51.100.2/24'] }] },
    d1: { links: [{ lan: 'lan', addrs: ['198.51.100.1/24'] }] },
    d2: { links: [{ lan: 'lan', addrs: ['198.51.100.3/24'] }] },
  };
  RS.forEach(
    (rs, i) =>
      (hosts[rs] = {
        links: [{ lan: 'lan', addrs: [`198.51.100.${11 + i}/24`] }],
        sysctls: dr,
        ip: [`addr add ${VIP}/32 dev lo`],
      }),
  );
  say('building the lab: client, directors d1 and d2, real servers rs1..rs3 on one LAN (198.51.100.0/24)');
  const topo = await Topology.create({ lans: { lan: {} }, hosts });
  const figures: string[] = [];
  try {
    await startHttpd(topo, RS);
    const directors: Record<string, { socket: string; proc: ReturnType<Topology['spawn']> }> = {};
    for (const [d, prio] of [
      ['d1', 150],
      ['d2', 100],
    ] as const) {
      const file = path.join(dir, `${d}.conf`);
      fs.writeFileSync(file, config(prio));
      const socket = path.join(dir, `${d}.sock`);
      const proc = topo.spawn(d, [
        process.execPath,
        path.join(root, 'bin', 'lbd'),
        '-f',
        file,
        '--pid-file',
        path.join(dir, `${d}.pid`),
        '--socket',
        socket,
        '--state-file',
        path.join(dir, `${d}.json`),
        '--log-level',
        'warn',
      ]);
      proc.stdout?.resume();
      proc.stderr?.resume();
      directors[d] = { socket, proc };
    }
    say(
      `lbd started on d1 (priority 150) and d2 (priority 100): VRRPv3 every ${ADVERT} s, VIP ${VIP}, wrr ${WEIGHTS.join(':')}, HTTP_GET every 1 s`,
    );
    const state = async (d: string) =>
      (
        (await controlRequest('vrrp', {}, { socketPath: directors[d].socket })) as {
          instances: { state: string }[];
        }
      ).instances[0]?.state;
    await until(
      'd1 to become MASTER',
      async () => (await state('d1')) === 'MASTER' && (await state('d2')) === 'BACKUP',
      120_000,
      200,
    );
    say('d1 is MASTER and holds the VIP; d2 is BACKUP');
    const table = (d: string) => topo.sh(d, 'ipvsadm -Sn');
    await until(
      'the real servers in IPVS',
      async () => ((await table('d1')).match(/-a -t/g) ?? []).length === 3,
      60_000,
      200,
    );
    say(`IPVS on d1 (programmed by lbd):\n${(await table('d1')).trimEnd().replace(/^/gm, '           ')}`);

    let load = await startLoad(topo, 'client', `http://${VIP}/`, 20);
    say('client: one request every 20 ms through the VIP');
    await wait(5000);
    let s = await load.stop();
    say(`5 s of traffic: ${s.ok} requests, ${s.failed} failed; spread ${spread(s)} (weights 3:2:1)`);
    figures.push(`wrr spread ${spread(s)} over ${s.ok} requests`);

    load = await startLoad(topo, 'client', `http://${VIP}/`, 20);
    await wait(1000);
    const killAt = Date.now();
    await topo.killAll('rs2');
    say('rs2 killed (its HTTP server is gone)');
    await until('rs2 removed', async () => !(await table('d1')).includes('198.51.100.12:80'), 30_000);
    const removalMs = Date.now() - killAt;
    say(`lbd's HTTP_GET noticed and removed rs2 from IPVS after ${removalMs} ms`);
    await wait(3000);
    s = await load.stop();
    say(
      `meanwhile: ${s.ok} requests, ${s.failed} failed (those already sent to rs2 before its removal); spread ${spread(s)}`,
    );
    figures.push(`rs2 removed ${removalMs} ms after it died (${s.failed} failed requests)`);

    load = await startLoad(topo, 'client', `http://${VIP}/`, 20);
    await wait(1000);
    const failAt = Date.now();
    directors.d1.proc.kill('SIGKILL');
    await topo.sh('d1', 'ip link set eth0 down');
    say('d1 powered off (lbd killed with SIGKILL, its link down)');
    await until('d2 to take over', async () => (await state('d2')) === 'MASTER', 30_000, 20);
    const takeoverMs = Date.now() - failAt;
    say(
      `d2 is MASTER after ${takeoverMs} ms (Master_Down_Interval = 3 x ${ADVERT} s + skew), sent gratuitous ARP for the VIP`,
    );
    await wait(4000);
    s = await load.stop();
    const outage = s.failures.length ? s.failures[s.failures.length - 1].at - s.failures[0].at : 0;
    say(
      `client during the failover: ${s.ok} requests answered, ${s.failed} failed (over ${outage} ms); spread ${spread(s)}`,
    );
    figures.push(`director failover ${takeoverMs} ms, ${s.failed} failed requests`);

    const backAt = Date.now();
    await startHttpd(topo, ['rs2']);
    say('rs2 restarted');
    await until('rs2 back', async () => (await table('d2')).includes('198.51.100.12:80'), 30_000);
    const backMs = Date.now() - backAt;
    say(`rs2 back in IPVS on d2 after ${backMs} ms, weight ${WEIGHTS[1]}`);
    load = await startLoad(topo, 'client', `http://${VIP}/`, 20);
    await wait(4000);
    s = await load.stop();
    say(`last 4 s: ${s.ok} requests, ${s.failed} failed; spread ${spread(s)}`);
    figures.push(`rs2 back ${backMs} ms after restart`);

    directors.d2.proc.kill('SIGTERM');
    say(`summary: ${figures.join('; ')}; lab ran ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  } finally {
    await topo.destroy();
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`demo failed: ${err.message}\n`);
    process.exit(1);
  },
);
