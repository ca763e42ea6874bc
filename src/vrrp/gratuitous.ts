// Gratuitous ARP (RFC 5227 announcement form: an ARP request for the VIP from the VIP) and
// unsolicited neighbour advertisements (RFC 4861 7.2.6, to all-nodes, Override set), as whole
// Ethernet frames for the AF_PACKET sender.
import { ipToBytes, macToBytes } from '../net/ip';
import { inetChecksum, pseudoHeader } from './checksum';

const BROADCAST = Buffer.from('ffffffffffff', 'hex');

export function gratuitousArp(mac: string, ip: string): Buffer {
  const m = macToBytes(mac);
  const a = ipToBytes(ip);
  const f = Buffer.alloc(42);
  BROADCAST.copy(f, 0);
  m.copy(f, 6);
  f.writeUInt16BE(0x0806, 12);
  f.writeUInt16BE(1, 14); // Ethernet
  f.writeUInt16BE(0x0800, 16); // IPv4
  f[18] = 6;
  f[19] = 4;
  f.writeUInt16BE(1, 20); // request
  m.copy(f, 22);
  a.copy(f, 28);
  BROADCAST.copy(f, 32); // target hardware address: like keepalived, broadcast
  a.copy(f, 38);
  return f;
}

/** Unsolicited NA for target, sent from src (an address of the interface, e.g. its link-local). */
export function unsolicitedNa(mac: string, src: string, target: string): Buffer {
  const m = macToBytes(mac);
  const dst = 'ff02::1';
  const icmp = Buffer.alloc(32);
  icmp[0] = 136; // Neighbor Advertisement
  icmp.writeUInt32BE(0x20000000, 4); // Override
  ipToBytes(target).copy(icmp, 8);
  icmp[24] = 2; // Target Link-Layer Address option
  icmp[25] = 1;
  m.copy(icmp, 26);
  icmp.writeUInt16BE(inetChecksum(pseudoHeader(src, dst, 58, icmp.length), icmp), 2);
  const ip6 = Buffer.alloc(40);
  ip6.writeUInt32BE(0x60000000, 0);
  ip6.writeUInt16BE(icmp.length, 4);
  ip6[6] = 58;
  ip6[7] = 255;
  ipToBytes(src).copy(ip6, 8);
  ipToBytes(dst).copy(ip6, 24);
  const eth = Buffer.alloc(14);
  Buffer.from('333300000001', 'hex').copy(eth, 0);
  m.copy(eth, 6);
  eth.writeUInt16BE(0x86dd, 12);
  return Buffer.concat([eth, ip6, icmp]);
}
