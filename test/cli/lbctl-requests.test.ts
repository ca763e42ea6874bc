// lbctl's requests against the bytes the real ipvsadm sent: each mutating command captured from ipvsadm
// (test/ipvs/fixtures), parsed by lbctl's command line and written by the shared encoder that lbctl's
// kernel side uses, is byte-identical to ipvsadm's request.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { IpvsEncoder } from '../../src/ipvs/codec';
import { MessageWriter } from '../../src/ipvs/netlink';
import { parseCommand } from '../../src/cli/ipvsadm/parse';
import { operationOf } from '../../src/cli/ipvsadm/ops';
import { FIXTURES, familyIdOf, ipvsRequests, readCapture } from '../ipvs/strace';

const names = fs
  .readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.strace'))
  .map((f) => f.slice(0, -'.strace'.length))
  .sort();

test('the fixtures hold mutating commands of every kind', async () => {
  const kinds = new Set<string>();
  for (const name of names) {
    const cap = readCapture(name);
    const op = operationOf(await parseCommand('ipvsadm', cap.command.split(' ').slice(1)));
    if (op !== null) kinds.add(op.op);
  }
  assert.deepEqual([...kinds].sort(), [
    'add-destination',
    'add-service',
    'delete-destination',
    'delete-service',
    'edit-destination',
    'edit-service',
    'flush',
    'set-timeouts',
    'start-daemon',
    'stop-daemon',
    'zero',
  ]);
});

for (const name of names) {
  test(`lbctl's request for '${name}' is byte-identical to ipvsadm's`, async () => {
    const cap = readCapture(name);
    const op = operationOf(await parseCommand('ipvsadm', cap.command.split(' ').slice(1)));
    if (op === null) return; // a listing: its requests are compared by the kernel tests' outputs
    const w = new MessageWriter();
    new IpvsEncoder(familyIdOf(cap)).operation(w, op);
    const reqs = ipvsRequests(cap);
    // ipvsadm first asks GET_INFO, then sends the operation.
    assert.equal(w.take().toString('hex'), reqs[reqs.length - 1].toString('hex'), cap.command);
  });
}
