// The native generic netlink socket (native/src/ipvs_addon.cc), with its requests queued one at a time.
import { nativeModule } from '../net/native';

export interface FamilyReply {
  error: number;
  message: string;
  id: number;
  version: number;
  maxAttr: number;
}

export interface ExchangeReply {
  /** The data messages of every request, concatenated. */
  data: Buffer;
  /** Per request: where its messages are in data, its errno (0 = success) and extended ACK text. */
  offsets: Uint32Array;
  lengths: Uint32Array;
  errors: Int32Array;
  messages: string[];
}

export interface BatchReply {
  /** Per message: errno (0 = done) and, for failures, the extended ACK text. */
  errors: Int32Array;
  messages: (string | undefined)[];
  /** sendmsg calls made. */
  sends: number;
}

interface NativeGenlSocket {
  resolveFamily(name: string): Promise<FamilyReply>;
  exchange(messages: Buffer): Promise<ExchangeReply>;
  batch(messages: Buffer, window?: number): Promise<BatchReply>;
  close(): void;
  readonly portId: number;
  readonly busy: boolean;
}

interface NativeIpvs {
  GenlSocket: new (timeoutMs?: number, netnsPath?: string) => NativeGenlSocket;
}

/** A NETLINK_GENERIC socket whose I/O runs on libuv's thread pool; calls are serialised. */
export class GenlTransport {
  private readonly sock: NativeGenlSocket;
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  /** `netnsPath`: open the socket in that network namespace (e.g. /run/netns/NAME). */
  constructor(timeoutMs = 30000, netnsPath?: string) {
    const mod = nativeModule<NativeIpvs>('ipvs');
    this.sock = new mod.GenlSocket(timeoutMs, netnsPath);
  }

  get portId(): number {
    return this.sock.portId;
  }

  private queue<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('netlink socket closed'));
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  resolveFamily(name: string): Promise<FamilyReply> {
    return this.queue(() => this.sock.resolveFamily(name));
  }

  /** Sends the requests one after the other, collecting each one's replies (dumps included). */
  exchange(messages: Buffer): Promise<ExchangeReply> {
    return this.queue(() => this.sock.exchange(messages));
  }

  /** Sends the requests pipelined, `window` per sendmsg; one errno per request. */
  batch(messages: Buffer, window?: number): Promise<BatchReply> {
    return this.queue(() => this.sock.batch(messages, window));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.close();
  }
}
