// Receive-side checks of RFC 3768 section 7.1 and RFC 5798 section 7.1 against the instances
// configured on one interface, with a counter per drop reason.
import { Family, normalizeIp } from '../net/ip';
import {
  Advert,
  AuthType,
  DROP_REASONS,
  DropReason,
  VRRP_TTL,
  VrrpVersion,
  decodeAdvert,
  parseIp,
} from './packet';

/** What the receiver needs to know of an instance to accept its packets. */
export interface ReceiveSpec {
  vrid: number;
  version: VrrpVersion;
  family: Family;
  intervalCs: number;
  addresses: string[];
  authType: AuthType;
  authPass?: string;
  /** When set (unicast mode), only these sources are accepted. */
  unicastPeers?: string[];
}

export interface Arrival {
  /** The whole IP packet as received on the raw socket (IPv4 with its header; IPv6 without). */
  data: Buffer;
  family: Family;
  src: string;
  dst: string;
  /** TTL / hop limit from the header or from IP_RECVTTL / IPV6_RECVHOPLIMIT. */
  ttl: number;
  ifindex: number;
}

export type Accepted = { advert: Advert; src: string; spec: ReceiveSpec; intervalMismatch: boolean };

export class DropCounters {
  readonly counts = new Map<DropReason, number>(DROP_REASONS.map((r) => [r, 0]));
  received = 0;
  accepted = 0;
  /** v3 adverts whose interval differs from ours: accepted (the backup learns it) and logged. */
  intervalMismatchAccepted = 0;
  /** Adverts of the address owner (priority 255) whose address list differs from ours: accepted, logged. */
  addressMismatchAccepted = 0;

  drop(reason: DropReason): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
  }

  get dropped(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }

  toJSON(): Record<string, number> {
    return {
      received: this.received,
      accepted: this.accepted,
      dropped: this.dropped,
      interval_mismatch_accepted: this.intervalMismatchAccepted,
      address_mismatch_accepted: this.addressMismatchAccepted,
      ...Object.fromEntries(this.counts),
    };
  }
}

function sameSet(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a.map(normalizeIp));
  return b.every((x) => s.has(normalizeIp(x)));
}

export class VrrpReceiver {
  readonly counters = new DropCounters();
  private readonly specs = new Map<string, ReceiveSpec>();

  constructor(
    private readonly ifindex: () => number,
    private readonly ownAddresses: () => string[],
  ) {}

  add(spec: ReceiveSpec): void {
    this.specs.set(`${spec.family}/${spec.vrid}`, spec);
  }

  remove(spec: ReceiveSpec): void {
    this.specs.delete(`${spec.family}/${spec.vrid}`);
  }

  /** Checks a packet; returns the advert and the instance spec it is for, or null (counted). */
  receive(p: Arrival): Accepted | null {
    const c = this.counters;
    c.received++;
    const drop = (r: DropReason): null => {
      c.drop(r);
      return null;
    };
    let payload = p.data;
    let src = p.src;
    let dst = p.dst;
    let ttl = p.ttl;
    if (p.family === 4) {
      const ip = parseIp(p.data);
      if (typeof ip === 'string') return drop(ip);
      if (ip.family !== 4 || ip.protocol !== 112) return drop('bad_ip_header');
      payload = ip.payload;
      src = ip.src;
      dst = ip.dst;
      ttl = ip.ttl;
    }
    if (p.ifindex !== this.ifindex()) return drop('wrong_interface');
    if (ttl !== VRRP_TTL) return drop('bad_ttl');
    if (this.ownAddresses().includes(src)) return drop('own_packet');
    const d = decodeAdvert(payload, p.family, src, dst);
    if (!d.ok) return drop(d.reason);
    const a = d.advert;
    const spec = this.specs.get(`${p.family}/${a.vrid}`);
    if (!spec) return drop('unknown_vrid');
    if (a.version !== spec.version) return drop('bad_version');
    if (spec.unicastPeers && spec.unicastPeers.length > 0 && !spec.unicastPeers.includes(src)) {
      return drop('unknown_peer');
    }
    if (a.version === 2) {
      if (a.authType !== spec.authType) return drop('auth_type_mismatch');
      if (a.authType === AuthType.Pass && (a.authPass ?? '') !== (spec.authPass ?? '').slice(0, 8)) {
        return drop('auth_failure');
      }
    }
    let intervalMismatch = false;
    if (a.intervalCs !== spec.intervalCs) {
      if (a.version === 2) return drop('interval_mismatch');
      intervalMismatch = true;
      c.intervalMismatchAccepted++;
    }
    if (!sameSet(a.addresses, spec.addresses)) {
      // RFC 3768: drop unless from the address owner. RFC 5798 only asks to log, but a router that
      // does not own the VIPs must not win an election for them (keepalived drops these too).
      if (a.priority !== 255) return drop('address_mismatch');
      c.addressMismatchAccepted++;
    }
    c.accepted++;
    return { advert: a, src, spec, intervalMismatch };
  }
}
