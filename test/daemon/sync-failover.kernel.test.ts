// Connection sync: two lbd directors (VRRP + lvs_sync_daemon) in direct routing. The master's kernel
// sync daemon sends its connections to the backup's; when the master dies, the backup takes over and an
// established long-lived TCP connection through the VIP keeps working.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { controlRequest } from '../../src/cli/control-client';
import { Topology, type HostSpec } from '../support/netns';
import { until, wait } from '../support/wait';

const root = path.resolve(__dirname, '..', '..', '..');
const VIP = '198.51.100.100';

function conf(priority: number): string {
  return `global_defs {
    vrrp_version 3
    lvs_sync_daemon eth0 VI_1 id 7
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 61
    priority ${priority}
    advert_int 0.5
    virtual_ipaddress {
        ${VIP}/32
    }
}
virtual_server ${VIP} 7000 {
    lb_algo rr
    lb_kind DR
    protocol TCP
    real_server 198.51.100.11 7000 {
        weight 1
    }
}
`;
}

test('an established TCP connection survives the master director dying (DR, connection sync)', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbd-sync-'));
  const dr = { 'net.ipv4.conf.all.arp_ignore': '1', 'net.ipv4.conf.all.arp_announce': '2' };
  const hosts: Record<string, HostSpec> = {
    client: { links: [{ lan: 'lan', addrs: ['198.51.100.2/24'] }] },
    d1: { links: [{ lan: 'lan', addrs: ['198.51.100.1/24'] }] },
    d2: { links: [{ lan: 'lan', addrs: ['198.51.100.3/24'] }] },
    rs: {
      links: [{ lan: 'lan', addrs: ['198.51.100.11/24'] }],
      sysctls: dr,
      ip: [`addr add ${VIP}/32 dev lo`],
    },
  };
  const topo = await Topology.create({ lans: { lan: {} }, hosts });
  t.after(() => topo.destroy());
  const hold = path.join(__dirname, '..', 'support', 'tcp-hold.js');
  const server = topo.spawn('rs', [process.execPath, hold, '--serve', '7000']);
  let serverOut = '';
  server.stdout?.on('data', (d: Buffer) => (serverOut += d.toString()));
  const lbd: Record<string, ReturnType<Topology['spawn']>> = {};
  let logs = '';
  t.after(() => {
    if (process.exitCode) process.stderr.write(logs);
  });
  const sockets: Record<string, string> = {};
  for (const [d, prio] of [
    ['d1', 150],
    ['d2', 100],
  ] as const) {
    fs.writeFileSync(path.join(dir, `${d}.conf`), conf(prio));
    sockets[d] = path.join(dir, `${d}.sock`);
    lbd[d] = topo.spawn(d, [
      process.execPath,
      path.join(root, 'bin', 'lbd'),
      '-f',
      path.join(dir, `${d}.conf`),
      '--pid-file',
      path.join(dir, `${d}.pid`),
      '--socket',
      sockets[d],
      '--state-file',
      path.join(dir, `${d}.json`),
    ]);
    lbd[d].stdout?.on('data', (x: Buffer) => (logs += `[${d}] ${x.toString()}`));
    lbd[d].stderr?.on('data', (x: Buffer) => (logs += `[${d}] ${x.toString()}`));
  }
  const state = async (d: string) =>
    ((await controlRequest('vrrp', {}, { socketPath: sockets[d] })) as { instances: { state: string }[] })
      .instances[0]?.state;
  await until(
    'd1 MASTER, d2 BACKUP',
    async () => (await state('d1')) === 'MASTER' && (await state('d2')) === 'BACKUP',
    120_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; lbd printed:\n${logs}`, { cause: err });
  });
  await until('the echo server', async () => serverOut.includes('listening'));
  // The sync daemons follow the VRRP roles.
  await until(
    'sync daemons',
    async () =>
      /master sync daemon \(mcast=eth0, syncid=7/.test(await topo.sh('d1', 'ipvsadm -L --daemon')) &&
      /backup sync daemon \(mcast=eth0, syncid=7/.test(await topo.sh('d2', 'ipvsadm -L --daemon')),
  );

  const client = topo.spawn('client', [process.execPath, hold, VIP, '7000']);
  let out = '';
  client.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  await until('the connection', async () => out.includes('connected'));
  // The backup learns the connection from the master's sync daemon.
  await until(
    'the connection synced to d2',
    async () =>
      /TCP .* ESTABLISHED .*198\.51\.100\.100:7000\s+198\.51\.100\.11:7000/.test(
        await topo.sh('d2', 'ipvsadm -Lnc'),
      ),
    30_000,
  );

  const failAt = Date.now();
  lbd.d1.kill('SIGKILL');
  await topo.sh('d1', 'ip link set eth0 down');
  await until('d2 MASTER', async () => (await state('d2')) === 'MASTER', 30_000);
  await until(
    'd2 to run the master sync daemon',
    async () => /master sync daemon/.test(await topo.sh('d2', 'ipvsadm -L --daemon')),
    30_000,
  );
  await wait(3000);
  const exited = new Promise((r) => client.once('exit', r));
  client.kill('SIGTERM');
  await exited;
  const s = JSON.parse(out.trim().split('\n').pop() as string) as {
    sent: number;
    echoed: number;
    lastEchoAt: number;
    error: string | null;
    closed: boolean;
  };
  assert.equal(s.error, null, JSON.stringify(s));
  assert.equal(s.closed, false, 'the connection is still open');
  assert.ok(
    s.lastEchoAt > failAt + 1000,
    `echoes continue after the failover: ${JSON.stringify(s)}, failover at ${failAt}`,
  );
  assert.ok(
    s.echoed >= s.sent - 5,
    `lost at most the lines in flight during the takeover: ${JSON.stringify(s)}`,
  );
  lbd.d2.kill('SIGTERM');
});
