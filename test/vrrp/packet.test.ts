import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  AuthType,
  decodeAdvert,
  encodeAdvert,
  ipv4Header,
  parseEthernet,
  parseIp,
} from '../../src/vrrp/packet';
import { VrrpReceiver, ReceiveSpec, Arrival } from '../../src/vrrp/receive';
import { inetChecksum } from '../../src/vrrp/checksum';
import { bytesToIp, ipToBytes } from '../../src/net/ip';

const refDir = process.env.LBD_REFERENCE_DIR ?? '/work/shared/reference';
function frame(name: string): Buffer {
  return Buffer.from(fs.readFileSync(path.join(refDir, name), 'utf8').trim(), 'hex');
}

function ipOf(name: string) {
  const eth = parseEthernet(frame(name));
  const ip = parseIp(eth.ip);
  assert.notEqual(typeof ip, 'string');
  if (typeof ip === 'string') throw new Error(ip);
  return { eth, ip };
}

const v4cases = [
  {
    file: 'keepalived-vrrpv2-advert.hex',
    advert: {
      version: 2,
      vrid: 51,
      priority: 150,
      intervalCs: 100,
      addresses: ['192.168.77.100'],
      authType: 0,
    },
  },
  {
    file: 'keepalived-vrrpv2-advert-prio0.hex',
    advert: {
      version: 2,
      vrid: 51,
      priority: 0,
      intervalCs: 100,
      addresses: ['192.168.77.100'],
      authType: 0,
    },
  },
  {
    file: 'keepalived-v2pass.hex',
    advert: {
      version: 2,
      vrid: 52,
      priority: 150,
      intervalCs: 100,
      addresses: ['192.168.78.100'],
      authType: 1,
      authPass: 's3cret',
    },
  },
  {
    file: 'keepalived-v3ipv4.hex',
    advert: {
      version: 3,
      vrid: 52,
      priority: 150,
      intervalCs: 100,
      addresses: ['192.168.78.100'],
      authType: 0,
    },
  },
] as const;

for (const c of v4cases) {
  test(`${c.file} decodes`, () => {
    const { ip } = ipOf(c.file);
    assert.equal(ip.ttl, 255);
    assert.equal(ip.protocol, 112);
    assert.equal(ip.dst, '224.0.0.18');
    const d = decodeAdvert(ip.payload, 4, ip.src, ip.dst);
    assert.ok(d.ok, JSON.stringify(d));
    assert.deepEqual(d.advert, c.advert);
  });

  test(`lbd's frame for ${c.file} is byte-identical (same addresses and identification)`, () => {
    const f = frame(c.file);
    const { eth, ip } = ipOf(c.file);
    const vrrp = encodeAdvert({ ...c.advert, addresses: [...c.advert.addresses] }, ip.src, ip.dst);
    const hdr = ipv4Header(ip.src, ip.dst, vrrp.length, eth.ip.readUInt16BE(4));
    const ours = Buffer.concat([f.subarray(0, 14), hdr, vrrp]);
    assert.equal(ours.toString('hex'), f.toString('hex'));
  });
}

test('keepalived-v3ipv6.hex decodes and lbd encodes the same VRRP message', () => {
  const { eth, ip } = ipOf('keepalived-v3ipv6.hex');
  assert.equal(eth.ethertype, 0x86dd);
  assert.equal(ip.family, 6);
  assert.equal(ip.ttl, 255);
  assert.equal(ip.protocol, 112);
  assert.equal(ip.dst, 'ff02::12');
  assert.equal(ip.src, 'fe80::80f2:fff:fe38:cf7e');
  // Traffic class 0xc0, as lbd sets with IPV6_TCLASS.
  assert.equal(((eth.ip.readUInt32BE(0) >>> 20) & 0xff).toString(16), 'c0');
  const d = decodeAdvert(ip.payload, 6, ip.src, ip.dst);
  assert.ok(d.ok, JSON.stringify(d));
  const want = {
    version: 3,
    vrid: 52,
    priority: 150,
    intervalCs: 100,
    addresses: ['fd00:78::100'],
    authType: 0,
  };
  assert.deepEqual(d.advert, want);
  const ours = encodeAdvert({ ...want, version: 3 }, ip.src, ip.dst);
  assert.equal(ours.toString('hex'), ip.payload.toString('hex'));
});

test('AH authentication is refused when encoding', () => {
  assert.throws(
    () =>
      encodeAdvert(
        {
          version: 2,
          vrid: 1,
          priority: 100,
          intervalCs: 100,
          addresses: ['10.0.0.1'],
          authType: AuthType.Ah,
        },
        '10.0.0.2',
        '224.0.0.18',
      ),
    /AH/,
  );
});

