// `lbd -f keepalived.conf` on the reference LVS-DR configuration (addresses moved to a documentation
// range), in the real kernel: the VRRP master holds the VIP, IPVS has the wrr service with both real
// servers, and a client's requests reach both through the VIP with replies bypassing the director.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { controlRequest } from '../../src/cli/control-client';
import { Topology, type HostSpec } from '../support/netns';
import { probe, startHttpd } from '../support/servers';
import { until } from '../support/wait';

const root = path.resolve(__dirname, '..', '..', '..');

test('the LVS-DR reference keepalived.conf: VIP, wrr table and traffic through the VIP', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbd-ref-'));
  const conf = fs
    .readFileSync(path.join(root, '..', 'shared', 'reference', 'keepalived-lvs-dr.conf'), 'utf8')
    .replaceAll('192.168.4.', '198.51.100.')
    .replace('delay_loop 6', 'delay_loop 1');
  const file = path.join(dir, 'keepalived.conf');
  fs.writeFileSync(file, conf);
  const dr = { 'net.ipv4.conf.all.arp_ignore': '1', 'net.ipv4.conf.all.arp_announce': '2' };
  const hosts: Record<string, HostSpec> = {
    client: { links: [{ lan: 'lan', addrs: ['198.51.100.2/24'] }] },
    director: { links: [{ lan: 'lan', addrs: ['198.51.100.1/24'] }] },
    rs100: {
      links: [{ lan: 'lan', addrs: ['198.51.100.100/24'] }],
      sysctls: dr,
      ip: ['addr add 198.51.100.15/32 dev lo'],
    },
    rs200: {
      links: [{ lan: 'lan', addrs: ['198.51.100.200/24'] }],
      sysctls: dr,
      ip: ['addr add 198.51.100.15/32 dev lo'],
    },
  };
  const topo = await Topology.create({ lans: { lan: {} }, hosts });
  t.after(() => topo.destroy());
  await startHttpd(topo, ['rs100', 'rs200']);
  const socket = path.join(dir, 'lbd.sock');
  const lbd = topo.spawn('director', [
    process.execPath,
    path.join(root, 'bin', 'lbd'),
    '-f',
    file,
    '--pid-file',
    path.join(dir, 'lbd.pid'),
    '--socket',
    socket,
    '--state-file',
    path.join(dir, 'managed.json'),
  ]);
  t.after(() => lbd.kill('SIGKILL'));
  let output = '';
  lbd.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  lbd.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  await until('MASTER', async () => {
    if (lbd.exitCode !== null) throw new Error(`lbd exited ${lbd.exitCode}:\n${output}`);
    const r = (await controlRequest('vrrp', {}, { socketPath: socket })) as {
      instances: { state: string }[];
    };
    return r.instances[0]?.state === 'MASTER';
  }).catch((err: Error) => {
    throw new Error(`${err.message}; lbd printed:\n${output}`, { cause: err });
  });
  assert.match(await topo.sh('director', 'ip -4 -o addr show dev eth0'), /inet 198\.51\.100\.15\/32/);
  const table = await until('both real servers', async () => {
    const s = await topo.sh('director', 'ipvsadm -Sn');
    return s.split('\n').length === 4 && s;
  });
  assert.equal(
    table,
    '-A -t 198.51.100.15:80 -s wrr\n' +
      '-a -t 198.51.100.15:80 -r 198.51.100.100:80 -g -w 1\n' +
      '-a -t 198.51.100.15:80 -r 198.51.100.200:80 -g -w 2\n',
  );
  const results = await probe(topo, 'client', 'http://198.51.100.15/', 6);
  const counts: Record<string, number> = {};
  for (const r of results) {
    assert.equal(r.status, 200, JSON.stringify(r));
    counts[r.body as string] = (counts[r.body as string] ?? 0) + 1;
  }
  assert.deepEqual(counts, { rs100: 2, rs200: 4 }, 'wrr with weights 1 and 2');
});
