// Our encoder against the bytes the real ipvsadm sent, and our decoder against the kernel's real replies
// (captured in the guest by test/ipvs/capture-fixtures).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  decodeDaemon,
  decodeDestination,
  decodeInfo,
  decodeService,
  decodeTimeouts,
  fwmark,
  ip,
  ipv4,
  IpvsEncoder,
  makeDestination,
  makeService,
  messages,
  MessageWriter,
  port,
  familyOf,
  serviceId,
  tableRules,
  type Operation,
  type ServiceKey,
  type VirtualServiceEntry,
  type DestinationEntry,
} from '../../src/ipvs';
import { operationError } from '../../src/ipvs/errors';
import { Cmd } from '../../src/ipvs/constants';
import { familyIdOf, ipvsReplies, ipvsRequests, readCapture } from './strace';

const tcp80: ServiceKey = { protocol: 'tcp', address: ip('10.0.0.1'), port: port(80) };
const tcp6: ServiceKey = { protocol: 'tcp', address: ip('2001:db8::1'), port: port(443) };
const udp53: ServiceKey = { protocol: 'udp', address: ip('10.0.0.1'), port: port(53) };
const fwm7: ServiceKey = { protocol: 'fwmark', family: 'inet', fwmark: fwmark(7) };
const fwm8v6: ServiceKey = { protocol: 'fwmark', family: 'inet6', fwmark: fwmark(8) };

