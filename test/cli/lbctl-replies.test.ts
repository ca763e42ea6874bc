// lbctl's reading side on the kernel's real replies: a socket that answers lbctl's requests with the
// replies captured from ipvsadm (test/ipvs/fixtures; lbctl's requests are ipvsadm's, byte for byte),
// and lbctl's listings of what it decoded, against what ipvsadm printed.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { messages } from '../../src/ipvs/netlink';
import { Kernel, type ExchangeReply, type GenlSocketCtor } from '../../src/cli/ipvsadm/kernel';
import { listAll, listDaemon, listTimeout } from '../../src/cli/ipvsadm/format';
import { FMT } from '../../src/cli/ipvsadm/parse';
import { familyIdOf, normalise, readCapture } from '../ipvs/strace';

/** A socket class whose exchange() answers each request with the data messages and errno that answered
 * the same request (sequence number and port id aside) in the capture. */
function replaying(name: string): GenlSocketCtor {
  const cap = readCapture(name);
  const fam = familyIdOf(cap);
  const answers = new Map<string, { data: Buffer[]; errno: number }>();
  let cur: { data: Buffer[]; errno: number } | null = null;
  for (const { dir, bytes } of cap.io) {
    if (dir === 'send') {
      cur = bytes.readUInt16LE(4) === fam ? { data: [], errno: 0 } : null;
      if (cur !== null) answers.set(normalise(bytes).toString('hex'), cur);
      continue;
    }
    if (cur === null) continue;
    for (const m of messages(bytes)) {
      const msg = bytes.subarray(m.start - 20, m.end);
      if (m.type === fam) cur.data.push(Buffer.concat([msg, Buffer.alloc(-msg.length & 3)]));
      else if (m.type === 2) cur.errno = -msg.readInt32LE(16); // NLMSG_ERROR (0: the ACK)
    }
  }
  return class {
    async resolveFamily() {
      return { error: 0, message: '', id: fam };
    }
    async exchange(buf: Buffer): Promise<ExchangeReply> {
      const parts: Buffer[] = [];
      const offsets: number[] = [];
      const lengths: number[] = [];
      const errors: number[] = [];
      let at = 0;
      for (const m of messages(buf)) {
        const req = normalise(buf.subarray(m.start - 20, m.end)).toString('hex');
        const a = answers.get(req);
        assert.ok(a !== undefined, `${name}: lbctl sent a request ipvsadm did not: ${req}`);
        const data = Buffer.concat(a.data);
        parts.push(data);
        offsets.push(at);
        lengths.push(data.length);
        errors.push(a.errno);
        at += data.length;
      }
      return {
        data: Buffer.concat(parts),
        offsets: Uint32Array.from(offsets),
        lengths: Uint32Array.from(lengths),
        errors: Int32Array.from(errors),
        messages: errors.map(() => ''),
      };
    }
    async batch(): Promise<never> {
      throw new Error('no batch in a listing');
    }
    close() {}
  };
}

const printed = (name: string) => readCapture(name).output.join('\n') + '\n';

const listings: [string, number][] = [
  ['info', FMT.NUMERIC],
  ['save', FMT.NUMERIC | FMT.RULE],
  ['list-stats', FMT.NUMERIC | FMT.EXACT | FMT.STATS],
  ['list-rate', FMT.NUMERIC | FMT.EXACT | FMT.RATE],
];

for (const [name, format] of listings) {
  test(`lbctl decodes the kernel's replies of '${name}' and prints what ipvsadm printed`, async () => {
    const k = await Kernel.open(replaying(name));
    // all real servers over netlink (what /proc/net/ip_vs would give is not in the capture)
    const svcs = await k.services(false);
    const info = await k.info();
    assert.ok(name === 'info' || svcs.length > 0);
    assert.equal(listAll(info, svcs, format), printed(name));
  });
}

test("lbctl decodes the kernel's timeouts and sync daemons as ipvsadm prints them", async () => {
  assert.equal(
    listTimeout(await (await Kernel.open(replaying('config-get'))).timeouts()),
    printed('config-get'),
  );
  assert.equal(
    listDaemon(await (await Kernel.open(replaying('daemon-get'))).daemons()),
    printed('daemon-get'),
  );
});
