import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { validateConfigText } from '../../src/config/load';
import type { Config } from '../../src/config/model';
import { desiredTable, type HealthView, type ServerDecision } from '../../src/daemon/desired-table';
import { ip, makeDestination, port, tableRules } from '../../src/ipvs';

const root = path.resolve(__dirname, '..', '..', '..');

function load(file: string): Config {
  const r = validateConfigText(file, fs.readFileSync(file, 'utf8'), { hostChecks: 'off' });
  assert.ok(r.config, r.diagnostics.map((d) => d.message).join('\n'));
  return r.config;
}

function health(decisions: Record<string, ServerDecision> = {}, lost: string[] = []): HealthView {
  return { server: (vs, server) => decisions[`${vs} ${server}`], quorumLost: (vs) => lost.includes(vs) };
}

/** The table as ipvsadm -Sn lines: the operator's view, and exact. */
function rules(config: Config, view: HealthView, drains?: Parameters<typeof desiredTable>[2]): string[] {
  return tableRules(desiredTable(config, view, drains));
}

test('the keepalived LVS-DR reference: wrr, direct routing, configured weights until the checker decides', () => {
  const config = load(path.join(root, '..', 'shared', 'reference', 'keepalived-lvs-dr.conf'));
  assert.deepEqual(rules(config, health()), [
    '-A -t 192.168.4.15:80 -s wrr',
    '-a -t 192.168.4.15:80 -r 192.168.4.100:80 -g -w 1',
    '-a -t 192.168.4.15:80 -r 192.168.4.200:80 -g -w 2',
  ]);
  const vs = 'TCP 192.168.4.15:80';
  const view = health({
    [`${vs} 192.168.4.100:80`]: { present: false, weight: 0 },
    [`${vs} 192.168.4.200:80`]: { present: true, weight: 0 },
  });
  assert.deepEqual(rules(config, view), [
    '-A -t 192.168.4.15:80 -s wrr',
    '-a -t 192.168.4.15:80 -r 192.168.4.200:80 -g -w 0',
  ]);
});

test('groups expand to one service per address and fwmark; flags, persistence, tunnels and sorry server map over', () => {
  const config = load(path.join(root, 'test', 'daemon', 'fixtures', 'groups-tun-nat.conf'));
  const tun = '-i -w 3 --tun-type gue --tun-port 6080 --tun-csum';
  const svc = (k: string) => `-A ${k} -s sh -p 300 -M 255.255.255.0 -b sh-fallback,sh-port`;
  assert.deepEqual(rules(config, health()), [
    svc('-t 198.51.100.1:80'),
    `-a -t 198.51.100.1:80 -r 203.0.113.10:80 ${tun}`,
    svc('-t 198.51.100.2:80'),
    `-a -t 198.51.100.2:80 -r 203.0.113.10:80 ${tun}`,
    svc('-t 198.51.100.3:80'),
    `-a -t 198.51.100.3:80 -r 203.0.113.10:80 ${tun}`,
    svc('-f 7'),
    `-a -f 7 -r 203.0.113.10:80 ${tun}`,
    '-A -u [2001:db8::100]:53 -s rr -o',
    '-a -u [2001:db8::100]:53 -r [2001:db8::10]:53 -m -w 1',
  ]);
  // Thresholds (ipvsadm -S does not print them).
  const d = desiredTable(config, health())[0].destinations[0];
  assert.deepEqual([d.upperThreshold, d.lowerThreshold], [100, 10]);
  // Quorum lost: the sorry server joins every service of the group.
  const lost = rules(
    config,
    health({ 'GROUP WEB TCP 203.0.113.10:80': { present: false, weight: 0 } }, ['GROUP WEB TCP']),
  );
  assert.deepEqual(
    lost.filter((l) => l.includes('198.51.100.1:80')),
    [
      svc('-t 198.51.100.1:80'),
      '-a -t 198.51.100.1:80 -r 203.0.113.99:8080 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum',
    ],
  );
});

test('drains: a draining server keeps its place at weight 0, a server leaving the config stays at 0 until gone', () => {
  const config = load(path.join(root, '..', 'shared', 'reference', 'keepalived-lvs-dr.conf'));
  const vs = 'TCP 192.168.4.15:80';
  const leaving = makeDestination(ip('192.168.4.50'), port(80), { weight: 5 });
  const drains = {
    state: (v: string, s: string) =>
      (v === vs && s === '192.168.4.200:80' ? 'draining' : 'none') as 'draining' | 'none',
    leaving: (v: string) => (v === vs ? [leaving] : []),
  };
  assert.deepEqual(rules(config, health(), drains), [
    '-A -t 192.168.4.15:80 -s wrr',
    '-a -t 192.168.4.15:80 -r 192.168.4.100:80 -g -w 1',
    '-a -t 192.168.4.15:80 -r 192.168.4.200:80 -g -w 0',
    '-a -t 192.168.4.15:80 -r 192.168.4.50:80 -g -w 0',
  ]);
  const drained = {
    state: (v: string, s: string) =>
      (v === vs && s === '192.168.4.200:80' ? 'drained' : 'none') as 'drained' | 'none',
    leaving: () => [],
  };
  assert.deepEqual(rules(config, health(), drained), [
    '-A -t 192.168.4.15:80 -s wrr',
    '-a -t 192.168.4.15:80 -r 192.168.4.100:80 -g -w 1',
  ]);
});
