// The addon against the real kernel (run in the guest): every object kind and attribute round-trips both
// ways against the real ipvsadm, every error case, pipelined batches, and NAT, DR and TUN services
// programmed only through the addon carrying traffic between network namespaces.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import {
  diff,
  fwmark,
  ip,
  ipv4,
  Ipvs,
  IpvsError,
  makeDestination,
  makeService,
  port,
  tableRules,
  type Destination,
  type Operation,
  type ServiceKey,
  type VirtualService,
  type VirtualServiceEntry,
} from '../../src/ipvs';
import { run, Topology } from '../support/netns';
import { lvsLab, REAL_SERVERS as RS, VIP } from '../support/lvs-lab';
import { probe } from '../support/servers';

function ipvsadm(...args: string[]): string {
  return execFileSync('ipvsadm', args, { encoding: 'utf8' });
}
function ipvsadmIn(input: string, ...args: string[]): void {
  const r = spawnSync('ipvsadm', args, { input, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}
const sorted = (xs: readonly string[]) => [...xs].sort();
const lines = (s: string) => s.split('\n').filter(Boolean);

const F = { persistent: false, onePacket: false, sched1: false, sched2: false, sched3: false };
const tcp = (a: string, p: number): ServiceKey => ({ protocol: 'tcp', address: ip(a), port: port(p) });
const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh'];
const TUNNELS: Destination['forward'][] = [
  { method: 'tunnel', tunnel: { type: 'ipip' } },
  { method: 'tunnel', tunnel: { type: 'gue', port: port(6080), checksum: 'nocsum' } },
  { method: 'tunnel', tunnel: { type: 'gue', port: port(6081), checksum: 'csum' } },
  { method: 'tunnel', tunnel: { type: 'gue', port: port(6082), checksum: 'remcsum' } },
  { method: 'tunnel', tunnel: { type: 'gre', checksum: 'nocsum' } },
  { method: 'tunnel', tunnel: { type: 'gre', checksum: 'csum' } },
];

/** A table with every kind of service and real server the kernel takes. */
function everything(): VirtualService[] {
  const t: VirtualService[] = [];
  SCHEDULERS.forEach((s, i) => {
    const flagged = s === 'sh' || s === 'mh';
    t.push({
      ...makeService(tcp(`10.1.0.${i + 1}`, 80), {
        scheduler: s,
        flags: { ...F, sched1: flagged, sched2: flagged },
      }),
      destinations: [
        makeDestination(ip('192.168.1.10'), port(8080), {
          forward: { method: 'masq' },
          weight: 5,
          upperThreshold: 100,
          lowerThreshold: 10,
        }),
        makeDestination(ip('192.168.1.11'), port(80), { weight: 0 }),
        ...TUNNELS.map((forward, k) =>
          makeDestination(ip(`192.168.1.${20 + k}`), port(80), { forward, weight: k + 1 }),
        ),
      ],
    });
  });
  t.push({
    ...makeService(
      { protocol: 'udp', address: ip('10.1.1.1'), port: port(53) },
      {
        scheduler: 'wrr',
        flags: { ...F, persistent: true },
        timeout: 300,
        netmask: { family: 'inet', mask: ipv4('255.255.255.0') },
      },
    ),
    destinations: [makeDestination(ip('192.168.2.1'), port(53), { forward: { method: 'masq' } })],
  });
  t.push({
    ...makeService({ protocol: 'sctp', address: ip('10.1.1.2'), port: port(9999) }, { scheduler: 'lc' }),
    destinations: [makeDestination(ip('192.168.2.2'), port(9999))],
  });
  t.push({
    ...makeService(
      { protocol: 'fwmark', family: 'inet', fwmark: fwmark(7) },
      { scheduler: 'sh', flags: { ...F, sched1: true } },
    ),
    destinations: [makeDestination(ip('192.168.2.3'), port(0))],
  });
  t.push({
    ...makeService(
      { protocol: 'fwmark', family: 'inet6', fwmark: fwmark(8) },
      { scheduler: 'wlc', flags: { ...F, persistent: true }, timeout: 30 },
    ),
    destinations: [makeDestination(ip('2001:db8::8'), port(0))],
  });
  t.push({
    ...makeService(tcp('2001:db8::1', 443), {
      scheduler: 'mh',
      flags: { ...F, persistent: true, sched2: true },
      timeout: 60,
      netmask: { family: 'inet6', prefix: 64 },
    }),
    destinations: [
      makeDestination(ip('2001:db8::10'), port(8443), { forward: { method: 'masq' }, weight: 3 }),
      makeDestination(ip('2001:db8::11'), port(443), {
        forward: { method: 'tunnel', tunnel: { type: 'gre', checksum: 'csum' } },
      }),
    ],
  });
  t.push({
    ...makeService(
      { protocol: 'udp', address: ip('10.1.1.3'), port: port(5060) },
      { scheduler: 'rr', flags: { ...F, persistent: true, onePacket: true }, timeout: 120, pe: 'sip' },
    ),
    destinations: [makeDestination(ip('192.168.2.4'), port(5060), { forward: { method: 'masq' } })],
  });
  return t;
}

/** Services with real servers of the other family (tunnel only): kept apart, they block the sync daemon. */
function mixed(): VirtualService[] {
  return [
    {
      ...makeService(tcp('10.1.2.1', 80), { scheduler: 'rr' }),
      destinations: [
        makeDestination(ip('2001:db8::30'), port(80), {
          forward: { method: 'tunnel', tunnel: { type: 'ipip' } },
        }),
      ],
    },
  ];
}

function assertAllOk(results: { ok: boolean; error?: IpvsError }[]): void {
  const bad = results.filter((r) => !r.ok).map((r) => r.error?.message);
  assert.deepEqual(bad, []);
}

describe('IPVS through the addon, against the real kernel and ipvsadm', () => {
  let ipvs: Ipvs;
  before(async () => {
    ipvs = await Ipvs.open();
  });
  after(() => ipvs.close());

  test('info: version and connection table size as ipvsadm shows them', async () => {
    const info = await ipvs.info();
    const head = ipvsadm('-Ln').split('\n')[0];
    assert.equal(head, `IP Virtual Server version ${info.version} (size=${info.connTableSize})`);
  });

  test('addon writes every kind of service and real server; ipvsadm -Sn reads the same rules', async () => {
    await ipvs.flush();
    const want = [...everything(), ...mixed()];
    const ops = diff([], want);
    assertAllOk(await ipvs.apply(ops));
    assert.deepEqual(sorted(lines(ipvsadm('-Sn'))), sorted(tableRules(want)));
    // -S does not show thresholds: -L --thresholds does (upper 100, lower 10 on 192.168.1.10:8080).
    const thr = lines(ipvsadm('-Ln', '--thresholds', '-t', '10.1.0.1:80')).find((l) =>
      l.includes('192.168.1.10:8080'),
    );
    assert.ok(thr);
    const tf = thr.trim().split(/\s+/);
    assert.ok(tf.indexOf('100') > 0 && tf.indexOf('10', tf.indexOf('100')) > 0, thr);
    // And the addon reads back exactly what it wrote: nothing to change.
    const table: VirtualServiceEntry[] = await ipvs.table();
    assert.equal(table.length, want.length);
    assert.deepEqual(diff(table, want), []);
  });

  test('ipvsadm -R writes every kind; the addon reads the same table', async () => {
    await ipvs.flush();
    const want = [...everything(), ...mixed()];
    // ipvsadm -R refuses a real server of the other family (it checks before reading -i): add that one
    // with -i first on the command line.
    const rules = tableRules(want, { thresholds: true });
    ipvsadmIn(rules.filter((l) => !l.includes('2001:db8::30')).join('\n') + '\n', '-R');
    ipvsadm('-a', '-t', '10.1.2.1:80', '-i', '-r', '[2001:db8::30]:80', '-w', '1');
    const table = await ipvs.table();
    assert.deepEqual(sorted(tableRules(table, { thresholds: true })), sorted(rules));
    assert.deepEqual(diff(table, want), []);
    const one = await ipvs.service(tcp('2001:db8::1', 443));
    assert.equal(one?.scheduler, 'mh');
    assert.equal(one?.netmask.family === 'inet6' && one.netmask.prefix, 64);
    assert.equal(await ipvs.service(tcp('10.9.9.9', 1)), null);
    const dests = await ipvs.destinations(tcp('10.1.0.1', 80));
    assert.equal(dests.length, 2 + TUNNELS.length);
  });

  test('diff edits in place: scheduler, flags, weights, thresholds, tunnels; removes and adds', async () => {
    const before = await ipvs.table();
    const want = [...everything(), ...mixed()].map((s) => {
      if (s.key.protocol === 'tcp' && s.key.address === '10.1.0.1') {
        return {
          ...s,
          scheduler: 'wlc',
          flags: { ...F, persistent: true },
          timeout: 600,
          destinations: [
            ...s.destinations
              .slice(0, 1)
              .map((d) => ({ ...d, weight: 9, upperThreshold: 0, lowerThreshold: 0 })),
            ...s.destinations.slice(2).map((d) => ({
              ...d,
              forward: {
                method: 'tunnel' as const,
                tunnel: { type: 'gre' as const, checksum: 'nocsum' as const },
              },
            })),
            makeDestination(ip('192.168.1.99'), port(80)),
          ],
        };
      }
      return s;
    });
    want.splice(
      want.findIndex((s) => s.key.protocol === 'sctp'),
      1,
    );
    const ops = diff(before, want);
    const kinds = ops.map((o) => o.op);
    assert.deepEqual(sorted([...new Set(kinds)]), [
      'add-destination',
      'delete-destination',
      'delete-service',
      'edit-destination',
      'edit-service',
    ]);
    assert.equal(kinds.filter((k) => k === 'edit-service').length, 1);
    assert.equal(kinds.filter((k) => k === 'delete-service').length, 1);
    assert.equal(kinds.filter((k) => k === 'delete-destination').length, 1);
    assert.equal(kinds.filter((k) => k === 'add-destination').length, 1);
    assertAllOk(await ipvs.apply(ops));
    assert.deepEqual(sorted(lines(ipvsadm('-Sn'))), sorted(tableRules(want)));
    assert.deepEqual(diff(await ipvs.table(), want), []);
  });

  test('a batch larger than many windows: 3,000 operations, one result each', async () => {
    await ipvs.flush();
    const want: VirtualService[] = [];
    for (let i = 0; i < 1000; i++) {
      want.push({
        ...makeService(tcp(`10.2.${i >> 8}.${i & 255}`, 80), { scheduler: 'rr' }),
        destinations: [
          makeDestination(ip('192.168.3.1'), port(80)),
          makeDestination(ip('192.168.3.2'), port(80)),
        ],
      });
    }
    const results = await ipvs.apply(diff([], want), { window: 37, chunk: 500 });
    assert.equal(results.length, 3000);
    assertAllOk(results);
    const table = await ipvs.table();
    assert.equal(table.length, 1000);
    assert.deepEqual(diff(table, want), []);
    // In the kernel's order; in chunks of 64 services (their real server dumps alternate between two
    // sockets, two chunks at a time), the same table.
    assert.deepEqual(
      table.map((s) => s.key),
      (await ipvs.services()).map((s) => s.key),
    );
    assert.deepEqual(await ipvs.table(64), table);
    // A process without a free descriptor for the second socket: the same table over the first alone.
    const index = path.resolve(__dirname, '..', '..', 'src', 'ipvs', 'index.js');
    const script = `
      const fs = require('node:fs');
      require(${JSON.stringify(index)}).Ipvs.open().then(async (i) => {
        const held = [];
        for (;;) {
          try { held.push(fs.openSync('/dev/null', 'r')); } catch (e) { if (e.code !== 'EMFILE') throw e; break; }
        }
        const t = await i.table(64);
        console.log(JSON.stringify({ held: held.length, keys: t.map((s) => s.key), dests: t.map((s) => s.destinations.length) }));
      });`;
    const r = spawnSync('sh', ['-c', 'ulimit -n 256 && exec "$0" -e "$1"', process.execPath, script], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const lean = JSON.parse(r.stdout) as { held: number; keys: unknown[]; dests: number[] };
    assert.ok(lean.held > 0);
    assert.deepEqual(
      lean.keys,
      table.map((s) => s.key),
    );
    assert.deepEqual(
      lean.dests,
      table.map(() => 2),
    );
    assert.equal(lines(ipvsadm('-Sn')).length, 3000);
    await ipvs.flush();
    assert.deepEqual(await ipvs.services(), []);
  });

  test('timeouts: set by the addon, read by ipvsadm; set by ipvsadm, read by the addon', async () => {
    await ipvs.setTimeouts({ tcp: 901, tcpFin: 121, udp: 301 });
    assert.match(ipvsadm('-L', '--timeout'), /Timeout \(tcp tcpfin udp\): 901 121 301/);
    ipvsadm('--set', '700', '100', '200');
    assert.deepEqual(await ipvs.timeouts(), { tcp: 700, tcpFin: 100, udp: 200 });
    // 0 leaves a timeout unchanged.
    await ipvs.setTimeouts({ tcp: 0, tcpFin: 0, udp: 250 });
    assert.deepEqual(await ipvs.timeouts(), { tcp: 700, tcpFin: 100, udp: 250 });
    await ipvs.setTimeouts({ tcp: 900, tcpFin: 120, udp: 300 });
  });

  test('sync daemons: started and stopped by the addon and by ipvsadm, read both ways', async () => {
    await ipvs.flush();
    await run('ip', ['link', 'add', 'lbdsync0', 'type', 'veth', 'peer', 'name', 'lbdsync1']);
    await run('ip', ['link', 'set', 'lbdsync0', 'up']);
    await run('ip', ['link', 'set', 'lbdsync1', 'up']);
    try {
      await ipvs.startDaemon({
        state: 'master',
        interface: 'lbdsync0',
        syncId: 5,
        maxLength: 1400,
        group: ip('224.0.0.81'),
        port: port(8848),
        ttl: 2,
      });
      await ipvs.startDaemon({
        state: 'backup',
        interface: 'lbdsync1',
        syncId: 6,
        group: ip('ff02::81'),
        port: port(8849),
      });
      const shown = ipvsadm('-L', '--daemon');
      assert.match(
        shown,
        /master sync daemon \(mcast=lbdsync0, syncid=5, maxlen=1400, group=224\.0\.0\.81, port=8848, ttl=2\)/,
      );
      assert.match(
        shown,
        /backup sync daemon \(mcast=lbdsync1, syncid=6, maxlen=\d+, group=ff02::81, port=8849, ttl=1\)/,
      );
      const ds = await ipvs.daemons();
      assert.deepEqual(
        ds.find((d) => d.state === 'master'),
        {
          state: 'master',
          interface: 'lbdsync0',
          syncId: 5,
          maxLength: 1400,
          group: '224.0.0.81',
          port: 8848,
          ttl: 2,
        },
      );
      assert.equal(ds.find((d) => d.state === 'backup')?.group, 'ff02::81');
      await assert.rejects(
        ipvs.startDaemon({ state: 'master', interface: 'lbdsync0', syncId: 5 }),
        (e: IpvsError) => {
          assert.match(e.message, /master sync daemon already running/);
          return true;
        },
      );
      await ipvs.stopDaemon('master');
      await ipvs.stopDaemon('backup');
      assert.deepEqual(await ipvs.daemons(), []);
      assert.equal(ipvsadm('-L', '--daemon').trim(), '');
      ipvsadm('--start-daemon', 'backup', '--mcast-interface', 'lbdsync1', '--syncid', '9');
      assert.deepEqual(
        (await ipvs.daemons()).map((d) => [d.state, d.interface, d.syncId]),
        [['backup', 'lbdsync1', 9]],
      );
      ipvsadm('--stop-daemon', 'backup');
      await assert.rejects(ipvs.stopDaemon('backup'), (e: IpvsError) => {
        assert.equal(e.code, 'ESRCH');
        assert.match(e.message, /^no backup sync daemon is running$/);
        return true;
      });
      // Real servers of the other family exclude connection sync.
      assertAllOk(await ipvs.apply(diff([], mixed())));
      await assert.rejects(
        ipvs.startDaemon({ state: 'master', interface: 'lbdsync0', syncId: 1 }),
        (e: IpvsError) => {
          assert.equal(e.code, 'EINVAL');
          assert.match(e.message, /mixed address family/);
          return true;
        },
      );
    } finally {
      await run('ip', ['link', 'del', 'lbdsync0']);
      await ipvs.flush();
    }
  });

  test('every error case: typed error with errno, operation, object and an operator message', async () => {
    await ipvs.flush();
    const key = tcp('10.3.0.1', 80);
    await ipvs.addService(makeService(key, { scheduler: 'rr' }));
    const d = makeDestination(ip('192.168.4.1'), port(80));
    await ipvs.addDestination(key, d);
    const cases: [Promise<void>, string, RegExp][] = [
      [
        ipvs.addService(makeService(key, { scheduler: 'rr' })),
        'EEXIST',
        /^virtual service TCP 10\.3\.0\.1:80 already exists$/,
      ],
      [ipvs.deleteService(tcp('10.3.0.2', 80)), 'ESRCH', /^no such virtual service TCP 10\.3\.0\.2:80$/],
      [
        ipvs.editService(makeService(tcp('10.3.0.2', 80))),
        'ESRCH',
        /^no such virtual service TCP 10\.3\.0\.2:80$/,
      ],
      [
        ipvs.addService(makeService(tcp('10.3.0.3', 80), { scheduler: 'foo' })),
        'ENOENT',
        /^scheduler 'foo' not available: kernel module ip_vs_foo missing$/,
      ],
      [
        ipvs.addService(
          makeService(tcp('10.3.0.3', 80), {
            scheduler: 'rr',
            flags: { ...F, persistent: true },
            timeout: 60,
            pe: 'nope',
          }),
        ),
        'ENOENT',
        /persistence engine 'nope' not available/,
      ],
      [
        ipvs.addDestination(key, d),
        'EEXIST',
        /^real server 192\.168\.4\.1:80 of virtual service TCP 10\.3\.0\.1:80 already exists$/,
      ],
      [ipvs.addDestination(tcp('10.3.0.2', 80), d), 'ESRCH', /^no such virtual service TCP 10\.3\.0\.2:80$/],
      [
        ipvs.deleteDestination(key, ip('192.168.4.2'), port(80)),
        'ENOENT',
        /^no such real server 192\.168\.4\.2:80 of virtual service TCP 10\.3\.0\.1:80$/,
      ],
      [
        ipvs.editDestination(key, makeDestination(ip('192.168.4.2'), port(80))),
        'ENOENT',
        /^no such real server/,
      ],
      [
        ipvs.addDestination(
          key,
          makeDestination(ip('192.168.4.3'), port(80), { upperThreshold: 5, lowerThreshold: 10 }),
        ),
        'ERANGE',
        /lower threshold/,
      ],
      [
        ipvs.addDestination(
          key,
          makeDestination(ip('2001:db8::5'), port(80), { forward: { method: 'masq' } }),
        ),
        'EINVAL',
        /mixed address families need the tunnel method/,
      ],
      [
        ipvs.addDestination(
          key,
          makeDestination(ip('192.168.4.4'), port(80), {
            forward: { method: 'tunnel', tunnel: { type: 'gue', port: port(0), checksum: 'nocsum' } },
          }),
        ),
        'EINVAL',
        /GUE tunnel needs a port/,
      ],
      [ipvs.zero(tcp('10.3.0.2', 80)), 'ESRCH', /^no such virtual service TCP 10\.3\.0\.2:80$/],
    ];
    for (const [p, code, msg] of cases) {
      await assert.rejects(p, (e: unknown) => {
        assert.ok(e instanceof IpvsError, String(e));
        assert.equal(e.code, code, e.message);
        assert.match(e.message, msg);
        assert.ok(e.operation && e.object);
        return true;
      });
    }
    // twos exists from Linux 6.2 on: either it works or its absence is reported as such.
    const twos = await ipvs.apply([
      { op: 'add-service', service: makeService(tcp('10.3.0.9', 80), { scheduler: 'twos' }) },
    ]);
    if (!twos[0].ok)
      assert.match(
        twos[0].error.message,
        /^scheduler 'twos' not available: kernel module ip_vs_twos missing$/,
      );
    await ipvs.flush();
  });

  test('a batch with failures in the middle: one result per operation, later ones still applied', async () => {
    await ipvs.flush();
    const a = tcp('10.4.0.1', 80);
    const b = tcp('10.4.0.2', 80);
    const ops: Operation[] = [
      { op: 'add-service', service: makeService(a, { scheduler: 'rr' }) },
      { op: 'add-service', service: makeService(a, { scheduler: 'rr' }) },
      { op: 'add-destination', service: b, destination: makeDestination(ip('192.168.5.1'), port(80)) },
      { op: 'add-destination', service: a, destination: makeDestination(ip('192.168.5.1'), port(80)) },
      { op: 'delete-destination', service: a, address: ip('192.168.5.9'), port: port(80) },
      { op: 'add-service', service: makeService(b, { scheduler: 'nosuch' }) },
      { op: 'add-service', service: makeService(b, { scheduler: 'wlc' }) },
    ];
    const r = await ipvs.apply(ops, { window: 3 });
    assert.deepEqual(
      r.map((x) => (x.ok ? 'ok' : x.error.code)),
      ['ok', 'EEXIST', 'ESRCH', 'ok', 'ENOENT', 'ENOENT', 'ok'],
    );
    assert.deepEqual(
      sorted(lines(ipvsadm('-Sn'))),
      sorted([
        '-A -t 10.4.0.1:80 -s rr',
        '-a -t 10.4.0.1:80 -r 192.168.5.1:80 -g -w 1',
        '-A -t 10.4.0.2:80 -s wlc',
      ]),
    );
    await ipvs.flush();
  });

  test('without CAP_NET_ADMIN: EPERM, "needs root or CAP_NET_ADMIN"', () => {
    const index = path.resolve(__dirname, '..', '..', 'src', 'ipvs', 'index.js');
    const script = `
      const { Ipvs, makeService, ip, port } = require(${JSON.stringify(index)});
      Ipvs.open().then((i) => i.addService(makeService({ protocol: 'tcp', address: ip('10.5.0.1'), port: port(80) })))
        .then(() => console.log('no error'), (e) => console.log(JSON.stringify({ code: e.code, message: e.message })));`;
    const r = spawnSync(process.execPath, ['-e', script], { uid: 65534, gid: 65534, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { code: string; message: string };
    assert.equal(out.code, 'EPERM');
    assert.match(out.message, /needs root or CAP_NET_ADMIN/);
  });
});

// ---- traffic: NAT, DR and TUN services programmed only through the addon ----

async function directorIpvs(topo: Topology): Promise<Ipvs> {
  const name = (await topo.sh('director', 'ip netns identify')).trim();
  assert.ok(name, 'director namespace name');
  return Ipvs.open({ netns: `/run/netns/${name}` });
}

/** Programs VIP:80 rr over the real servers with `forward`, sends 6 requests, returns who answered. */
async function serveThroughAddon(
  topo: Topology,
  addrOf: Record<string, string>,
  forward: Destination['forward'],
) {
  const ipvs = await directorIpvs(topo);
  try {
    const key = tcp(VIP, 80);
    const want: VirtualService[] = [
      {
        ...makeService(key, { scheduler: 'rr' }),
        destinations: RS.map((rs) => makeDestination(ip(addrOf[rs]), port(80), { forward })),
      },
    ];
    assertAllOk(await ipvs.apply(diff(await ipvs.table(), want)));
    // ipvsadm in the director's namespace sees what the addon programmed.
    assert.deepEqual(sorted(lines(await topo.sh('director', 'ipvsadm -Sn'))), sorted(tableRules(want)));
    const results = await probe(topo, 'client', `http://${VIP}/`, 6);
    for (const r of results) assert.equal(r.status, 200, JSON.stringify(r));
    const served = results.map((r) => r.body?.trim());
    assert.deepEqual(sorted(served.slice(0, 3) as string[]), RS, 'round robin over the three real servers');
    // Counters: the addon and ipvsadm --exact --stats agree (connections, packets, bytes), once the
    // kernel's estimator (every 2 s) has folded the per-cpu counters.
    await new Promise((r) => setTimeout(r, 2500));
    const [svc] = await ipvs.table();
    const st = (await topo.sh('director', `ipvsadm -Ln --exact --stats -t ${VIP}:80`))
      .split('\n')
      .find((l) => l.startsWith('TCP'));
    assert.ok(st);
    const f = st.trim().split(/\s+/);
    assert.deepEqual(
      f.slice(2, 7),
      [svc.stats.conns, svc.stats.inPackets, svc.stats.outPackets, svc.stats.inBytes, svc.stats.outBytes].map(
        String,
      ),
    );
    assert.equal(svc.stats.conns, 6);
    assert.equal(
      svc.destinations.reduce((n, d) => n + d.stats.conns, 0),
      6,
    );
    // Zeroing the service clears its counters for both readers.
    await ipvs.zero(key);
    const [z] = await ipvs.table();
    assert.equal(z.stats.conns, 0);
    assert.match(
      await topo.sh('director', `ipvsadm -Ln --exact --stats -t ${VIP}:80`),
      /TCP\s+\S+\s+0\s+0\s+0\s+0\s+0/,
    );
    return svc;
  } finally {
    ipvs.close();
  }
}

describe('NAT, DR and TUN services programmed only through the addon carry traffic', () => {
  test('NAT', async (t) => {
    const { topo, addrOf } = await lvsLab('nat');
    t.after(() => topo.destroy());
    const svc = await serveThroughAddon(topo, addrOf, { method: 'masq' });
    assert.ok(svc.stats.outPackets > 0, 'NAT replies pass the director');
  });

  test('DR', async (t) => {
    const { topo, addrOf } = await lvsLab('dr');
    t.after(() => topo.destroy());
    const svc = await serveThroughAddon(topo, addrOf, { method: 'route' });
    assert.ok(svc.stats.inPackets > 0);
    assert.equal(svc.stats.outPackets, 0, 'DR replies bypass the director');
  });

  test('TUN (ipip)', async (t) => {
    const { topo, addrOf } = await lvsLab('tun');
    t.after(() => topo.destroy());
    const svc = await serveThroughAddon(topo, addrOf, { method: 'tunnel', tunnel: { type: 'ipip' } });
    assert.ok(svc.stats.inPackets > 0);
    assert.equal(svc.stats.outPackets, 0, 'TUN replies bypass the director');
  });
});
