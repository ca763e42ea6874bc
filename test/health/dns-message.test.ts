import { test, describe } from 'node:test';
import * as assert from 'node:assert/strict';
import { buildQuery, checkResponse, encodeName } from '../../src/health/dns-message';

/** A response to `query` with the given answers (type codes), rcode and flags. */
function answer(query: Buffer, types: number[], rcode = 0, tc = false): Buffer {
  const h = Buffer.from(query.subarray(0, 12));
  h[2] = 0x81 | (tc ? 0x02 : 0);
  h[3] = 0x80 | rcode;
  h.writeUInt16BE(types.length, 6);
  const rrs = types.map((t) => {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0); // pointer to the question name
    rr.writeUInt16BE(t, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(60, 6);
    rr.writeUInt16BE(4, 10);
    rr.set([127, 0, 0, 1], 12);
    return rr;
  });
  return Buffer.concat([h, query.subarray(12), ...rrs]);
}

describe('DNS messages', () => {
  test('names encode to labels; the root is one zero byte', () => {
    assert.deepEqual([...encodeName('.')], [0]);
    assert.deepEqual([...encodeName('ab.c')], [2, 97, 98, 1, 99, 0]);
    assert.deepEqual([...encodeName('ab.c.')], [2, 97, 98, 1, 99, 0]);
  });

  test('a query has the id, RD, one question of the type, class IN', () => {
    const q = buildQuery(0x1234, 'x.test', 'AAAA');
    assert.equal(q.readUInt16BE(0), 0x1234);
    assert.equal(q.readUInt16BE(2), 0x0100);
    assert.equal(q.readUInt16BE(4), 1);
    assert.equal(q.readUInt16BE(q.length - 4), 28);
    assert.equal(q.readUInt16BE(q.length - 2), 1);
  });

  test('responses: answer of the type, no answer, other type, rcode, truncated, not ours', () => {
    const q = buildQuery(7, 'x.test', 'A');
    assert.equal(checkResponse(answer(q, [1]), 7, 'A'), '');
    assert.equal(checkResponse(answer(q, [5, 1]), 7, 'A'), '');
    assert.equal(checkResponse(answer(q, []), 7, 'A'), 'no answer');
    assert.equal(checkResponse(answer(q, [28]), 7, 'A'), 'no answer');
    assert.equal(checkResponse(answer(q, [], 3), 7, 'A'), 'rcode 3');
    assert.equal(checkResponse(answer(q, [1], 0, true), 7, 'A'), 'truncated');
    assert.equal(checkResponse(answer(q, [1]), 8, 'A'), null);
    assert.equal(checkResponse(q, 7, 'A'), null); // a query, not a response
    assert.equal(checkResponse(answer(q, [1]).subarray(0, 30), 7, 'A'), 'malformed response');
  });
});
