// Reads the netlink vectors captured from ipvsadm by test/ipvs/capture-fixtures.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Capture {
  command: string;
  exit: number;
  output: string[];
  /** The buffers in order: what ipvsadm sent and what it received. */
  io: { dir: 'send' | 'recv'; bytes: Buffer }[];
}

// Fixtures live in the source tree, next to the test sources (dist/test/ipvs -> test/ipvs/fixtures).
export const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'test', 'ipvs', 'fixtures');

export function readCapture(name: string): Capture {
  const text = fs.readFileSync(path.join(FIXTURES, `${name}.strace`), 'utf8');
  const cap: Capture = { command: '', exit: -1, output: [], io: [] };
  let cur: { dir: 'send' | 'recv'; hex: string[] } | undefined;
  const flush = () => {
    if (cur) cap.io.push({ dir: cur.dir, bytes: Buffer.from(cur.hex.join(''), 'hex') });
    cur = undefined;
  };
  for (const line of text.split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /^# command: (.*)$/.exec(line))) cap.command = m[1];
    else if ((m = /^# exit: (\d+)$/.exec(line))) cap.exit = Number(m[1]);
    else if ((m = /^# output: (.*)$/.exec(line))) cap.output.push(m[1]);
    else if ((m = /^(sendmsg|recvmsg) = /.exec(line))) {
      flush();
      cur = { dir: m[1] === 'sendmsg' ? 'send' : 'recv', hex: [] };
    } else if ((m = /^ \| [0-9a-f]{5} {2}((?:[0-9a-f]{2} {1,2}){1,16})/.exec(line)) && cur) {
      cur.hex.push(m[1].replace(/\s+/g, ''));
    }
  }
  flush();
  return cap;
}

/** The IPVS family id of a capture: the type of the first request that is not an nlctrl one. */
export function familyIdOf(cap: Capture): number {
  for (const { dir, bytes } of cap.io) {
    if (dir === 'send' && bytes.length >= 16 && bytes.readUInt16LE(4) > 0x10) return bytes.readUInt16LE(4);
  }
  throw new Error(`no IPVS request in capture of '${cap.command}'`);
}

/** The IPVS requests of a capture (nlctrl and others dropped), with sequence number and port id zeroed. */
export function ipvsRequests(cap: Capture): Buffer[] {
  const fam = familyIdOf(cap);
  return cap.io
    .filter((x) => x.dir === 'send' && x.bytes.readUInt16LE(4) === fam)
    .map((x) => normalise(x.bytes));
}

/** Each received datagram that answers an IPVS request. */
export function ipvsReplies(cap: Capture): Buffer[] {
  const fam = familyIdOf(cap);
  return cap.io
    .filter((x) => x.dir === 'recv')
    .map((x) => x.bytes)
    .filter(
      (b) => b.length >= 16 && (b.readUInt16LE(4) === fam || (b.readUInt16LE(4) <= 3 && isAnswerTo(b, fam))),
    );
}

function isAnswerTo(b: Buffer, fam: number): boolean {
  // NLMSG_ERROR echoes the request header; NLMSG_DONE ends a dump of our family (no type to check).
  if (b.readUInt16LE(4) === 2) return b.length >= 36 && b.readUInt16LE(24) === fam;
  return b.readUInt16LE(4) === 3;
}

/** Zeroes nlmsg_seq and nlmsg_pid of every message of a buffer. */
export function normalise(buf: Buffer): Buffer {
  const out = Buffer.from(buf);
  let off = 0;
  while (off + 16 <= out.length) {
    const len = out.readUInt32LE(off);
    if (len < 16) break;
    out.writeUInt32LE(0, off + 8);
    out.writeUInt32LE(0, off + 12);
    off += (len + 3) & ~3;
  }
  return out;
}
