// The native generic netlink transport on the host (whose kernel may lack IPVS): family resolution,
// requests, multipart dumps, pipelined batches with one result per message, queueing and errors.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { constants } from 'node:os';
import { Ipvs, IpvsUnavailableError, MessageWriter, messages } from '../../src/ipvs';
import { GenlTransport } from '../../src/ipvs/transport';

const GENL_ID_CTRL = 0x10;
const CTRL_CMD_GETFAMILY = 3;
const CTRL_ATTR_FAMILY_NAME = 2;
const E = constants.errno;

function getFamily(w: MessageWriter, name: string, flags = 0x4): void {
  w.begin(GENL_ID_CTRL, flags, CTRL_CMD_GETFAMILY, 1).string(CTRL_ATTR_FAMILY_NAME, name).end();
}

test('nlctrl resolves itself; an unknown family is ENOENT', async () => {
  const t = new GenlTransport();
  try {
    const ctrl = await t.resolveFamily('nlctrl');
    assert.equal(ctrl.error, 0);
    assert.equal(ctrl.id, GENL_ID_CTRL);
    const none = await t.resolveFamily('lbd-nofamily');
    assert.equal(none.error, E.ENOENT);
    assert.ok(t.portId > 0);
  } finally {
    t.close();
  }
});

test('Ipvs.open: "kernel has no IPVS" when the family is missing, else a working client', async () => {
  const t = new GenlTransport();
  const fam = await t.resolveFamily('IPVS');
  t.close();
  if (fam.error === E.ENOENT) {
    await assert.rejects(Ipvs.open(), (e: unknown) => {
      assert.ok(e instanceof IpvsUnavailableError);
      assert.equal(e.code, 'ENOENT');
      assert.match(e.message, /^kernel has no IPVS/);
      return true;
    });
  } else {
    const ipvs = await Ipvs.open();
    assert.equal(ipvs.familyId, fam.id);
    assert.match((await ipvs.info()).version, /^\d+\.\d+\.\d+$/);
    ipvs.close();
  }
});

test('exchange: replies matched to each request, a multipart dump collected to NLMSG_DONE', async () => {
  const t = new GenlTransport();
  try {
    const w = new MessageWriter();
    getFamily(w, 'nlctrl');
    getFamily(w, 'lbd-nofamily');
    w.begin(GENL_ID_CTRL, 0x300, CTRL_CMD_GETFAMILY, 1).end(); // dump every family
    const r = await t.exchange(w.take());
    assert.deepEqual([...r.errors], [0, E.ENOENT, 0]);
    const first = [...messages(r.data, r.offsets[0], r.offsets[0] + r.lengths[0])];
    assert.equal(first.length, 1);
    assert.equal(first[0].type, GENL_ID_CTRL);
    assert.equal(r.lengths[1], 0);
    const dump = [...messages(r.data, r.offsets[2], r.offsets[2] + r.lengths[2])];
    assert.ok(dump.length >= 2, `dump of families: ${dump.length} messages`);
    assert.ok(dump.every((m) => m.type === GENL_ID_CTRL && m.flags & 0x2));
  } finally {
    t.close();
  }
});

test('batch: many messages per sendmsg, one result per message, in order, across windows', async () => {
  const t = new GenlTransport();
  try {
    const w = new MessageWriter();
    const expected: number[] = [];
    for (let i = 0; i < 500; i++) {
      const ok = i % 7 !== 3;
      getFamily(w, ok ? 'nlctrl' : `lbd-missing-${i}`);
      expected.push(ok ? 0 : E.ENOENT);
    }
    const r = await t.batch(w.take(), 16);
    assert.deepEqual([...r.errors], expected);
    assert.equal(r.sends, Math.ceil(500 / 16));
    assert.ok(r.messages.every((m, i) => (expected[i] === 0 ? m === undefined : typeof m === 'string')));
  } finally {
    t.close();
  }
});

test('queued calls run one at a time; malformed input and closed sockets are errors, not crashes', async () => {
  const t = new GenlTransport();
  const all = await Promise.all(Array.from({ length: 20 }, () => t.resolveFamily('nlctrl')));
  assert.ok(all.every((f) => f.id === GENL_ID_CTRL));
  await assert.rejects(
    t.exchange(Buffer.from([1, 2, 3])),
    (e: Error & { errno?: number }) => e.errno === E.EINVAL,
  );
  const bad = Buffer.alloc(20);
  bad.writeUInt32LE(400, 0); // claims more bytes than there are
  await assert.rejects(t.batch(bad), (e: Error & { errno?: number }) => e.errno === E.EINVAL);
  t.close();
  await assert.rejects(t.resolveFamily('nlctrl'), /closed/);
});

test('extended ACK: the kernel explanation of a rejected request comes back with its errno', async () => {
  const t = new GenlTransport();
  try {
    const w = new MessageWriter();
    getFamily(w, 'a-family-name-longer-than-genl-allows'); // over GENL_NAMSIZ: fails policy validation
    const r = await t.exchange(w.take());
    assert.equal(r.errors[0], E.EINVAL);
    assert.match(r.messages[0], /\S/, 'an extended ACK message');
    getFamily(w, 'a-family-name-longer-than-genl-allows');
    const b = await t.batch(w.take());
    assert.equal(b.errors[0], E.EINVAL);
    assert.equal(b.messages[0], r.messages[0]);
  } finally {
    t.close();
  }
});