const ops: Record<string, Operation> = {
  'svc-add-tcp4': { op: 'add-service', service: makeService(tcp80, { scheduler: 'rr' }) },
  'svc-add-udp4-persist': {
    op: 'add-service',
    service: makeService(udp53, {
      scheduler: 'wrr',
      flags: { persistent: true, onePacket: false, sched1: false, sched2: false, sched3: false },
      timeout: 300,
      netmask: { family: 'inet', mask: ipv4('255.255.255.0') },
    }),
  },
  'svc-add-sctp4': {
    op: 'add-service',
    service: makeService(
      { protocol: 'sctp', address: ip('10.0.0.1'), port: port(9999) },
      { scheduler: 'lc' },
    ),
  },
  'svc-add-fwmark4-sh': {
    op: 'add-service',
    service: makeService(fwm7, {
      scheduler: 'sh',
      flags: { persistent: false, onePacket: false, sched1: true, sched2: true, sched3: false },
    }),
  },
  'svc-add-tcp6-mh': {
    op: 'add-service',
    service: makeService(tcp6, {
      scheduler: 'mh',
      flags: { persistent: true, onePacket: false, sched1: true, sched2: true, sched3: false },
      timeout: 60,
      netmask: { family: 'inet6', prefix: 64 },
    }),
  },
  'svc-add-fwmark6': { op: 'add-service', service: makeService(fwm8v6, { scheduler: 'wlc' }) },
  'svc-add-udp4-sip': {
    op: 'add-service',
    service: makeService(
      { protocol: 'udp', address: ip('10.0.0.2'), port: port(5060) },
      {
        scheduler: 'rr',
        flags: { persistent: true, onePacket: true, sched1: false, sched2: false, sched3: false },
        timeout: 120,
        pe: 'sip',
      },
    ),
  },
  'svc-edit': { op: 'edit-service', service: makeService(tcp80, { scheduler: 'wlc' }) },
  'svc-del': { op: 'delete-service', key: udp53 },
  'dest-add-masq': {
    op: 'add-destination',
    service: tcp80,
    destination: makeDestination(ip('192.168.1.10'), port(8080), {
      forward: { method: 'masq' },
      weight: 5,
      upperThreshold: 100,
      lowerThreshold: 10,
    }),
  },
  'dest-add-route': {
    op: 'add-destination',
    service: tcp80,
    destination: makeDestination(ip('192.168.1.11'), port(80), { weight: 0 }),
  },
  'dest-add-ipip': {
    op: 'add-destination',
    service: tcp80,
    destination: makeDestination(ip('192.168.1.12'), port(80), {
      forward: { method: 'tunnel', tunnel: { type: 'ipip' } },
      weight: 2,
    }),
  },
  'dest-add-gue': {
    op: 'add-destination',
    service: tcp80,
    destination: makeDestination(ip('192.168.1.13'), port(80), {
      forward: { method: 'tunnel', tunnel: { type: 'gue', port: port(6080), checksum: 'nocsum' } },
    }),
  },
  'dest-add-gre': {
    op: 'add-destination',
    service: tcp80,
    destination: makeDestination(ip('192.168.1.14'), port(80), {
      forward: { method: 'tunnel', tunnel: { type: 'gre', checksum: 'csum' } },
    }),
  },
  'dest-add-gue-remcsum': {
    op: 'add-destination',
    service: tcp80,
    destination: makeDestination(ip('192.168.1.15'), port(80), {
      forward: { method: 'tunnel', tunnel: { type: 'gue', port: port(6081), checksum: 'remcsum' } },
    }),
  },
  'dest-add-tcp6': {
    op: 'add-destination',
    service: tcp6,
    destination: makeDestination(ip('2001:db8::10'), port(8443), { forward: { method: 'masq' }, weight: 3 }),
  },
  'dest-add-mixed': {
    op: 'add-destination',
    service: fwm7,
    destination: makeDestination(ip('2001:db8::30'), port(0), {
      forward: { method: 'tunnel', tunnel: { type: 'ipip' } },
    }),
  },
  'dest-edit': {
    op: 'edit-destination',
    service: tcp80,
    destination: makeDestination(ip('192.168.1.10'), port(8080), { forward: { method: 'masq' }, weight: 7 }),
  },
  'dest-del': { op: 'delete-destination', service: tcp80, address: ip('192.168.1.11'), port: port(80) },
  'config-set': { op: 'set-timeouts', timeouts: { tcp: 900, tcpFin: 120, udp: 300 } },
  'daemon-start-master': {
    op: 'start-daemon',
    daemon: {
      state: 'master',
      interface: 'lbdsync0',
      syncId: 5,
      maxLength: 1400,
      group: ip('224.0.0.81'),
      port: port(8848),
      ttl: 2,
    },
  },
  'daemon-start-backup': {
    op: 'start-daemon',
    daemon: { state: 'backup', interface: 'lbdsync1', syncId: 6 },
  },
  'daemon-stop-master': { op: 'stop-daemon', state: 'master' },
  'daemon-stop-backup': { op: 'stop-daemon', state: 'backup' },
  'zero-svc': { op: 'zero', service: tcp80 },
  'zero-all': { op: 'zero' },
  flush: { op: 'flush' },
};

function encoded(fam: number, f: (e: IpvsEncoder, w: MessageWriter) => void): string {
  const w = new MessageWriter();
  f(new IpvsEncoder(fam), w);
  return w.take().toString('hex');
}

for (const [name, op] of Object.entries(ops)) {
  test(`encoder: ${name} is byte-identical to ipvsadm's request`, () => {
    const cap = readCapture(name);
    const reqs = ipvsRequests(cap);
    // ipvsadm first asks GET_INFO, then sends the operation.
    const last = reqs[reqs.length - 1];
    assert.equal(
      encoded(familyIdOf(cap), (e, w) => e.operation(w, op)),
      last.toString('hex'),
      cap.command,
    );
  });
}

