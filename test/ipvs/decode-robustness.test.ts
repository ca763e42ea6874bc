// The decoder on damaged kernel replies: every truncation and byte corruption of real replies either
// decodes or throws a typed format error; never another exception, never a hang.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { AddressError, decodeDaemon, decodeDestination, decodeService, type Family } from '../../src/ipvs';
import { Cmd } from '../../src/ipvs/constants';
import { messages, NetlinkFormatError, type Message } from '../../src/ipvs/netlink';
import { familyIdOf, ipvsReplies, readCapture } from './strace';

function samples(name: string, cmd: number): Buffer[] {
  const cap = readCapture(name);
  const fam = familyIdOf(cap);
  const out: Buffer[] = [];
  for (const b of ipvsReplies(cap)) {
    for (const m of messages(b)) {
      if (m.type === fam && m.cmd === cmd) out.push(Buffer.from(b.subarray(m.start - 20, m.end)));
    }
  }
  assert.ok(out.length > 0, `${name}: no reply of command ${cmd}`);
  return out;
}

function decodeAll(buf: Buffer, f: (b: Buffer, m: Message) => unknown): void {
  for (const m of messages(buf)) {
    try {
      f(buf, m);
    } catch (e) {
      if (!(e instanceof NetlinkFormatError || e instanceof AddressError)) throw e;
    }
  }
}

const decoders: [string, number, (b: Buffer, m: Message) => unknown][] = [
  ['save', Cmd.NEW_SERVICE, decodeService],
  ['save', Cmd.NEW_DEST, (b, m) => decodeDestination(b, m, 'inet' as Family)],
  ['daemon-get', Cmd.NEW_DAEMON, decodeDaemon],
];

for (const [name, cmd, f] of decoders) {
  test(`command ${cmd} replies of '${name}': truncated at every length, inner lengths patched`, () => {
    for (const msg of samples(name, cmd)) {
      for (let n = 0; n <= msg.length; n++) {
        const cut = Buffer.from(msg.subarray(0, n));
        if (n >= 4) cut.writeUInt32LE(n, 0); // the message claims what is left: attributes overrun
        decodeAll(cut, f);
      }
    }
  });

  test(`command ${cmd} replies of '${name}': every byte set to 0x00, 0xff and 0x7f`, () => {
    for (const msg of samples(name, cmd).slice(0, 3)) {
      for (let i = 0; i < msg.length; i++) {
        for (const v of [0x00, 0xff, 0x7f]) {
          const bad = Buffer.from(msg);
          bad[i] = v;
          decodeAll(bad, f);
        }
      }
    }
  });
}

test('a service without its nested attribute, or with an unknown protocol, is a format error', () => {
  const [msg] = samples('save', Cmd.NEW_SERVICE);
  const empty = Buffer.from(msg.subarray(0, 20));
  empty.writeUInt32LE(20, 0);
  const [m] = [...messages(empty)];
  assert.throws(() => decodeService(empty, m), NetlinkFormatError);
  const proto = Buffer.from(msg);
  // The PROTOCOL attribute (type 2) of the service nest: make it 99.
  const at = proto.indexOf(Buffer.from([6, 0, 2, 0]), 24);
  proto.writeUInt16LE(99, at + 4);
  const [pm] = [...messages(proto)];
  assert.throws(() => decodeService(proto, pm), /unknown protocol 99/);
});
