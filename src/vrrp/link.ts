// One interface as the VRRP service sees it: its index, MAC, addresses, and the raw VRRP sockets
// (IPv4 / IPv6, opened on demand) feeding a VrrpReceiver. Reopened when the interface comes back.
import { nativeModule } from '../net/native';
import { Family } from '../net/ip';
import { Accepted, Arrival, VrrpReceiver } from './receive';

export interface NativeVrrpSocket {
  send(data: Buffer, dst: string, src?: string): number;
  close(): void;
  readonly ifindex: number;
}

export interface NativeVrrp {
  VrrpSocket: new (
    opts: { family: Family; ifname: string; multicast: boolean },
    onPacket: (data: Buffer, src: string, dst: string, ifindex: number, ttl: number) => void,
  ) => NativeVrrpSocket;
  sendFrame(ifindex: number, frame: Buffer): number;
  ifNameToIndex(name: string): number;
}

let native: NativeVrrp | undefined;
export function vrrpNative(): NativeVrrp {
  native ??= nativeModule<NativeVrrp>('vrrp');
  return native;
}

export class VrrpLink {
  ifindex = 0;
  mac: string | undefined;
  /** Addresses of the interface that are not our VIPs (source addresses, own-packet filter). */
  addresses: string[] = [];
  linkLocal6: string | undefined;
  running = false;
  readonly receiver: VrrpReceiver;
  private readonly sockets = new Map<Family, NativeVrrpSocket>();
  private readonly wanted = new Set<Family>();

  constructor(
    readonly name: string,
    private readonly onAccepted: (a: Accepted, link: VrrpLink) => void,
    private readonly onError: (msg: string) => void,
    private readonly multicast: (family: Family) => boolean,
  ) {
    this.receiver = new VrrpReceiver(
      () => this.ifindex,
      () => this.addresses,
    );
  }

  want(family: Family): void {
    this.wanted.add(family);
  }

  /** Opens the wanted sockets (again, after the interface came back). */
  open(): void {
    this.close();
    for (const family of this.wanted) this.openFamily(family);
  }

  /** Opens the socket of one family if it is not open yet (a new instance on a running link). */
  openFamily(family: Family): void {
    this.wanted.add(family);
    if (this.sockets.has(family)) return;
    try {
      const s = new (vrrpNative().VrrpSocket)(
        { family, ifname: this.name, multicast: this.multicast(family) },
        (data, src, dst, ifindex, ttl) => this.packet({ data, family, src, dst, ifindex, ttl }),
      );
      this.sockets.set(family, s);
      this.ifindex = s.ifindex;
    } catch (e) {
      this.onError(`${this.name}: cannot open IPv${family} VRRP socket: ${(e as Error).message}`);
    }
  }

  get isOpen(): boolean {
    return this.sockets.size > 0;
  }

  close(): void {
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
  }

  send(family: Family, data: Buffer, dst: string, src?: string): number {
    const s = this.sockets.get(family);
    if (!s) return -1;
    return s.send(data, dst, src);
  }

  sendFrame(frame: Buffer): number {
    return vrrpNative().sendFrame(this.ifindex, frame);
  }

  private packet(p: Arrival): void {
    const a = this.receiver.receive(p);
    if (a) this.onAccepted(a, this);
  }
}
