// Host tests of lbctl's ipvsadm formatters: a table observed with the real ipvsadm 1.31 in the guest
// (fixtures/explore-notes: the commands and ipvsadm's output) rebuilt as kernel entries and printed
// in every mode; ipvsadm's number abbreviations; the wrapping sort; JSON counters without loss.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  largenum,
  listAll,
  listService,
  listDaemon,
  listTimeout,
  parseConns,
  listConns,
} from '../../src/cli/ipvsadm/format';
import { FMT } from '../../src/cli/ipvsadm/parse';
import { cmpServices, glibcMergeSort } from '../../src/cli/ipvsadm/sort';
import { servicesDoc } from '../../src/cli/ipvsadm/json';
import type { KernelDestinationEntry, KernelServiceEntry, Stats } from '../../src/cli/ipvsadm/kernel';
import { formatIpv4, inetPton4, inetPton6 } from '../../src/cli/ipvsadm/resolve';

const fixture = fs.readFileSync(
  path.resolve(__dirname, '..', '..', '..', 'test', 'cli', 'fixtures', 'explore-notes', 'out.txt'),
  'latin1',
);

/** ipvsadm's output for one command of the fixture. */
function observed(cmd: string): string {
  const start = fixture.indexOf(`### ipvsadm ${cmd}\n`);
  assert.ok(start >= 0, cmd);
  const from = start + `### ipvsadm ${cmd}\n`.length;
  return fixture.slice(from, fixture.indexOf('### rc=', from));
}

const zero = (): Stats => ({
  conns: 0n,
  inPackets: 0n,
  outPackets: 0n,
  inBytes: 0n,
  outBytes: 0n,
  cps: 0n,
  inPps: 0n,
  outPps: 0n,
  inBps: 0n,
  outBps: 0n,
});

/** An address as the kernel reader gives it: big-endian 32-bit words. */
function words(a: string): number[] {
  if (!a.includes(':')) return [inetPton4(a) as number];
  const b = inetPton6(a) as Buffer;
  return [0, 4, 8, 12].map((o) => b.readUInt32BE(o));
}

function dest(
  address: string,
  port: number,
  fwd: number,
  weight: number,
  tun: [number, number, number] = [0, 0, 0],
): KernelDestinationEntry {
  return {
    address: address as never,
    port: port as never,
    forward: { method: 'route' },
    weight,
    upperThreshold: 0,
    lowerThreshold: 0,
    activeConns: 0,
    inactiveConns: 0,
    persistentConns: 0,
    stats: zero(),
    family: address.includes(':') ? 'inet6' : 'inet',
    addrWords: words(address),
    fwdNum: fwd,
    tunType: tun[0],
    tunPort: tun[1],
    tunFlags: tun[2],
  };
}

interface SvcSpec {
  proto: number;
  address?: string;
  port?: number;
  fwmark?: number;
  six?: boolean;
  sched: string;
  flags?: number;
  timeout?: number;
  netmask?: number;
  pe?: string;
  dests?: KernelDestinationEntry[];
}

function svc(s: SvcSpec): KernelServiceEntry {
  const six = s.six ?? (s.address ?? '').includes(':');
  const rawNetmask = s.netmask ?? (six ? 128 : 0xffffffff);
  const mask = Buffer.alloc(4);
  mask.writeUInt32LE(rawNetmask >>> 0);
  const flags = s.flags ?? 0;
  return {
    key:
      s.fwmark !== undefined
        ? { protocol: 'fwmark', family: six ? 'inet6' : 'inet', fwmark: s.fwmark as never }
        : {
            protocol: s.proto === 17 ? 'udp' : s.proto === 132 ? 'sctp' : 'tcp',
            address: s.address as never,
            port: s.port as never,
          },
    scheduler: s.sched,
    flags: {
      persistent: !!(flags & 1),
      onePacket: !!(flags & 4),
      sched1: !!(flags & 8),
      sched2: !!(flags & 16),
      sched3: !!(flags & 32),
    },
    hashed: true,
    timeout: s.timeout ?? 0,
    netmask: six
      ? { family: 'inet6', prefix: rawNetmask }
      : { family: 'inet', mask: formatIpv4(mask.readUInt32BE(0)) as never },
    pe: s.pe ?? null,
    stats: zero(),
    destinations: s.dests ?? [],
    rawFlags: flags | 2,
    family: six ? 'inet6' : 'inet',
    addrWords: s.address !== undefined ? words(s.address) : six ? [0, 0, 0, 0] : [0],
    fwmarkValue: s.fwmark ?? 0,
    protoNum: s.proto,
    portValue: s.port ?? 0,
    rawNetmask,
  };
}

