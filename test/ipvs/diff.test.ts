// diff(current, desired): minimal, ordered, in place, never a flush.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  diff,
  DiffError,
  fwmark,
  ip,
  makeDestination,
  makeService,
  port,
  type ServiceKey,
  type VirtualService,
} from '../../src/ipvs';

const key = (a: string, p = 80): ServiceKey => ({ protocol: 'tcp', address: ip(a), port: port(p) });
const vs = (k: ServiceKey, dests: string[], scheduler = 'rr'): VirtualService => ({
  ...makeService(k, { scheduler }),
  destinations: dests.map((d) => makeDestination(ip(d), port(80))),
});

test('same tables: no operation', () => {
  const t = [vs(key('10.0.0.1'), ['192.168.0.1', '192.168.0.2'])];
  assert.deepEqual(diff(t, structuredClone(t)), []);
  assert.deepEqual(diff([], []), []);
});

test('from empty: each service followed by its real servers', () => {
  const ops = diff(
    [],
    [vs(key('10.0.0.1'), ['192.168.0.1', '192.168.0.2']), vs(key('10.0.0.2'), ['192.168.0.3'])],
  );
  assert.deepEqual(
    ops.map((o) => o.op),
    ['add-service', 'add-destination', 'add-destination', 'add-service', 'add-destination'],
  );
});

test('changed settings are edited in place, never deleted and re-added', () => {
  const cur = [vs(key('10.0.0.1'), ['192.168.0.1', '192.168.0.2'])];
  const want: VirtualService[] = [
    {
      ...vs(key('10.0.0.1'), [], 'wlc'),
      flags: { persistent: true, onePacket: false, sched1: false, sched2: false, sched3: false },
      timeout: 300,
      destinations: [
        makeDestination(ip('192.168.0.1'), port(80), { weight: 5 }),
        makeDestination(ip('192.168.0.2'), port(80), {
          forward: { method: 'tunnel', tunnel: { type: 'gue', port: port(6080), checksum: 'csum' } },
        }),
      ],
    },
  ];
  const ops = diff(cur, want);
  assert.deepEqual(
    ops.map((o) => o.op),
    ['edit-service', 'edit-destination', 'edit-destination'],
  );
  const edit = ops[0];
  assert.ok(edit.op === 'edit-service' && edit.service.scheduler === 'wlc' && edit.service.timeout === 300);
});

test('order: adds and edits before removals, removed services last, no real server removal inside them', () => {
  const cur = [vs(key('10.0.0.1'), ['192.168.0.1', '192.168.0.2']), vs(key('10.0.0.9'), ['192.168.0.9'])];
  const want = [vs(key('10.0.0.1'), ['192.168.0.2', '192.168.0.3']), vs(key('10.0.0.5'), [])];
  const ops = diff(cur, want);
  assert.deepEqual(
    ops.map((o) => o.op),
    ['add-service', 'add-destination', 'delete-destination', 'delete-service'],
  );
  const del = ops.find((o) => o.op === 'delete-destination');
  assert.ok(del && del.op === 'delete-destination' && del.address === '192.168.0.1');
  const dsvc = ops[ops.length - 1];
  assert.ok(dsvc.op === 'delete-service' && dsvc.key.protocol === 'tcp' && dsvc.key.address === '10.0.0.9');
  assert.ok(!ops.some((o) => o.op === 'flush'));
});

test('identity: protocol, family and fwmark distinguish services; address and port real servers', () => {
  const f4: ServiceKey = { protocol: 'fwmark', family: 'inet', fwmark: fwmark(1) };
  const f6: ServiceKey = { protocol: 'fwmark', family: 'inet6', fwmark: fwmark(1) };
  const u: ServiceKey = { protocol: 'udp', address: ip('10.0.0.1'), port: port(80) };
  const ops = diff([vs(f4, []), vs(key('10.0.0.1'), [])], [vs(f6, []), vs(u, []), vs(key('10.0.0.1'), [])]);
  assert.deepEqual(
    ops.map((o) => o.op),
    ['add-service', 'add-service', 'delete-service'],
  );
  const d = diff(
    [vs(key('10.0.0.1'), ['192.168.0.1'])],
    [{ ...vs(key('10.0.0.1'), []), destinations: [makeDestination(ip('192.168.0.1'), port(81))] }],
  );
  assert.deepEqual(
    d.map((o) => o.op),
    ['add-destination', 'delete-destination'],
  );
});

test('statistics and read-only fields are not differences', () => {
  const cur = [vs(key('10.0.0.1'), ['192.168.0.1'])].map((s) => ({
    ...s,
    hashed: true,
    stats: { conns: 5 },
    destinations: s.destinations.map((d) => ({ ...d, activeConns: 3, stats: { conns: 2 } })),
  }));
  assert.deepEqual(diff(cur, [vs(key('10.0.0.1'), ['192.168.0.1'])]), []);
});

test('duplicates in a table are refused', () => {
  assert.throws(() => diff([], [vs(key('10.0.0.1'), []), vs(key('10.0.0.1'), [])]), DiffError);
  assert.throws(
    () => diff([], [vs(key('10.0.0.1'), ['192.168.0.1', '192.168.0.1'])]),
    /duplicate real server/,
  );
});