test('v3 intervals are centiseconds, up to 4095', () => {
  const a = {
    version: 3,
    vrid: 9,
    priority: 100,
    intervalCs: 7,
    addresses: ['fd00::1', 'fd00::2'],
    authType: 0,
  } as const;
  const b = encodeAdvert({ ...a, addresses: [...a.addresses] }, 'fe80::1', 'ff02::12');
  assert.equal(b.readUInt16BE(4), 7);
  const d = decodeAdvert(b, 6, 'fe80::1', 'ff02::12');
  assert.ok(d.ok);
  assert.deepEqual(d.advert.addresses, ['fd00::1', 'fd00::2']);
  // The pseudo-header is part of the checksum: another source fails.
  const e = decodeAdvert(b, 6, 'fe80::2', 'ff02::12');
  assert.deepEqual(e, { ok: false, reason: 'bad_checksum' });
});

test('address helpers round-trip', () => {
  for (const a of [
    'fe80::80f2:fff:fe38:cf7e',
    'ff02::12',
    '::',
    '::1',
    'fd00:78::100',
    '1:2:3:4:5:6:7:8',
    '10.1.2.3',
  ]) {
    assert.equal(bytesToIp(ipToBytes(a)), a);
  }
  assert.equal(bytesToIp(ipToBytes('fd00:0:0:1:0:0:0:1')), 'fd00:0:0:1::1');
  assert.equal(inetChecksum(Buffer.from('45000073000040004011b861c0a80001c0a800c7', 'hex')), 0);
});

// Receive checks: each drop reason reached, counted, and a good packet accepted.
const spec: ReceiveSpec = {
  vrid: 51,
  version: 2,
  family: 4,
  intervalCs: 100,
  addresses: ['192.168.77.100'],
  authType: AuthType.Pass,
  authPass: 'pw',
};
function v4packet(
  over: Partial<Parameters<typeof encodeAdvert>[0]> = {},
  ttl = 255,
  mutate?: (b: Buffer) => void,
) {
  const adv = { ...spec, priority: 100, ...over };
  const vrrp = encodeAdvert(adv, '192.168.77.2', '224.0.0.18');
  mutate?.(vrrp);
  const hdr = ipv4Header('192.168.77.2', '224.0.0.18', vrrp.length);
  hdr[8] = ttl;
  hdr.writeUInt16BE(0, 10);
  hdr.writeUInt16BE(inetChecksum(hdr), 10);
  const data = Buffer.concat([hdr, vrrp]);
  return { data, family: 4, src: '192.168.77.2', dst: '224.0.0.18', ttl, ifindex: 5 } as Arrival;
}

test('receiver: every check drops with its own counter', () => {
  const r = new VrrpReceiver(
    () => 5,
    () => ['192.168.77.1'],
  );
  r.add(spec);
  const cases: [Arrival, string][] = [
    [v4packet({}, 254), 'bad_ttl'],
    [{ ...v4packet(), ifindex: 6 }, 'wrong_interface'],
    [v4packet({}, 255, (b) => (b[6] ^= 1)), 'bad_checksum'],
    [v4packet({ vrid: 52 }), 'unknown_vrid'],
    [v4packet({ authType: AuthType.None }), 'auth_type_mismatch'],
    [v4packet({ authPass: 'wrong' }), 'auth_failure'],
    [v4packet({ intervalCs: 200 }), 'interval_mismatch'],
    [v4packet({ addresses: ['192.168.77.101'] }), 'address_mismatch'],
    [v4packet({ version: 3 }), 'bad_version'],
    [{ ...v4packet(), data: v4packet().data.subarray(0, 25) }, 'truncated'],
    [{ ...v4packet(), data: v4packet().data.subarray(0, 19) }, 'truncated'],
    [
      { ...v4packet(), src: '192.168.77.1', data: Buffer.from(v4packet().data).fill(0, 0, 1) },
      'bad_ip_header',
    ],
  ];
  for (const [p, reason] of cases) {
    const before = r.counters.counts.get(reason as never);
    assert.equal(r.receive(p), null, reason);
    assert.equal(r.counters.counts.get(reason as never), (before ?? 0) + 1, reason);
  }
  const ok = r.receive(v4packet());
  assert.ok(ok);
  assert.equal(ok.advert.priority, 100);
  assert.equal(r.counters.accepted, 1);
  assert.equal(r.counters.dropped, cases.length);
  // Owner priority 255 with other addresses is accepted (RFC 3768).
  assert.ok(r.receive(v4packet({ priority: 255, addresses: ['192.168.77.101'] })));
});