test('encoder: GET_INFO, GET_CONFIG and the service, destination and daemon dumps match ipvsadm', () => {
  const info = readCapture('info');
  assert.equal(
    encoded(familyIdOf(info), (e, w) => e.getInfo(w)),
    ipvsRequests(info)[0].toString('hex'),
  );
  const cfg = readCapture('config-get');
  const cfgReqs = ipvsRequests(cfg);
  assert.equal(
    encoded(familyIdOf(cfg), (e, w) => e.getTimeouts(w)),
    cfgReqs[cfgReqs.length - 1].toString('hex'),
  );
  const dm = readCapture('daemon-get');
  const dmReqs = ipvsRequests(dm);
  assert.equal(
    encoded(familyIdOf(dm), (e, w) => e.dumpDaemons(w)),
    dmReqs[dmReqs.length - 1].toString('hex'),
  );
  const save = readCapture('save');
  const reqs = ipvsRequests(save);
  const fam = familyIdOf(save);
  assert.equal(
    encoded(fam, (e, w) => e.dumpServices(w)),
    reqs[1].toString('hex'),
  );
  // Then one GET_DEST dump per service (ipvsadm sorts them first).
  const services = decodedTable(save).map((s) => s.key);
  assert.equal(reqs.length, 2 + services.length);
  const ours = new Set(services.map((key) => encoded(fam, (e, w) => e.dumpDestinations(w, key))));
  assert.deepEqual(new Set(reqs.slice(2).map((r) => r.toString('hex'))), ours);
});

/** The table ipvsadm read, decoded by us from the kernel's replies in the capture: replies are matched to
 * requests by sequence number and port id; each GET_DEST request names its service. */
function decodedTable(cap: ReturnType<typeof readCapture>): VirtualServiceEntry[] {
  const fam = familyIdOf(cap);
  const destReq = new Map<string, ServiceKey>();
  for (const { dir, bytes } of cap.io) {
    if (dir !== 'send') continue;
    for (const m of messages(bytes)) {
      if (m.type === fam && m.cmd === Cmd.GET_DEST)
        destReq.set(`${m.seq}/${m.pid}`, decodeService(bytes, m).key);
    }
  }
  const table: { svc: ReturnType<typeof decodeService>; dests: DestinationEntry[] }[] = [];
  for (const b of ipvsReplies(cap)) {
    for (const m of messages(b)) {
      if (m.type !== fam) continue;
      if (m.cmd === Cmd.NEW_SERVICE) table.push({ svc: decodeService(b, m), dests: [] });
      else if (m.cmd === Cmd.NEW_DEST) {
        const key = destReq.get(`${m.seq}/${m.pid}`);
        const t = table.find((x) => key && serviceId(x.svc.key) === serviceId(key));
        assert.ok(t, 'destination reply of an unknown service');
        t.dests.push(
          decodeDestination(
            b,
            m,
            t.svc.key.protocol === 'fwmark' ? t.svc.key.family : familyOf(t.svc.key.address),
          ),
        );
      }
    }
  }
  return table.map((t) => ({ ...t.svc, destinations: t.dests }));
}

test('decoder: the kernel dump behind `ipvsadm -Sn` decodes to exactly the rules ipvsadm printed', () => {
  const cap = readCapture('save');
  const table = decodedTable(cap);
  assert.ok(table.length >= 6);
  assert.deepEqual([...tableRules(table)].sort(), [...cap.output].sort());
  const svc = table.find((s) => s.key.protocol === 'tcp' && s.key.port === 80);
  assert.ok(svc?.hashed);
  assert.equal(svc.stats.conns, 0);
});

test('decoder: `ipvsadm -Ln --exact --stats` dump: services, real servers with counters', () => {
  const cap = readCapture('list-stats');
  const table = decodedTable(cap);
  const rows = cap.output.slice(3).map((l) => l.trim().split(/\s+/));
  const ours: string[][] = [];
  for (const s of table) {
    const k = s.key;
    const name =
      k.protocol === 'fwmark'
        ? ['FWM', String(k.fwmark), ...(k.family === 'inet6' ? ['IPv6'] : [])]
        : [
            k.protocol.toUpperCase(),
            k.address.includes(':') ? `[${k.address}]:${k.port}` : `${k.address}:${k.port}`,
          ];
    const st = s.stats;
    ours.push([...name, ...[st.conns, st.inPackets, st.outPackets, st.inBytes, st.outBytes].map(String)]);
    for (const d of s.destinations) {
      const ds = d.stats;
      const ep = d.address.includes(':') ? `[${d.address}]:${d.port}` : `${d.address}:${d.port}`;
      ours.push(['->', ep, ...[ds.conns, ds.inPackets, ds.outPackets, ds.inBytes, ds.outBytes].map(String)]);
    }
  }
  const key = (r: string[]) => r.join(' ');
  assert.deepEqual(ours.map(key).sort(), rows.map(key).sort());
});

