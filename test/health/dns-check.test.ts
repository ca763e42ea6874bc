import { test, describe } from 'node:test';
import * as assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { DnsCheckConfig } from '../../src/health';
import { checker } from './helpers';

const LATE = 400;
type Mode = 'answer' | 'nxdomain' | 'empty' | 'other-type' | 'silent' | 'wrong-id';

/** A small DNS responder for the tests: records the questions it gets and answers according to `mode`. */
async function responder(
  t: { after: (fn: () => void) => void },
  family: 'udp4' | 'udp6' = 'udp4',
): Promise<{
  port: number;
  mode: Mode;
  questions: { name: string; type: number; from: string; port: number }[];
}> {
  const sock = dgram.createSocket(family);
  const state = {
    port: 0,
    mode: 'answer' as Mode,
    questions: [] as { name: string; type: number; from: string; port: number }[],
  };
  sock.on('message', (msg, rinfo) => {
    const labels: string[] = [];
    let off = 12;
    while (msg[off] !== 0) {
      labels.push(msg.toString('ascii', off + 1, off + 1 + msg[off]));
      off += 1 + msg[off];
    }
    const qend = off + 5;
    const type = msg.readUInt16BE(off + 1);
    state.questions.push({ name: labels.join('.') || '.', type, from: rinfo.address, port: rinfo.port });
    if (state.mode === 'silent') return;
    const header = Buffer.from(msg.subarray(0, 12));
    if (state.mode === 'wrong-id') header.writeUInt16BE((header.readUInt16BE(0) + 1) & 0xffff, 0);
    header[2] = 0x85; // QR, AA, RD
    header[3] = state.mode === 'nxdomain' ? 0x83 : 0x80;
    const answers = state.mode === 'answer' || state.mode === 'other-type' ? 1 : 0;
    header.writeUInt16BE(answers, 6);
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0);
    rr.writeUInt16BE(state.mode === 'other-type' ? (type === 1 ? 28 : 1) : type, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(30, 6);
    rr.writeUInt16BE(4, 10);
    rr.set([127, 0, 0, 1], 12);
    sock.send(
      Buffer.concat([header, msg.subarray(12, qend), answers ? rr : Buffer.alloc(0)]),
      rinfo.port,
      rinfo.address,
    );
  });
  await new Promise<void>((r) => sock.bind(0, family === 'udp4' ? '127.0.0.1' : '::1', () => r()));
  state.port = sock.address().port;
  t.after(() => sock.close());
  return state;
}

async function firstTransition(
  t: { after: (fn: () => void) => void },
  port: number,
  check: Omit<DnsCheckConfig, 'checker'>,
  expectUp: boolean,
  ip = '127.0.0.1',
): Promise<{ reason: string; ms: number }> {
  const { hc, rec } = checker({ random: () => 0 });
  t.after(() => hc.close());
  hc.setVirtualService({
    id: 'vs',
    alpha: expectUp,
    real_servers: [
      { ip, port, checks: [{ checker: 'DNS_CHECK', delay_loop: 5, retry: 0, connect_timeout: 1, ...check }] },
    ],
  });
  const e = await rec.transition(ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`, 1, 6000);
  assert.equal(e.up, expectUp, `expected ${expectUp ? 'up' : 'down'}, got ${e.reason}`);
  hc.close();
  return { reason: e.reason, ms: e.t };
}

describe('DNS_CHECK', () => {
  test('default query: SOA for the root; healthy with an answer', async (t) => {
    const dns = await responder(t);
    assert.equal((await firstTransition(t, dns.port, {}, true)).reason, 'answer SOA');
    assert.deepEqual(
      dns.questions.map((q) => [q.name, q.type]),
      [['.', 6]],
    );
  });

  test('type and name are sent as configured', async (t) => {
    const dns = await responder(t);
    await firstTransition(t, dns.port, { type: 'A', name: 'www.example.test' }, true);
    await firstTransition(t, dns.port, { type: 'AAAA', name: 'v6.test' }, true);
    await firstTransition(t, dns.port, { type: 'MX', name: 'mail.test.' }, true);
    assert.deepEqual(
      dns.questions.map((q) => [q.name, q.type]),
      [
        ['www.example.test', 1],
        ['v6.test', 28],
        ['mail.test', 15],
      ],
    );
  });

  test('an answer is required: NXDOMAIN, no answer, answers of another type fail', async (t) => {
    const dns = await responder(t);
    dns.mode = 'nxdomain';
    assert.equal(
      (await firstTransition(t, dns.port, { type: 'A', name: 'x.test' }, false)).reason,
      'rcode 3',
    );
    dns.mode = 'empty';
    assert.equal(
      (await firstTransition(t, dns.port, { type: 'A', name: 'x.test' }, false)).reason,
      'no answer',
    );
    dns.mode = 'other-type';
    assert.equal(
      (await firstTransition(t, dns.port, { type: 'A', name: 'x.test' }, false)).reason,
      'no answer',
    );
  });

  test('silence or responses with another id time out at connect_timeout', async (t) => {
    const dns = await responder(t);
    dns.mode = 'silent';
    const r = await firstTransition(t, dns.port, { connect_timeout: 0.3 }, false);
    assert.equal(r.reason, 'timeout');
    assert.ok(r.ms >= 295 && r.ms <= 300 + LATE, `timeout after ${r.ms} ms`);
    dns.mode = 'wrong-id';
    assert.equal((await firstTransition(t, dns.port, { connect_timeout: 0.3 }, false)).reason, 'timeout');
  });

  test('a closed port is refused (ICMP port unreachable)', async (t) => {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const closed = s.address().port;
    s.close();
    assert.equal((await firstTransition(t, closed, {}, false)).reason, 'refused');
  });

  test('bindto and bind_port set the source of the query', async (t) => {
    const dns = await responder(t);
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.5', () => r()));
    const free = s.address().port;
    s.close();
    await firstTransition(t, dns.port, { bindto: '127.0.0.5', bind_port: free }, true);
    assert.deepEqual([dns.questions[0].from, dns.questions[0].port], ['127.0.0.5', free]);
  });

  test('IPv6 loopback', async (t) => {
    const dns = await responder(t, 'udp6');
    await firstTransition(t, dns.port, { type: 'A', name: 'x.test' }, true, '::1');
  });
});
