// lbd's packets on the wire, captured with tcpdump, against keepalived 2.2.7's reference captures for
// the same instances: byte-identical apart from MAC / link-local addresses, IPv4 identification (and
// the header checksum covering it), the IPv6 flow label (chosen by the kernel) and, for IPv6, the
// VRRP checksum (it covers the link-local source).
import { test, after, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Topology } from '../support/netns';
import { killAllVrrp, startVrrp, sleep } from './support';
import { parseEthernet, parseIp } from '../../src/vrrp/packet';

const refDir = process.env.LBD_REFERENCE_DIR ?? '/work/shared/reference';
const ref = (name: string) => Buffer.from(fs.readFileSync(path.join(refDir, name), 'utf8').trim(), 'hex');

let topo: Topology;
before(async () => {
  const nodad = { 'net.ipv6.conf.eth0.accept_dad': '0' };
  topo = await Topology.create({
    lans: { lan: {}, lan2: {} },
    hosts: {
      a: {
        links: [
          { lan: 'lan', addrs: ['192.168.77.1/24', '192.168.78.1/24'] },
          { lan: 'lan2', addrs: ['192.168.78.1/24'] },
        ],
        sysctls: nodad,
      },
    },
  });
});
after(async () => {
  await killAllVrrp();
  await topo?.destroy();
});

/** Frames of a pcap file (any link type with Ethernet framing). */
function pcapFrames(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  const le = b.readUInt32LE(0) === 0xa1b2c3d4 || b.readUInt32LE(0) === 0xa1b23c4d;
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  for (let o = 24; o + 16 <= b.length;) {
    const incl = u32(o + 8);
    out.push(b.subarray(o + 16, o + 16 + incl));
    o += 16 + incl;
  }
  return out;
}

/** Blanks what may differ: MACs, IPv4 id + header checksum, IPv6 flow label, source, VRRP checksum. */
function masked(f: Buffer): string {
  const c = Buffer.from(f);
  c.fill(0, 6, 12);
  const eth = parseEthernet(c);
  if (eth.ethertype === 0x0800) {
    c.fill(0, 14 + 4, 14 + 6);
    c.fill(0, 14 + 10, 14 + 12);
  } else {
    c[15] &= 0xf0;
    c.fill(0, 16, 18);
    c.fill(0, 14 + 8, 14 + 24);
    c.fill(0, 14 + 40 + 6, 14 + 40 + 8);
  }
  return c.toString('hex');
}

test("lbd's adverts are byte-identical to keepalived's for the same instances", async () => {
  const cap0 = '/tmp/lbd-wire-' + process.pid + '-0.pcap';
  const cap1 = '/tmp/lbd-wire-' + process.pid + '-1.pcap';
  const tcpdump = (dev: string, file: string) =>
    topo.spawn('a', [
      'tcpdump',
      '-i',
      dev,
      '--immediate-mode',
      '-U',
      '-n',
      '-w',
      file,
      'ip proto 112 or ip6 proto 112',
    ]);
  const t0 = tcpdump('eth0', cap0);
  const t1 = tcpdump('eth1', cap1);
  // tcpdump says "listening on ..." once capturing.
  await Promise.all(
    [t0, t1].map(
      (t) =>
        new Promise<void>((resolve) => {
          let err = '';
          t.stderr!.on('data', (d: Buffer) => {
            err += d.toString();
            if (err.includes('listening on')) resolve();
          });
        }),
    ),
  );
  const common = {
    priority: 150,
    advertInt: 1,
    state: 'MASTER' as const,
    garp: { masterDelay: 0, masterRepeat: 1 },
  };
  const lbd = await startVrrp(topo, 'a', {
    instances: [
      { ...common, name: 'v2', interface: 'eth0', vrid: 51, version: 2, vips: ['192.168.77.100'] },
      {
        ...common,
        name: 'v2pass',
        interface: 'eth0',
        vrid: 52,
        version: 2,
        vips: ['192.168.78.100'],
        unicastSrcIp: '192.168.78.1',
        auth: { type: 'PASS', pass: 's3cret' },
      },
      { ...common, name: 'v3', interface: 'eth1', vrid: 52, version: 3, vips: ['192.168.78.100'] },
      { ...common, name: 'v3ipv6', interface: 'eth0', vrid: 52, version: 3, vips: ['fd00:78::100'] },
    ],
  });
  await sleep(1500);
  lbd.kill('SIGTERM');
  await lbd.exited;
  await sleep(1000);
  for (const t of [t0, t1]) t.kill('SIGINT');
  await Promise.all(
    [t0, t1].map((t) => new Promise((r) => (t.exitCode !== null ? r(null) : t.once('exit', r)))),
  );
  const frames = [...pcapFrames(fs.readFileSync(cap0)), ...pcapFrames(fs.readFileSync(cap1))];
  fs.rmSync(cap0, { force: true });
  fs.rmSync(cap1, { force: true });
  const find = (pred: (vrid: number, version: number, family: number, prio: number) => boolean) =>
    frames.find((f) => {
      const ip = parseIp(parseEthernet(f).ip);
      if (typeof ip === 'string') return false;
      const v = ip.payload;
      return pred(v[1], v[0] >> 4, ip.family, v[2]);
    });
  const want: [string, (vrid: number, version: number, family: number, prio: number) => boolean][] = [
    ['keepalived-vrrpv2-advert.hex', (id, v, _f, p) => id === 51 && v === 2 && p === 150],
    ['keepalived-vrrpv2-advert-prio0.hex', (id, v, _f, p) => id === 51 && v === 2 && p === 0],
    ['keepalived-v2pass.hex', (id, v, _f, p) => id === 52 && v === 2 && p === 150],
    ['keepalived-v3ipv4.hex', (id, v, f, p) => id === 52 && v === 3 && f === 4 && p === 150],
    ['keepalived-v3ipv6.hex', (id, v, f, p) => id === 52 && v === 3 && f === 6 && p === 150],
  ];
  for (const [file, pred] of want) {
    const ours = find(pred);
    assert.ok(ours, `no lbd packet captured for ${file} (${frames.length} frames)`);
    assert.equal(masked(ours), masked(ref(file)), file);
  }
});