/** The fixture's table, in the kernel's order (as ipvsadm -Ln --nosort printed it). */
const TABLE = [
  svc({
    proto: 6,
    address: '1.2.3.4',
    port: 80,
    sched: 'wrr',
    dests: [dest('10.0.0.3', 80, 3, 1), dest('10.0.0.2', 80, 3, 70000), dest('10.0.0.1', 80, 0, 3)],
  }),
  svc({
    proto: 17,
    address: '2001:db8::1',
    port: 53,
    sched: 'sh',
    flags: 1 | 8 | 16,
    timeout: 300,
    netmask: 64,
    dests: [dest('2001:db8::10', 53, 2, 1, [1, 6080, 1])],
  }),
  svc({ proto: 6, address: '1.2.3.6', port: 443, sched: 'rr', flags: 1, timeout: 360, pe: 'sip' }),
  svc({
    proto: 6,
    fwmark: 17,
    sched: 'mh',
    flags: 1 | 16,
    timeout: 60,
    netmask: 0x00ffffff,
    dests: [dest('10.0.0.9', 0, 2, 5)],
  }),
];
const INFO = { version: '1.2.1', versionCode: 0x010201, connTableSize: 4096 };

test('every listing mode prints what ipvsadm 1.31 printed for the same table', () => {
  const N = FMT.NUMERIC;
  const cases: [string, number][] = [
    ['-Ln', N],
    ['-Ln --exact', N | FMT.EXACT],
    ['-Ln --stats', N | FMT.STATS],
    ['-Ln --rate', N | FMT.RATE],
    ['-Ln --thresholds', N | FMT.THRESHOLDS],
    ['-Ln --persistent-conn', N | FMT.PERSISTENTCONN],
    ['-Ln --tun-info', N | FMT.TUN_INFO],
    ['-Ln --sort', N],
    ['-Ln --nosort', N | FMT.NOSORT],
    ['-Sn', N | FMT.RULE],
  ];
  for (const [cmd, format] of cases) assert.equal(listAll(INFO, TABLE, format), observed(cmd), cmd);
  assert.equal(listService(TABLE[0], N), observed('-Ln -t 1.2.3.4:80'));
  assert.equal(listAll(INFO, [], 0), observed('-C\n### rc=0\n### ipvsadm -Ln'));
  assert.equal(
    listTimeout({ tcp: 100, tcpFin: 20, udp: 30 }),
    observed('--set 100 20 30\n### rc=0\n### ipvsadm -L --timeout'),
  );
  assert.equal(
    listDaemon([
      {
        state: 'master',
        interface: 'lo',
        syncId: 5,
        maxLength: 1472,
        group: '224.0.0.81' as never,
        port: 8848 as never,
        ttl: 1,
      },
    ]),
    observed('--start-daemon master --mcast-interface lo --syncid 5\n### rc=0\n### ipvsadm -L --daemon'),
  );
  assert.equal(
    listConns(
      parseConns('Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n'),
      N,
    ),
    observed('-Lnc'),
  );
});

test('numbers: 9 columns, K under a billion, M under 100 billion, G under 100 trillion, then T; --exact widens', () => {
  const n = (v: bigint, f = 0) => largenum(v, f);
  assert.equal(n(0n), '        0');
  assert.equal(n(99999999n), ' 99999999');
  assert.equal(n(100000000n), '  100000K');
  assert.equal(n(999999999n), '  999999K');
  assert.equal(n(1000000000n), '    1000M');
  assert.equal(n(99999999999n), '   99999M');
  assert.equal(n(100000000000n), '     100G');
  assert.equal(n(99999999999999n), '   99999G');
  assert.equal(n(100000000000000n), '     100T');
  assert.equal(n(18446744073709551615n), '18446744T');
  assert.equal(n(12345678n, FMT.EXACT), ' 12345678');
  assert.equal(n(123456789n, FMT.EXACT), ' 123456789');
  assert.equal(n(18446744073709551615n, FMT.EXACT), ' 18446744073709551615');
});

test('stats and rates of a busy service, abbreviated and exact', () => {
  const s = svc({
    proto: 6,
    address: '10.0.0.1',
    port: 80,
    sched: 'wlc',
    dests: [dest('10.0.0.2', 80, 0, 1)],
  });
  const big: Stats = {
    conns: 123456789012n,
    inPackets: 5n,
    outPackets: 100000000n,
    inBytes: 2n ** 63n,
    outBytes: 99999999n,
    cps: 123456789n,
    inPps: 1n,
    outPps: 2n,
    inBps: 3000000000n,
    outBps: 4n,
  };
  const withStats = { ...s, stats: big, destinations: [{ ...s.destinations[0], stats: big }] };
  assert.equal(
    listService(withStats, FMT.NUMERIC | FMT.STATS),
    'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n' +
      '  -> RemoteAddress:Port\n' +
      'TCP  10.0.0.1:80                      123G        5  100000K 9223372T 99999999\n' +
      '  -> 10.0.0.2:80                      123G        5  100000K 9223372T 99999999\n',
  );
  assert.equal(
    listService(withStats, FMT.NUMERIC | FMT.RATE | FMT.EXACT),
    'Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n' +
      '  -> RemoteAddress:Port\n' +
      'TCP  10.0.0.1:80                  123456789        1        2 3000000000        4\n' +
      '  -> 10.0.0.2:80                  123456789        1        2 3000000000        4\n',
  );
});

