/**
 * DNS_CHECK: sends a query (type, default SOA; name, default '.') over UDP to connect_ip:connect_port
 * and is healthy when a response with the query's id holds at least one answer of the queried type.
 * Datagrams that are not responses to the query are ignored (the deadline still bounds the attempt).
 */
import * as dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import { CheckSpec, DnsSpec } from './config';
import { buildQuery, checkResponse } from './dns-message';
import { Probe, ProbeSink, NO_WEIGHT, errorReason } from './probe';

export class DnsProbe implements Probe {
  private readonly dns: DnsSpec;
  private sock: dgram.Socket | null = null;

  constructor(
    private readonly spec: CheckSpec,
    private readonly sink: ProbeSink,
  ) {
    this.dns = spec.dns as DnsSpec;
  }

  start(): void {
    const spec = this.spec;
    const id = randomInt(0, 65536);
    const query = buildQuery(id, this.dns.name, this.dns.type);
    const s = dgram.createSocket(isIP(spec.ip) === 6 ? 'udp6' : 'udp4');
    this.sock = s;
    s.on('error', (err) => {
      if (s === this.sock) this.finish(false, errorReason(err));
    });
    s.on('message', (msg: Buffer) => {
      if (s !== this.sock) return;
      const verdict = checkResponse(msg, id, this.dns.type);
      if (verdict === null) return;
      this.finish(verdict === '', verdict === '' ? `answer ${this.dns.type}` : verdict);
    });
    const send = (): void => {
      s.connect(spec.port, spec.ip, () => {
        if (s === this.sock) s.send(query);
      });
    };
    if (spec.bindto !== undefined || spec.bindPort !== undefined) {
      s.bind({ address: spec.bindto, port: spec.bindPort ?? 0, exclusive: true }, send);
    } else send();
  }

  abort(): void {
    const s = this.sock;
    this.sock = null;
    if (s !== null) s.close();
  }

  private finish(ok: boolean, reason: string): void {
    this.abort();
    this.sink.probeResult(ok, reason, NO_WEIGHT);
  }
}
