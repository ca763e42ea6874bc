import { test, after, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { Topology } from '../support/netns';
import { NLA_F_NESTED, attr, decodeNlError, encodeAddressMessage, nested } from '../../src/net/rtnetlink';

test('attributes keep NLA_F_NESTED and are 4-byte aligned', () => {
  const a = attr(3, Buffer.from('ab'));
  assert.equal(a.length, 8);
  assert.equal(a.readUInt16LE(0), 6);
  const n = nested(5, [a, attr(1, Buffer.alloc(4))]);
  assert.equal(n.readUInt16LE(2), 5 | NLA_F_NESTED);
  assert.equal(n.readUInt16LE(0), 4 + 8 + 8);
});

test('NLMSG_ERROR decodes into errno and code; 0 is an ACK', () => {
  const b = Buffer.alloc(20);
  b.writeInt32LE(-17, 0);
  const e = decodeNlError(b, 'add');
  assert.equal(e?.errno, 17);
  assert.equal(e?.code, 'EEXIST');
  assert.match(String(e?.message), /add: EEXIST/);
  assert.equal(decodeNlError(Buffer.alloc(20), 'x'), null);
});

test('address messages: family, prefix, scope, label, nodad for IPv6', () => {
  const m4 = encodeAddressMessage({
    ifindex: 7,
    address: '192.0.2.1',
    prefix: 24,
    label: 'eth0:1',
    scope: 'host',
  });
  assert.deepEqual([m4[0], m4[1], m4[2], m4[3], m4.readUInt32LE(4)], [2, 24, 0, 254, 7]);
  assert.ok(m4.includes(Buffer.from('eth0:1\0')));
  const m6 = encodeAddressMessage({ ifindex: 7, address: '2001:db8::1', prefix: 64 });
  assert.deepEqual([m6[0], m6[1], m6[2], m6[3]], [10, 64, 2, 0]);
  assert.throws(
    () => encodeAddressMessage({ ifindex: 1, address: '192.0.2.1', prefix: 24, scope: 'bogus' }),
    /scope/,
  );
});

let topo: Topology;
before(async () => {
  topo = await Topology.create({ lans: { lan: {} }, hosts: { h: { links: [{ lan: 'lan' }] } } });
});
after(() => topo?.destroy());

test('RtNetlink in a namespace: add/list/delete addresses with errno, concurrent dumps, link events', async () => {
  const r = await topo.exec('h', [process.execPath, path.join(__dirname, 'rtnetlink-check.js')]);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.link.name, 'rtv0');
  assert.match(j.link.mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  assert.deepEqual(j.dup, { errno: 17, code: 'EEXIST' });
  const addrs = (j.listed as { address: string; prefix: number; label?: string; scope: number }[]).map(
    (a) => `${a.address}/${a.prefix} ${a.label ?? ''} ${a.scope}`,
  );
  assert.ok(addrs.includes('192.0.2.7/24 rtv0:vip 0'), addrs.join(', '));
  assert.ok(addrs.includes('192.0.2.8/32 rtv0 254'), addrs.join(', '));
  assert.ok(addrs.includes('2001:db8::7/64  0'), addrs.join(', '));
  const ipLocal = (j.ipOut[0].addr_info as { local: string; label?: string }[]).map((a) => a.local);
  assert.ok(ipLocal.includes('192.0.2.7') && ipLocal.includes('2001:db8::7'));
  assert.equal(j.missing, 'EADDRNOTAVAIL');
  assert.ok(
    !(j.after as { address: string }[]).some((a) => a.address === '192.0.2.7' || a.address === '2001:db8::7'),
  );
  assert.ok(j.links >= 3);
  // The watcher saw rtv0 appear, come up, go down and be deleted, with the message type kept.
  assert.ok(j.events.includes('new:up'), j.events.join(' '));
  assert.equal(j.events.at(-1), 'del:down', j.events.join(' '));
});
