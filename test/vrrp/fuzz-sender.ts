// Hostile VRRP traffic for the fuzz test, run inside an attacker namespace:
//   node fuzz-sender.js <ifname> <count> <seed> [4|6]
// Sends whole Ethernet frames (AF_PACKET) to 224.0.0.18 (or ff02::12): truncated, wrong checksum,
// wrong TTL / hop limit, wrong auth, wrong version / type / VRID / count / interval, random payloads;
// each a would-be takeover (priority 254) if it were accepted. Prints {"sent":N} at the end.
import { vrrpNative } from '../../src/vrrp/link';
import { AuthType, encodeAdvert, ipv4Header } from '../../src/vrrp/packet';
import { inetChecksum, pseudoHeader } from '../../src/vrrp/checksum';
import { ipToBytes } from '../../src/net/ip';

const [ifname, countArg, seedArg, familyArg] = process.argv.slice(2);
const count = Number(countArg);
let seed = Number(seedArg) || 1;
function rand(n: number): number {
  // xorshift32: reproducible runs.
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
}
function randomBytes(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rand(256);
  return b;
}

const SRC = '198.51.100.66';
const DST = '224.0.0.18';
const eth = Buffer.from('01005e000012' + '02aabbccdd66' + '0800', 'hex');
const v2 = {
  version: 2 as const,
  vrid: 51,
  priority: 254,
  intervalCs: 10 * 10,
  addresses: ['198.51.100.100'],
  authType: AuthType.Pass,
  authPass: 'fuzzpw',
};
const v3 = {
  version: 3 as const,
  vrid: 52,
  priority: 254,
  intervalCs: 10,
  addresses: ['198.51.100.101'],
  authType: AuthType.None,
};

function frame(vrrp: Buffer, ttl = 255): Buffer {
  const h = ipv4Header(SRC, DST, vrrp.length);
  h[8] = ttl;
  h.writeUInt16BE(0, 10);
  h.writeUInt16BE(inetChecksum(h), 10);
  return Buffer.concat([eth, h, vrrp]);
}

function one(): Buffer {
  const base = rand(2) === 0 ? { ...v2 } : { ...v3 };
  const good = () => encodeAdvert(base, SRC, DST);
  switch (rand(12)) {
    case 0: // truncated
      return frame(good().subarray(0, rand(good().length)));
    case 1: {
      // wrong checksum
      const b = good();
      b[6 + rand(2)] ^= 1 + rand(255);
      return frame(b);
    }
    case 2: // wrong TTL
      return frame(good(), rand(255));
    case 3: // wrong password
      return frame(encodeAdvert({ ...v2, authPass: randomBytes(1 + rand(8)).toString('latin1') }, SRC, DST));
    case 4: // wrong auth type
      return frame(encodeAdvert({ ...v2, authType: AuthType.None }, SRC, DST));
    case 5: {
      // wrong version or type, checksum fixed up
      const b = good();
      b[0] = rand(2) ? (rand(16) << 4) | 1 : (base.version << 4) | (2 + rand(14));
      if (b[0] >> 4 === base.version && (b[0] & 15) === 1) b[0] = 0x41;
      b.writeUInt16BE(0, 6);
      if (base.version === 2) b.writeUInt16BE(inetChecksum(b), 6);
      return frame(b);
    }
    case 6: // unknown VRID
      return frame(encodeAdvert({ ...base, vrid: 53 + rand(200) }, SRC, DST));
    case 7: // other addresses
      return frame(encodeAdvert({ ...base, addresses: ['198.51.100.' + (110 + rand(100))] }, SRC, DST));
    case 8: // v2 interval mismatch
      return frame(encodeAdvert({ ...v2, intervalCs: 100 * (2 + rand(5)) }, SRC, DST));
    case 9: {
      // address count larger than the packet
      const b = good();
      b[3] = 2 + rand(250);
      b.writeUInt16BE(0, 6);
      return frame(b);
    }
    case 10: // random payload
      return frame(randomBytes(rand(80)));
    default: {
      // random flips anywhere in a good packet
      const b = good();
      for (let i = 0; i < 1 + rand(4); i++) b[rand(b.length)] ^= 1 << rand(8);
      // Flips can cancel out in the one's complement sum: keep the packet invalid.
      const sum =
        base.version === 2 ? inetChecksum(b) : inetChecksum(pseudoHeader(SRC, DST, 112, b.length), b);
      if (sum === 0) b[7] ^= 0xff;
      return frame(b);
    }
  }
}

const SRC6 = 'fe80::aa:bbff:fecc:dd66';
const DST6 = 'ff02::12';
const eth6 = Buffer.from('333300000012' + '02aabbccdd66' + '86dd', 'hex');
const v6 = {
  version: 3 as const,
  vrid: 53,
  priority: 254,
  intervalCs: 10,
  addresses: ['2001:db8::101'],
  authType: AuthType.None,
};

function frame6(vrrp: Buffer, hops = 255): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x6c000000, 0);
  h.writeUInt16BE(vrrp.length, 4);
  h[6] = 112;
  h[7] = hops;
  ipToBytes(SRC6).copy(h, 8);
  ipToBytes(DST6).copy(h, 24);
  return Buffer.concat([eth6, h, vrrp]);
}

function one6(): Buffer {
  const good = () => encodeAdvert(v6, SRC6, DST6);
  const valid = (b: Buffer) => inetChecksum(pseudoHeader(SRC6, DST6, 112, b.length), b) === 0;
  switch (rand(8)) {
    case 0:
      return frame6(good().subarray(0, rand(good().length)));
    case 1: {
      const b = good();
      b[6 + rand(2)] ^= 1 + rand(255);
      return frame6(b);
    }
    case 2:
      return frame6(good(), rand(255));
    case 3: {
      const b = good();
      b[0] = 0x21; // VRRPv2 over IPv6
      b.writeUInt16BE(0, 6);
      b.writeUInt16BE(inetChecksum(pseudoHeader(SRC6, DST6, 112, b.length), b), 6);
      return frame6(b);
    }
    case 4:
      return frame6(encodeAdvert({ ...v6, vrid: 54 + rand(200) }, SRC6, DST6));
    case 5:
      return frame6(
        encodeAdvert({ ...v6, addresses: [`2001:db8::${(0x200 + rand(1000)).toString(16)}`] }, SRC6, DST6),
      );
    case 6:
      return frame6(randomBytes(rand(80)));
    default: {
      const b = good();
      for (let i = 0; i < 1 + rand(4); i++) b[rand(b.length)] ^= 1 << rand(8);
      if (valid(b)) b[7] ^= 0xff;
      return frame6(b);
    }
  }
}

async function main(): Promise<void> {
  const n = vrrpNative();
  const ifindex = n.ifNameToIndex(ifname);
  let sent = 0;
  while (sent < count) {
    for (let i = 0; i < 200 && sent < count; i++, sent++) {
      const err = n.sendFrame(ifindex, familyArg === '6' ? one6() : one());
      if (err !== 0 && err !== 11 && err !== 105) throw new Error(`sendFrame errno ${err}`);
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  process.stdout.write(JSON.stringify({ sent }) + '\n');
}

void main();
