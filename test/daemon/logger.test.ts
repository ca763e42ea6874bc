import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Logs } from '../../src/daemon/logger';

function sink(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, stream };
}

test('JSON lines with time, level label, subsystem and message; a level per subsystem', () => {
  const { lines, stream } = sink();
  const logs = new Logs({ level: 'info', levels: { vrrp: 'debug' }, destination: stream });
  logs.for('vrrp').debug({ instance: 'VI_1', state: 'MASTER' }, 'transition');
  logs.for('health').debug('not shown: health is at info');
  logs.for('health').warn({ server: '192.0.2.10:80', reason: 'refused' }, 'real server down');
  assert.equal(lines.length, 2);
  assert.equal(lines[0].level, 'debug');
  assert.equal(lines[0].subsystem, 'vrrp');
  assert.equal(lines[0].msg, 'transition');
  assert.equal(lines[0].instance, 'VI_1');
  assert.match(String(lines[0].time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(lines[1].subsystem, 'health');
  assert.equal(lines[1].reason, 'refused');
  logs.setLevels('warn', { health: 'debug' });
  logs.for('health').debug('now shown');
  logs.for('vrrp').info('now hidden');
  assert.equal(lines.length, 3);
  assert.equal(lines[2].msg, 'now shown');
});

test('secrets are never logged, at any depth', () => {
  const { lines, stream } = sink();
  const logs = new Logs({ level: 'info', destination: stream });
  logs.for('config').info(
    {
      instance: { name: 'VI_1', authentication: { auth_type: 'PASS', auth_pass: 's3cret' } },
      vrrp: { instances: [{ authPass: 'x' }] },
      password: 'p',
    },
    'loaded',
  );
  const text = JSON.stringify(lines[0]);
  assert.ok(!text.includes('s3cret') && !text.includes('"p"'), text);
  assert.equal(
    (lines[0].instance as { authentication: { auth_pass: string } }).authentication.auth_pass,
    '[redacted]',
  );
  assert.equal(lines[0].password, '[redacted]');
});
