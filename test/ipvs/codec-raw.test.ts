// The shared raw decoder (decodeServiceAttrs, decodeDestinationAttrs, the counters) on hand-made
// attribute sets: what is absent, what is repeated or too short, and 64-bit counters beyond 2^53.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  decodeDestination,
  decodeDestinationAttrs,
  decodeDestinations,
  decodeServiceAttrs,
  exactStatsOf,
  statsOf,
} from '../../src/ipvs/codec';
import { messages, NetlinkFormatError } from '../../src/ipvs/netlink';
import { CmdAttr, DestAttr, StatsAttr, SvcAttr } from '../../src/ipvs/constants';

/** An attribute set: [type, payload] pairs, each padded to 4 bytes. */
function attrs(list: [number, Buffer][]): Buffer {
  return Buffer.concat(
    list.map(([type, payload]) => {
      const len = 4 + payload.length;
      const b = Buffer.alloc((len + 3) & ~3);
      b.writeUInt16LE(len, 0);
      b.writeUInt16LE(type, 2);
      payload.copy(b, 4);
      return b;
    }),
  );
}
const u16 = (v: number) => Buffer.from([v & 255, v >> 8]);
const be16 = (v: number) => Buffer.from([v >> 8, v & 255]);
const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
};
const u64 = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
};

test('service: absent attributes are -1 (or 0), the last well-sized one wins, names and counters by position', () => {
  const empty = decodeServiceAttrs(Buffer.alloc(0), 0, 0);
  assert.deepEqual(
    [
      empty.af,
      empty.protocol,
      empty.addrAt,
      empty.port,
      empty.netmask,
      empty.schedAt,
      empty.peAt,
      empty.statsAt,
    ],
    [-1, -1, -1, -1, -1, -1, -1, -1],
  );
  assert.deepEqual([empty.fwmark, empty.flags, empty.timeout], [0, 0, 0]);

  const stats = attrs([[StatsAttr.CONNS, u32(7)]]);
  const stats64 = attrs([[StatsAttr.CONNS, u64(9n)]]);
  const b = attrs([
    [SvcAttr.AF, u16(10)],
    [SvcAttr.PORT, be16(443)],
    [SvcAttr.PORT, Buffer.from([1])], // too short: the earlier one stays
    [SvcAttr.SCHED_NAME, Buffer.from('wrr\0')],
    [SvcAttr.NETMASK, Buffer.from([255, 255, 0, 0])],
    [SvcAttr.STATS64, stats64],
    [SvcAttr.STATS, stats], // STATS64 is preferred whatever the order
    [SvcAttr.TIMEOUT, u32(1)],
    [SvcAttr.TIMEOUT, u32(300)], // repeated: the last wins
  ]);
  const r = decodeServiceAttrs(b, 0, b.length);
  assert.deepEqual([r.af, r.port, r.timeout, r.netmask, r.protocol], [10, 443, 300, 0x0000ffff, -1]);
  assert.equal(b.toString('latin1', r.schedAt, r.schedEnd), 'wrr\0');
  assert.equal(exactStatsOf(b, r.statsAt, r.statsEnd).conns, 9n);
  // the same object, reused, is reset first
  decodeServiceAttrs(Buffer.alloc(0), 0, 0, r);
  assert.deepEqual([r.af, r.port, r.timeout, r.statsAt], [-1, -1, 0, -1]);
});

test('real server: defaults, signed weight, raw forwarding flags, a truncated attribute ends the set', () => {
  const b = attrs([
    [DestAttr.PORT, be16(8080)],
    [DestAttr.WEIGHT, u32(-1)],
    [DestAttr.FWD_METHOD, u32(0x102)],
  ]);
  const r = decodeDestinationAttrs(b, 0, b.length);
  assert.deepEqual(
    [r.port, r.weight, r.fwd, r.af, r.addrAt, r.tunType, r.statsAt],
    [8080, -1, 0x102, -1, -1, 0, -1],
  );
  const cut = Buffer.concat([attrs([[DestAttr.PORT, be16(80)]]), Buffer.from([40, 0, DestAttr.WEIGHT, 0])]);
  const t = decodeDestinationAttrs(cut, 0, cut.length);
  assert.deepEqual([t.port, t.weight], [80, 0]);
});