test('services sort as ipvsadm sorts them, address differences wrapping around a C int', () => {
  const a = svc({ proto: 6, address: '1.2.3.4', port: 80, sched: 'rr' });
  const b = svc({ proto: 6, address: '200.0.0.1', port: 80, sched: 'rr' });
  const c = svc({ proto: 6, address: '100.0.0.1', port: 80, sched: 'rr' });
  const f = svc({ proto: 6, fwmark: 1, sched: 'rr' });
  const u = svc({ proto: 17, address: '1.0.0.0', port: 1, sched: 'rr' });
  // 200.0.0.1 - 1.2.3.4 overflows into a negative int: 200.0.0.1 sorts first.
  assert.equal(cmpServices(b, a) < 0, true);
  assert.deepEqual(
    glibcMergeSort([f, u, a, b], cmpServices).map((s) => s.key),
    [b.key, a.key, u.key, f.key],
  );
  assert.deepEqual(
    glibcMergeSort([a, c, b], cmpServices).map((s) => (s.key as { address: string }).address),
    ['1.2.3.4', '100.0.0.1', '200.0.0.1'],
  );
});

test('JSON: 64-bit counters as exact decimal strings', () => {
  const s = svc({ proto: 6, address: '10.0.0.1', port: 80, sched: 'wlc' });
  const doc = JSON.parse(
    servicesDoc(INFO, [{ svc: { ...s, stats: { ...zero(), inBytes: 18446744073709551615n } }, dests: [] }]),
  );
  assert.equal(doc.services[0].stats.inBytes, '18446744073709551615');
  assert.deepEqual(
    {
      protocol: doc.services[0].protocol,
      address: doc.services[0].address,
      port: doc.services[0].port,
      netmask: doc.services[0].netmask,
    },
    { protocol: 'tcp', address: '10.0.0.1', port: 80, netmask: '255.255.255.255' },
  );
  assert.equal(doc.version, '1.2.1');
});

test('/proc/net/ip_vs: real servers by service key, tunnels and ambiguous keys left to netlink', async () => {
  const { procKey, procTable } = await import('../../src/cli/ipvsadm/kernel');
  const text =
    'IP Virtual Server version 1.2.1 (size=4096)\n' +
    'Prot LocalAddress:Port Scheduler Flags\n' +
    '  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n' +
    'TCP  01020304:0050 wrr \n' +
    '  -> 0A000003:0050      Route   1      0          0         \n' +
    '  -> 0A000001:1F90      Masq    3      2          1         \n' +
    'UDP  [2001:0db8:0000:0000:0000:0000:0000:0001]:0035 sh persistent 300 00000040\n' +
    '  -> [2001:0db8:0000:0000:0000:0000:0000:0010]:0035      Tunnel  1      0          0         \n' +
    'TCP  [2001:0db8:0000:0000:0000:0000:0000:0001]:0050 rr \n' +
    '  -> [::ffff:0a00:0001]:0050      Masq    70000  0          0         \n' +
    'FWM  00000011 mh persistent 60 FFFFFF00\n' +
    '  -> 0A000009:0000      Local   5      0          0         \n' +
    'FWM  00000012 rr \n' +
    'FWM  00000012 rr \n';
  const t = procTable(text);
  assert.equal(procKey(TABLE[0]), 'TCP 01020304:0050');
  assert.equal(procKey(TABLE[1]), 'UDP [2001:0db8:0000:0000:0000:0000:0000:0001]:0035');
  assert.equal(procKey(TABLE[3]), 'FWM 00000011');
  const tcp = t.get('TCP 01020304:0050');
  assert.deepEqual(
    tcp?.map((d) => [d.address, d.port, d.fwdNum, d.weight, d.activeConns, d.inactiveConns]),
    [
      ['10.0.0.3', 80, 3, 1, 0, 0],
      ['10.0.0.1', 8080, 0, 3, 2, 1],
    ],
  );
  assert.equal(t.get('UDP [2001:0db8:0000:0000:0000:0000:0000:0001]:0035'), null);
  assert.equal(t.get('FWM 00000011')?.[0].fwdNum, 1);
  assert.equal(t.get('FWM 00000012'), null);
});
