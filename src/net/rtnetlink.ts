// A small rtnetlink wrapper over the `netlink` package (0.3.0): add / remove / list addresses, list
// links, watch link changes. It works around three bugs of that version:
//  - AttrStream.push masks the attribute type to 14 bits, stripping NLA_F_NESTED: attributes are
//    encoded here by `attr` / `nested`, which keep the flags;
//  - a rejected request throws `Request rejected: CODE` without errno: requests are sent with
//    checkError off and NLMSG_ERROR is decoded here into an Error with errno and code;
//  - RtNetlinkSocket's 'message' event drops the message type (NEWLINK vs DELLINK): notifications are
//    read from the underlying NetlinkSocket, which keeps it.
import { getSystemErrorName } from 'node:util';
import { Family, bytesToIp, bytesToMac, ipFamily, ipToBytes } from './ip';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
const netlink = require('netlink') as Any;

export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLA_F_NESTED = 0x8000;
export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;
const NLM_F_DUMP = 0x300;
const NLM_F_CREATE = 0x400;
const NLM_F_EXCL = 0x200;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_LABEL = 3;
const IFA_BROADCAST = 4;
const IFA_FLAGS = 8;
export const IFA_F_NODAD = 0x02;
const IFF_UP = 0x1;
const IFF_RUNNING = 0x40;
const IFF_LOWER_UP = 0x10000;
const RTNLGRP_LINK = 1;
const RTNLGRP_IPV4_IFADDR = 5;
const RTNLGRP_IPV6_IFADDR = 9;

export const SCOPES: Record<string, number> = { global: 0, site: 200, link: 253, host: 254, nowhere: 255 };

/** One netlink attribute, 4-byte aligned, with the type's flag bits (NLA_F_NESTED...) kept. */
export function attr(type: number, data: Uint8Array): Buffer {
  const len = 4 + data.length;
  const b = Buffer.alloc((len + 3) & ~3);
  b.writeUInt16LE(len, 0);
  b.writeUInt16LE(type & 0xffff, 2);
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(b, 4);
  return b;
}

/** A nested attribute (NLA_F_NESTED set) holding the given attributes. */
export function nested(type: number, children: Buffer[]): Buffer {
  return attr(type | NLA_F_NESTED, Buffer.concat(children));
}

export class NetlinkError extends Error {
  constructor(
    readonly errno: number,
    readonly code: string,
    what: string,
  ) {
    super(`${what}: ${code} (errno ${errno})`);
  }
}

/** Decodes an NLMSG_ERROR payload: 0 for an ACK, else a NetlinkError carrying errno and code. */
export function decodeNlError(data: Buffer, what: string): NetlinkError | null {
  const err = -data.readInt32LE(0);
  if (err === 0) return null;
  let code = String(err);
  try {
    code = getSystemErrorName(-err);
  } catch {
    /* unknown errno: keep the number */
  }
  return new NetlinkError(err, code, what);
}

export interface AddressSpec {
  ifindex: number;
  address: string;
  prefix: number;
  label?: string;
  /** global (default), site, link, host, or a number. */
  scope?: string | number;
  broadcast?: string;
  /** IPv6: skip duplicate address detection (the VIP is usable at once). Default true for IPv6. */
  nodad?: boolean;
}

export interface AddressInfo {
  ifindex: number;
  family: Family;
  address: string;
  prefix: number;
  label?: string;
  scope: number;
  flags: number;
}

export interface LinkInfo {
  ifindex: number;
  name: string;
  up: boolean;
  /** Administratively up and carrier present (IFF_RUNNING / IFF_LOWER_UP). */
  running: boolean;
  mac?: string;
}

export type LinkEvent = { type: 'new' | 'del'; link: LinkInfo };

interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  data: Buffer;
}

export function encodeAddressMessage(spec: AddressSpec): Buffer {
  const family = ipFamily(spec.address);
  const addr = ipToBytes(spec.address);
  const scope = typeof spec.scope === 'number' ? spec.scope : SCOPES[spec.scope ?? 'global'];
  if (scope === undefined) throw new Error(`unknown scope '${String(spec.scope)}'`);
  const nodad = family === 6 && spec.nodad !== false;
  const hdr = Buffer.alloc(8);
  hdr[0] = family === 4 ? 2 : 10;
  hdr[1] = spec.prefix;
  hdr[2] = nodad ? IFA_F_NODAD : 0;
  hdr[3] = scope;
  hdr.writeUInt32LE(spec.ifindex, 4);
  const parts = [hdr, attr(IFA_LOCAL, addr), attr(IFA_ADDRESS, addr)];
  if (spec.label !== undefined && family === 4) parts.push(attr(IFA_LABEL, Buffer.from(spec.label + '\0')));
  if (spec.broadcast !== undefined) parts.push(attr(IFA_BROADCAST, ipToBytes(spec.broadcast)));
  if (nodad) {
    const f = Buffer.alloc(4);
    f.writeUInt32LE(IFA_F_NODAD);
    parts.push(attr(IFA_FLAGS, f));
  }
  return Buffer.concat(parts);
}

export function parseLink(data: Buffer): LinkInfo {
  const rt = require('netlink/dist/rt/structs') as Any;
  const msg = rt.parseLinkMessage(data);
  const flags = data.readUInt32LE(8);
  return {
    ifindex: msg.data.index as number,
    name: (msg.attrs.ifname as string) ?? '',
    up: (flags & IFF_UP) !== 0,
    running: (flags & IFF_UP) !== 0 && (flags & (IFF_RUNNING | IFF_LOWER_UP)) !== 0,
    mac: msg.attrs.address ? bytesToMac(msg.attrs.address as Buffer) : undefined,
  };
}

