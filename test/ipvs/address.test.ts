// Address, port and mark types: only valid, canonical values.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { addressBytes, addressFromBytes, familyOf, fwmark, ip, ipv4, ipv6, port } from '../../src/ipvs';

test('IPv4: dotted quads only', () => {
  assert.equal(ipv4('10.0.0.1'), '10.0.0.1');
  for (const bad of ['10.0.0', '256.1.1.1', '01.2.3.4', '1.2.3.4.5', '', 'a.b.c.d', '1.2.3.-1']) {
    assert.throws(() => ipv4(bad), /invalid IPv4/, bad);
  }
});

test('IPv6: parsed and printed in RFC 5952 form', () => {
  assert.equal(ipv6('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
  assert.equal(ipv6('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
  assert.equal(ipv6('::'), '::');
  assert.equal(ipv6('::ffff:10.0.0.1'), '::ffff:a00:1');
  assert.equal(ipv6('fe80::1:0:0:0'), 'fe80::1:0:0:0'); // a tie: the first run
  assert.equal(ipv6('2001:0:0:1:0:0:0:1'), '2001:0:0:1::1'); // the longest run
  assert.equal(ip('[2001:db8::10]'), '2001:db8::10');
  for (const bad of ['1::2::3', '12345::', 'g::1', '1:2:3:4:5:6:7:8:9', ':::'])
    assert.throws(() => ipv6(bad), bad);
});

test('address bytes round-trip (nf_inet_addr, 16 bytes)', () => {
  for (const a of [ip('192.168.1.10'), ip('2001:db8::10'), ip('::1'), ip('0.0.0.0')]) {
    const b = Buffer.alloc(20, 0xee);
    addressBytes(a, b, 2);
    assert.equal(addressFromBytes(familyOf(a), b, 2, 16), a);
    assert.equal(b[0], 0xee);
    assert.equal(b[18], 0xee);
  }
  assert.throws(() => addressFromBytes('inet6', Buffer.alloc(8), 0, 8), /shorter than 16/);
});

test('ports and firewall marks: integers in range', () => {
  assert.equal(port(0), 0);
  assert.equal(port('8080'), 8080);
  for (const bad of [-1, 65536, 1.5, NaN]) assert.throws(() => port(bad), /invalid port/);
  assert.throws(() => port('80a'), /invalid port/);
  assert.equal(fwmark(1), 1);
  for (const bad of [0, 2 ** 32, -3]) assert.throws(() => fwmark(bad), /invalid firewall mark/);
});