test('counters: u64 exact as bigints and rounded as numbers, u32 counters, short ones and absent ones 0', () => {
  const big = (1n << 53n) + 1n;
  const b = attrs([
    [StatsAttr.INBYTES, u64(big)],
    [StatsAttr.CONNS, u32(5)],
    [StatsAttr.OUTPPS, Buffer.from([1, 2])], // shorter than 4 bytes: ignored
    [StatsAttr.OUTBPS, u64(0xffffffffffffffffn)],
  ]);
  const exact = exactStatsOf(b, 0, b.length);
  const approx = statsOf(b, 0, b.length);
  assert.deepEqual(
    [exact.inBytes, exact.conns, exact.outPps, exact.outBps, exact.cps],
    [big, 5n, 0n, 0xffffffffffffffffn, 0n],
  );
  assert.deepEqual(
    [approx.inBytes, approx.conns, approx.outPps, approx.outBps, approx.cps],
    [2 ** 53, 5, 0, 2 ** 64, 0],
  );
});

test("counters in the kernel's own layout (ten u64 in order) read as by the attribute walk", () => {
  const values = [3n, 1n << 32n, (1n << 53n) - 1n, 0xfffffffen, 0x80000000n, 0n, 7n, 1n << 40n, 99n, 1n];
  const kinds = [
    StatsAttr.CONNS,
    StatsAttr.INPKTS,
    StatsAttr.OUTPKTS,
    StatsAttr.INBYTES,
    StatsAttr.OUTBYTES,
    StatsAttr.CPS,
    StatsAttr.INPPS,
    StatsAttr.OUTPPS,
    StatsAttr.INBPS,
    StatsAttr.OUTBPS,
  ];
  const inOrder = attrs(kinds.map((k, i) => [k, u64(values[i])]));
  assert.equal(inOrder.length, 120);
  const expected = Object.values(exactStatsOf(inOrder, 0, inOrder.length)).map(Number);
  assert.deepEqual(expected, values.map(Number));
  assert.deepEqual(Object.values(statsOf(inOrder, 0, inOrder.length)), expected);
  // The same counters in another order, or one of them a u32: the same numbers, by the walk.
  const swapped = attrs(kinds.map((_, i) => [kinds[9 - i], u64(values[9 - i])]));
  assert.deepEqual(Object.values(statsOf(swapped, 0, swapped.length)), expected);
  const narrow = attrs(kinds.map((k, i) => [k, i === 4 ? u32(Number(values[i])) : u64(values[i])]));
  assert.deepEqual(Object.values(statsOf(narrow, 0, narrow.length)), expected);
});

/** A GET_DEST reply message: netlink and genl headers, then the given top-level attributes. */
function destMessage(top: [number, Buffer][]): Buffer {
  const body = attrs(top);
  const h = Buffer.alloc(20);
  h.writeUInt32LE(20 + body.length, 0);
  h.writeUInt16LE(30, 4); // the family id: any
  h[16] = 5; // IPVS_CMD_NEW_DEST
  h[17] = 1;
  return Buffer.concat([h, body]);
}

const destNest = (last: number, weight: number): [number, Buffer] => [
  CmdAttr.DEST | 0x8000,
  attrs([
    [DestAttr.ADDR, Buffer.from([192, 0, 2, last, ...Buffer.alloc(12)])],
    [DestAttr.PORT, be16(8080)],
    [DestAttr.FWD_METHOD, u32(0)],
    [DestAttr.WEIGHT, u32(weight)],
    [DestAttr.STATS, attrs([[StatsAttr.CONNS, u32(last * 10)]])],
  ]),
];

test("decodeDestinations: a service's real servers in one walk, as decodeDestination reads each", () => {
  const reply = Buffer.concat([destMessage([destNest(1, 3)]), destMessage([destNest(2, 0)])]);
  const all = decodeDestinations(reply, 0, reply.length, 'inet');
  assert.deepEqual(
    all,
    [...messages(reply)].map((m) => decodeDestination(reply, m, 'inet')),
  );
  assert.deepEqual(
    all.map((d) => [d.address, d.port, d.forward.method, d.weight, d.stats.conns]),
    [
      ['192.0.2.1', 8080, 'masq', 3, 10],
      ['192.0.2.2', 8080, 'masq', 0, 20],
    ],
  );
  // Only the range asked for.
  const first = destMessage([destNest(1, 3)]).length;
  assert.equal(decodeDestinations(reply, first, reply.length, 'inet').length, 1);
  // A message without the real server attribute is an error, not skipped.
  const bad = Buffer.concat([reply, destMessage([[CmdAttr.SERVICE, Buffer.alloc(4)]])]);
  assert.throws(
    () => decodeDestinations(bad, 0, bad.length, 'inet'),
    (e: unknown) => e instanceof NetlinkFormatError && /missing destination attribute/.test(e.message),
  );
});
