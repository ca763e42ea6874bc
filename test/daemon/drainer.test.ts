import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Drainer } from '../../src/daemon/drainer';
import { ip, makeDestination, port } from '../../src/ipvs';

const VS = 'TCP 198.51.100.1:80';

test('a drain holds weight 0 until the active connections reach 0, then takes the server out', () => {
  let now = 1000;
  const d = new Drainer(30_000, () => now);
  d.drain(VS, '203.0.113.1:80', false);
  assert.equal(d.state(VS, '203.0.113.1:80'), 'draining');
  assert.equal(d.state(VS, '203.0.113.2:80'), 'none');
  assert.equal(
    d.tick(() => 3),
    false,
  );
  assert.equal(d.state(VS, '203.0.113.1:80'), 'draining');
  now += 1000;
  assert.equal(
    d.tick(() => 0),
    true,
  );
  assert.equal(d.state(VS, '203.0.113.1:80'), 'drained');
  assert.deepEqual(d.waiting(), []);
  assert.equal(d.undrain(VS, '203.0.113.1:80'), true);
  assert.equal(d.state(VS, '203.0.113.1:80'), 'none');
});

test('the drain timeout ends the wait even with connections left; UDP drains at once', () => {
  let now = 0;
  const d = new Drainer(5000, () => now);
  d.drain(VS, '203.0.113.1:80', false);
  d.drain('UDP 198.51.100.1:53', '203.0.113.1:53', true);
  assert.equal(d.state('UDP 198.51.100.1:53', '203.0.113.1:53'), 'drained');
  now = 4999;
  assert.equal(
    d.tick(() => 7),
    false,
  );
  now = 5000;
  assert.equal(
    d.tick(() => 7),
    true,
  );
  assert.equal(d.state(VS, '203.0.113.1:80'), 'drained');
});

test('a server leaving the configuration is programmed at weight 0 until drained, then forgotten', () => {
  const d = new Drainer(30_000, () => 0);
  const dest = makeDestination(ip('203.0.113.9'), port(80), { weight: 4 });
  d.leave(VS, dest, false);
  assert.deepEqual(d.leaving(VS), [dest]);
  assert.equal(d.state(VS, '203.0.113.9:80'), 'draining');
  assert.deepEqual(
    d.list().map((x) => [x.server, x.state, x.leavingConfig]),
    [['203.0.113.9:80', 'draining', true]],
  );
  d.tick(() => undefined); // gone from the kernel: nothing to wait for
  assert.deepEqual(d.leaving(VS), []);
  assert.equal(d.state(VS, '203.0.113.9:80'), 'none');
  assert.deepEqual(d.list(), []);
});