test('decoder: GET_INFO, GET_CONFIG and GET_DAEMON replies', () => {
  const info = readCapture('info');
  const ir = ipvsReplies(info).flatMap((b) =>
    [...messages(b)].filter((m) => m.cmd === Cmd.SET_INFO).map((m) => decodeInfo(b, m)),
  );
  assert.deepEqual(ir[0], { version: '1.2.1', versionCode: 0x010201, connTableSize: 4096 });
  assert.match(info.output[0], /version 1\.2\.1 \(size=4096\)/);
  const cfg = readCapture('config-get');
  const cr = ipvsReplies(cfg).flatMap((b) =>
    [...messages(b)].filter((m) => m.cmd === Cmd.SET_CONFIG).map((m) => decodeTimeouts(b, m)),
  );
  assert.deepEqual(cr[0], { tcp: 900, tcpFin: 120, udp: 300 });
  const dm = readCapture('daemon-get');
  const daemons = ipvsReplies(dm).flatMap((b) =>
    [...messages(b)].filter((m) => m.cmd === Cmd.NEW_DAEMON).map((m) => decodeDaemon(b, m)),
  );
  assert.deepEqual(daemons, [
    {
      state: 'master',
      interface: 'lbdsync0',
      syncId: 5,
      maxLength: 1400,
      port: 8848,
      ttl: 2,
      group: '224.0.0.81',
    },
    {
      state: 'backup',
      interface: 'lbdsync1',
      syncId: 6,
      maxLength: 1472,
      port: 8848,
      ttl: 1,
      group: '224.0.0.81',
    },
  ]);
});

const errorCases: [string, Operation, string, RegExp][] = [
  [
    'err-exists',
    { op: 'add-service', service: makeService(tcp80, { scheduler: 'rr' }) },
    'EEXIST',
    /^virtual service TCP 10\.0\.0\.1:80 already exists$/,
  ],
  [
    'err-no-service',
    { op: 'delete-service', key: { protocol: 'tcp', address: ip('10.9.9.9'), port: port(80) } },
    'ESRCH',
    /^no such virtual service TCP 10\.9\.9\.9:80$/,
  ],
  [
    'err-no-sched',
    {
      op: 'add-service',
      service: makeService(
        { protocol: 'tcp', address: ip('10.0.0.3'), port: port(80) },
        { scheduler: 'foo' },
      ),
    },
    'ENOENT',
    /^scheduler 'foo' not available: kernel module ip_vs_foo missing$/,
  ],
  [
    'err-no-dest',
    { op: 'delete-destination', service: tcp80, address: ip('1.2.3.4'), port: port(80) },
    'ENOENT',
    /^no such real server 1\.2\.3\.4:80 of virtual service TCP 10\.0\.0\.1:80$/,
  ],
  [
    'err-daemon-mixed',
    { op: 'start-daemon', daemon: { state: 'master', interface: 'lbdsync0', syncId: 5 } },
    'EINVAL',
    /mixed address family/,
  ],
];

for (const [name, op, code, message] of errorCases) {
  test(`errors: ${name}: the kernel's errno becomes ${code} with an operator's message`, () => {
    const cap = readCapture(name);
    assert.notEqual(cap.exit, 0);
    const reqs = ipvsRequests(cap);
    assert.equal(
      encoded(familyIdOf(cap), (e, w) => e.operation(w, op)),
      reqs[reqs.length - 1].toString('hex'),
    );
    const err = ipvsReplies(cap).filter((b) => b.readUInt16LE(4) === 2 && b.readInt32LE(16) !== 0);
    assert.equal(err.length, 1);
    const e = operationError(op, -err[0].readInt32LE(16));
    assert.equal(e.code, code);
    assert.equal(e.operation, op.op);
    assert.match(e.message, message);
  });
}
