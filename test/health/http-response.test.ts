import { test, describe } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { HttpResponseParser, Parse, ResponseWants } from '../../src/health/http-response';

const wants = (w: Partial<ResponseWants> = {}): ResponseWants => ({
  maxBody: 1 << 20,
  digest: true,
  body: true,
  weightHeader: 'x-lbd-weight',
  ...w,
});
const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

/** Feeds a response in pieces of `step` bytes; returns the parser and the last result. */
function feed(raw: string, step: number, w = wants(), close = false): [HttpResponseParser, Parse] {
  const p = new HttpResponseParser(w);
  const buf = Buffer.from(raw, 'latin1');
  let r = Parse.More;
  for (let i = 0; i < buf.length && r === Parse.More; i += step) r = p.push(buf.subarray(i, i + step));
  if (close && r === Parse.More) r = p.end();
  return [p, r];
}

describe('HTTP response parser', () => {
  for (const step of [1, 7, 100000]) {
    test(`Content-Length body, fed ${step} bytes at a time`, () => {
      const [p, r] = feed('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-LBD-Weight: 42\r\n\r\nhello', step);
      assert.equal(r, Parse.Done);
      assert.equal(p.status, 200);
      assert.equal(p.digest(), md5('hello'));
      assert.equal(p.body(), 'hello');
      assert.equal(p.weightHeader, '42');
    });

    test(`chunked body with extensions and trailer, fed ${step} bytes at a time`, () => {
      const raw =
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nhell\r\n1\r\no\r\n0\r\nTrailer: 1\r\n\r\n';
      const [p, r] = feed(raw, step);
      assert.equal(r, Parse.Done);
      assert.equal(p.body(), 'hello');
      assert.equal(p.digest(), md5('hello'));
    });

    test(`close-delimited body (HTTP/1.0), fed ${step} bytes at a time`, () => {
      const [p, r] = feed('HTTP/1.0 503 Busy\r\nServer: x\r\n\r\nbusy body', step, wants(), true);
      assert.equal(r, Parse.Done);
      assert.equal(p.status, 503);
      assert.equal(p.body(), 'busy body');
    });
  }

  test('body larger than max_body_size fails, by Content-Length or while streaming', () => {
    const [p1, r1] = feed('HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n', 100, wants({ maxBody: 10 }));
    assert.equal(r1, Parse.Error);
    assert.equal(p1.error, 'body too large');
    const [p2, r2] = feed(`HTTP/1.0 200 OK\r\n\r\n${'x'.repeat(11)}`, 3, wants({ maxBody: 10 }));
    assert.equal(r2, Parse.Error);
    assert.equal(p2.error, 'body too large');
    const [p3, r3] = feed(
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nff\r\n',
      100,
      wants({ maxBody: 10 }),
    );
    assert.equal(r3, Parse.Error);
    assert.equal(p3.error, 'body too large');
  });

  test('truncated, malformed and oversized responses fail with a reason', () => {
    const cases: [string, string][] = [
      ['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc', 'truncated response'],
      ['HTTP/1.1 200 OK\r\nContent-Le', 'no response'],
      ['', 'no response'],
      ['SSH-2.0-OpenSSH\r\n\r\n', 'bad status line'],
      ['HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n', 'bad content-length'],
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'bad chunked encoding'],
      [`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(20000)}`, 'headers too large'],
    ];
    for (const [raw, reason] of cases) {
      const [p, r] = feed(raw, 1000, wants(), true);
      assert.equal(r, Parse.Error, raw.slice(0, 40));
      assert.equal(p.error, reason, raw.slice(0, 40));
    }
  });

  test('status line and header rules: names trimmed and case-insensitive, lines without a name skipped', () => {
    const raw =
      'HTTP/1.0 200\r\nno colon\r\n: 7\r\n \tCONTENT-length\xa0 :\x0b 3 \r\nX-Lbd-Weight :  9 \r\n' +
      'X-Content-Length: 99\r\n\r\nabcdef';
    for (const step of [1, 1000]) {
      const [p, r] = feed(raw, step);
      assert.equal(r, Parse.Done);
      assert.equal(p.status, 200);
      assert.equal(p.body(), 'abc');
      assert.equal(p.weightHeader, '9');
    }
    const statusLines: [string, number][] = [
      ['HTTP/1.1 503 Busy', 503],
      ['HTTP/1.0 404', 404],
      ['HTTP/1.2 200 OK', 0],
      ['HTTP/1.1 2000 OK', 0],
      ['HTTP/1.1 20 OK', 0],
      ['http/1.1 200 OK', 0],
      ['HTTP/1.1 200\tOK', 0],
    ];
    for (const [line, status] of statusLines) {
      const [p, r] = feed(`${line}\r\nContent-Length: 0\r\n\r\n`, 1000);
      assert.equal(r, status === 0 ? Parse.Error : Parse.Done, line);
      assert.equal(p.status, status, line);
    }
  });

  test('204 and 304 have no body; digest of an empty body', () => {
    const [p, r] = feed('HTTP/1.1 204 No Content\r\n\r\n', 100);
    assert.equal(r, Parse.Done);
    assert.equal(p.digest(), md5(''));
  });
});