export function parseAddress(data: Buffer): AddressInfo {
  const rt = require('netlink/dist/rt/structs') as Any;
  const msg = rt.parseAddressMessage(data);
  const raw = (msg.attrs.local ?? msg.attrs.address) as Buffer;
  const flagsAttr = msg.attrs.flags
    ? require('netlink/dist/rt/gen_structs').formatAddressFlags(msg.attrs.flags)
    : data[2];
  return {
    ifindex: msg.data.index as number,
    family: data[0] === 2 ? 4 : 6,
    address: bytesToIp(raw),
    prefix: data[1],
    label: msg.attrs.label as string | undefined,
    scope: data[3],
    flags: flagsAttr as number,
  };
}

export class RtNetlink {
  private readonly sock: Any;
  private watcher: Any;
  private readonly addrWatchers = new Set<Any>();

  constructor() {
    this.sock = netlink.createRtNetlink();
  }

  private queue: Promise<unknown> = Promise.resolve();

  /**
   * Sends a request; resolves with the reply messages (a dump's, without DONE), rejects with errno.
   * Requests go one at a time: the package mixes up two dumps in flight on one socket ("Multipart
   * message not terminated properly").
   */
  request(type: number, data: Buffer, flags: number, what: string): Promise<NlMessage[]> {
    const run = this.queue.then(() => this.requestNow(type, data, flags, what));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async requestNow(type: number, data: Buffer, flags: number, what: string): Promise<NlMessage[]> {
    const [msgs] = (await this.sock.socket.request(type, data, {
      flags,
      checkError: false,
      timeout: 5000,
    })) as [NlMessage[]];
    for (const m of msgs) {
      if (m.type === NLMSG_ERROR) {
        const e = decodeNlError(m.data, what);
        if (e) throw e;
      }
    }
    return msgs.filter((m) => m.type !== NLMSG_ERROR && m.type !== NLMSG_DONE);
  }

  async addAddress(spec: AddressSpec, opts: { replace?: boolean } = {}): Promise<void> {
    const flags = NLM_F_CREATE | (opts.replace ? 0x100 : NLM_F_EXCL);
    await this.request(RTM_NEWADDR, encodeAddressMessage(spec), flags, `add ${spec.address}/${spec.prefix}`);
  }

  async deleteAddress(spec: AddressSpec): Promise<void> {
    await this.request(RTM_DELADDR, encodeAddressMessage(spec), 0, `delete ${spec.address}/${spec.prefix}`);
  }

  async listAddresses(filter: { ifindex?: number; family?: Family } = {}): Promise<AddressInfo[]> {
    const hdr = Buffer.alloc(8);
    hdr[0] = filter.family === 4 ? 2 : filter.family === 6 ? 10 : 0;
    const msgs = await this.request(RTM_GETADDR, hdr, NLM_F_DUMP, 'list addresses');
    return msgs
      .filter((m) => m.type === RTM_NEWADDR)
      .map((m) => parseAddress(m.data))
      .filter((a) => filter.ifindex === undefined || a.ifindex === filter.ifindex);
  }

  async listLinks(): Promise<LinkInfo[]> {
    const msgs = await this.request(RTM_GETLINK, Buffer.alloc(16), NLM_F_DUMP, 'list links');
    return msgs.filter((m) => m.type === RTM_NEWLINK).map((m) => parseLink(m.data));
  }

  async link(name: string): Promise<LinkInfo | undefined> {
    return (await this.listLinks()).find((l) => l.name === name);
  }

  /** Calls back on every link change (RTM_NEWLINK / RTM_DELLINK). Returns a stop function. */
  watchLinks(cb: (ev: LinkEvent) => void): () => void {
    const w = netlink.createRtNetlink({ ref: false });
    w.socket.addMembership(RTNLGRP_LINK);
    w.socket.on('message', (msgs: NlMessage[]) => {
      for (const m of msgs) {
        if (m.type !== RTM_NEWLINK && m.type !== RTM_DELLINK) continue;
        let link: LinkInfo;
        try {
          link = parseLink(m.data);
        } catch {
          continue;
        }
        cb({ type: m.type === RTM_NEWLINK ? 'new' : 'del', link });
      }
    });
    this.watcher = w;
    return () => {
      w.socket.close();
      if (this.watcher === w) this.watcher = undefined;
    };
  }

  /** Calls back on every address change (RTM_NEWADDR / RTM_DELADDR, IPv4 and IPv6). Returns a stop function. */
  watchAddresses(cb: (ev: { type: 'new' | 'del'; address: AddressInfo }) => void): () => void {
    const w = netlink.createRtNetlink({ ref: false });
    w.socket.addMembership(RTNLGRP_IPV4_IFADDR);
    w.socket.addMembership(RTNLGRP_IPV6_IFADDR);
    w.socket.on('message', (msgs: NlMessage[]) => {
      for (const m of msgs) {
        if (m.type !== RTM_NEWADDR && m.type !== RTM_DELADDR) continue;
        let address: AddressInfo;
        try {
          address = parseAddress(m.data);
        } catch {
          continue;
        }
        cb({ type: m.type === RTM_NEWADDR ? 'new' : 'del', address });
      }
    });
    this.addrWatchers.add(w);
    return () => {
      w.socket.close();
      this.addrWatchers.delete(w);
    };
  }

  close(): void {
    for (const w of this.addrWatchers) w.socket.close();
    this.addrWatchers.clear();
    this.sock.socket.close();
    this.watcher?.socket.close();
    this.watcher = undefined;
  }
}
