// Differential tests of lbctl against the real ipvsadm 1.31, in the guest (real IPVS): random tables
// (many seeds) written by ipvsadm and listed by both in every mode, byte for byte; round trips of
// -S/-R both ways; the same bad command lines and kernel errors give the same message and status.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  canonicalRules,
  ipvsadm,
  ipvsadmListings,
  ipvsadmMany,
  jsonToRules,
  lbctl,
  randomRules,
  type RunResult,
} from './lbctl-support';

const SEEDS = Number(process.env.LBCTL_SEEDS ?? 8);
const SERVICES = Number(process.env.LBCTL_SERVICES ?? 50);

const LIST_MODES: string[][] = [
  ['-Ln'],
  ['-Ln', '--exact'],
  ['-Ln', '--stats'],
  ['-Ln', '--stats', '--exact'],
  ['-Ln', '--rate'],
  ['-Ln', '--rate', '--exact'],
  ['-Ln', '--thresholds'],
  ['-Ln', '--persistent-conn'],
  ['-Ln', '--tun-info'],
  ['-Ln', '--sort'],
  ['-Ln', '--nosort'],
  ['-Ln', '--nosort', '--tun-info'],
  ['-l', '-n', '--stats', '--rate'],
  ['-Ln', '--thresholds', '--persistent-conn', '--tun-info'],
  ['-Sn'],
  ['-S', '-n'],
  ['-L', '--daemon'],
  ['-Lnc'],
  ['-Lnc', '--persistent-conn'],
  ['--list', '--numeric', '--exact', '--stats'],
];
const NAMED_MODES: string[][] = [['-L'], ['-S'], ['-L', '--stats'], ['-L', '--tun-info'], []];

function diff(what: string, a: RunResult, b: RunResult): string | null {
  if (a.code === b.code && a.stdout === b.stdout && a.stderr === b.stderr) return null;
  const al = a.stdout.split('\n');
  const bl = b.stdout.split('\n');
  let i = 0;
  while (i < al.length && al[i] === bl[i]) i++;
  return (
    `${what}: ipvsadm exit ${a.code}, lbctl exit ${b.code}\n` +
    (a.stderr !== b.stderr
      ? `  stderr ipvsadm ${JSON.stringify(a.stderr)}\n  stderr lbctl   ${JSON.stringify(b.stderr)}\n`
      : '') +
    (a.stdout !== b.stdout
      ? `  first stdout difference at line ${i + 1}:\n  ipvsadm ${JSON.stringify(al[i])}\n  lbctl   ${JSON.stringify(bl[i])}\n`
      : '')
  );
}

/** Lists of the current table: the first service of each kind, for -L -t/-u/-f. */
function someServices(saved: string): string[][] {
  const out: string[][] = [];
  const seen = new Set<string>();
  for (const line of saved.split('\n')) {
    const m = /^-A (-t|-u|--sctp-service|-f) (\S+)( -6)?/.exec(line);
    if (!m) continue;
    const k = m[1] + (m[3] ?? '') + (m[2].startsWith('[') ? '6' : '4');
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(['-Ln', m[1], m[2], ...(m[3] ? ['-6'] : [])]);
    out.push(['-L', '-n', '--stats', '--exact', m[1], m[2], ...(m[3] ? ['-6'] : [])]);
  }
  return out;
}

test('random tables: every listing mode byte for byte, for many seeds', { timeout: 600_000 }, async () => {
  const problems: string[] = [];
  let compared = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    ipvsadm(['-C']);
    const rules = randomRules(seed, SERVICES);
    ipvsadm(['-R'], rules);
    const saved = ipvsadm(['-Sn']).stdout;
    assert.ok(
      saved.split('\n').length > SERVICES * 2,
      `seed ${seed}: a table of ${saved.split('\n').length} rules`,
    );
    const modes = [
      ...LIST_MODES,
      ...someServices(saved),
      ...(seed <= 2 ? NAMED_MODES.filter((m) => m.length > 0) : []),
    ];
    const theirs = ipvsadmListings(modes);
    for (let i = 0; i < modes.length; i++) {
      const mine = await lbctl(modes[i]);
      compared++;
      const d = diff(
        `seed ${seed}: ipvsadm ${modes[i].join(' ')}`,
        { code: 0, stdout: theirs[i], stderr: '' },
        mine,
      );
      if (d !== null) problems.push(d);
    }
  }
  ipvsadm(['-C']);
  assert.ok(compared > SEEDS * LIST_MODES.length);
  assert.equal(
    problems.length,
    0,
    `${problems.length} of ${compared} listings differ:\n${problems.slice(0, 12).join('\n')}`,
  );
});

test(
  'round trips: ipvsadm -Sn | lbctl -R and lbctl -Sn | ipvsadm -R reproduce the table',
  { timeout: 300_000 },
  async () => {
    for (let seed = 100; seed < 104; seed++) {
      ipvsadm(['-C']);
      ipvsadm(['-R'], randomRules(seed, SERVICES));
      const a = ipvsadm(['-Sn']).stdout;
      assert.ok(a.split('\n').length > 10);
      ipvsadm(['-C']);
      const r1 = await lbctl(['-R'], a);
      assert.equal(r1.code, 0, r1.stderr);
      const [a1, b] = [ipvsadm(['-Sn']).stdout, await lbctl(['-Sn'])];
      assert.equal(canonicalRules(a1), canonicalRules(a), `seed ${seed}: lbctl -R of ipvsadm -Sn`);
      assert.equal(b.stdout, a1, `seed ${seed}: lbctl -Sn and ipvsadm -Sn of the same table`);
      ipvsadm(['-C']);
      const r2 = ipvsadm(['-R'], b.stdout);
      assert.equal(r2.code, 0, r2.stderr);
      assert.equal(
        canonicalRules(ipvsadm(['-Sn']).stdout),
        canonicalRules(a),
        `seed ${seed}: ipvsadm -R of lbctl -Sn`,
      );
    }
    ipvsadm(['-C']);
  },
);

/** Bad command lines and kernel errors, run against the same table by both. */
const BAD: string[][] = [
  ['-A'],
  ['-A', '-t', '1.2.3.4'],
  ['-A', '-t', '1.2.3.4:80', '-s', 'foo'],
  ['-A', '-t', '1.2.3.4:80', '-s', 'rr', '-x', '5'],
  ['-A', '-t', '1.2.3.4:80', '--bogus'],
  ['--bogus'],
  ['-Q'],
  ['-LQ'],
  ['-n', '-L'],
  ['-L', '-A'],
  ['-LA'],
  ['-A', '-t'],
  ['-A', '-t', '1.2.3.4:80', '-u', '1.2.3.4:80'],
  ['-a', '-t', '9.9.9.9:80', '-r', '10.0.0.1:80', '-m'],
  ['-A', '-t', '10.1.1.1:80', '-s', 'rr'],
  ['-a', '-t', '10.1.1.1:80', '-r', '10.0.0.1', '-m'],
  ['-a', '-t', '10.1.1.1:80', '-r', '10.0.0.1', '-m'],
  ['-a', '-t', '10.1.1.1:80', '-r', '10.0.0.2', '-w', '-1'],
  ['-a', '-t', '10.1.1.1:80', '-r', '10.0.0.2', '-x', '99999999999'],
  ['-a', '-t', '10.1.1.1:80', '-r', '[2001:db8::1]', '-m'],
  ['-a', '-t', '10.1.1.1:80', '-r', '10.0.0.3', '-m', '--tun-type', 'gue'],
  ['-a', '-t', '10.1.1.1:80', '-r', '10.0.0.3', '-i', '--tun-type', 'gue'],
  [
    '-a',
    '-t',
    '10.1.1.1:80',
    '-r',
    '10.0.0.3',
    '-i',
    '--tun-type',
    'gue',
    '--tun-port',
    '1',
    '--tun-csum',
    '--tun-remcsum',
  ],
  ['-a', '-t', '10.1.1.1:80', '-r', '10.0.0.3', '-i', '--tun-type', 'gre', '--tun-port', '1'],
  ['-a', '-t', '10.1.1.1:80', '-r', '10.0.0.3', '-i', '--tun-type', 'gre', '--tun-remcsum'],
  ['-a', '-t', '10.1.1.1:80', '-r', '10.0.0.3', '-i', '--tun-type', 'vxlan'],
  ['-e', '-t', '10.1.1.1:80', '-r', '10.0.0.77', '-m'],
  ['-d', '-t', '10.1.1.2:80', '-r', '10.0.0.77'],
  ['-D', '-t', '9.9.9.9:80'],
  ['-E', '-t', '9.9.9.9:80'],
  ['-E', '-t', '10.1.1.1:80', '-s', 'nosuch'],
  ['-A', '--sctp-service', '1.2.3.5:9', '-s', 'wlc', '-o'],
  ['-A', '-u', '1.2.3.5:9', '-b', 'sh-port', '-s', 'sh'],
  ['-A', '-u', '1.2.3.5:9', '-s', 'rr', '-b', 'bogus'],
  ['-A', '-u', '1.2.3.5:9', '-s', 'mh', '-b', 'sh-port'],
  ['-A', '-f', '0'],
  ['-A', '-f', '4294967296'],
  ['-A', '-6', '-f', '1'],
  ['-A', '-t', '1.2.3.4:80', '-p', '0'],
  ['-A', '-t', '1.2.3.4:80', '-p', '2678401'],
  ['-A', '-t', '1.2.3.4:80', '-M', 'x.y'],
  ['-A', '-t', '[2001:db8::1]:80', '-M', '129'],
  ['-A', '-t', '[2001:db8::1]', '-s', 'rr'],
  ['-A', '-t', '80'],
  ['-A', '-t', 'no.such.host.invalid:80'],
  ['-A', '-t', '1.2.3.4:nosuchservice'],
  ['-L', '-t', '1.2.3.9:80'],
  ['-L', '-c', '-t', '1.2.3.4:80'],
  ['-L', '--timeout', '--daemon'],
  ['-L', '-c', '--stats'],
  ['-L', '-s', 'rr'],
  ['-Z', '-t', '9.9.9.9:80'],
  ['--set', '1', '2'],
  ['--set', '1', '2', '3', '4'],
  ['--start-daemon', 'foo'],
  ['--stop-daemon', 'backup'],
  ['--start-daemon', 'master', '--mcast-group', '1.2.3.4'],
  ['--start-daemon', 'master', '--mcast-group', 'ff02::g'],
  ['--start-daemon', 'master', '--syncid', '256'],
  ['--start-daemon', 'master', '-n'],
  ['-A', '-t', '1.2.3.4:80', '-t', '1.2.3.4:81'],
  ['-A', '--tcp-service=1.2.3.4:80', '--numeric=1'],
  ['-A', '-t', '1.2.3.4:80', '--', '-s'],
  ['-R', '-n'],
  ['-a', '-t', '10.1.1.1:80'],
  ['-A', '-t', '1.2.3.4:80', '-o'],
];

test('bad command lines and kernel errors: same message and exit status', { timeout: 300_000 }, async () => {
  const run = async (tool: 'ipvsadm' | 'lbctl') => {
    ipvsadm(['-C']);
    ipvsadm(['--stop-daemon', 'master']);
    ipvsadm(['-A', '-t', '10.1.1.2:80']);
    const out: RunResult[] = [];
    if (tool === 'ipvsadm') out.push(...ipvsadmMany(BAD));
    else for (const argv of BAD) out.push(await lbctl(argv));
    out.push(ipvsadm(['-Sn']));
    return out;
  };
  const theirs = await run('ipvsadm');
  const mine = await run('lbctl');
  const problems: string[] = [];
  for (let i = 0; i < theirs.length; i++) {
    const d = diff(`ipvsadm ${(BAD[i] ?? ['-Sn (table after)']).join(' ')}`, theirs[i], mine[i]);
    if (d !== null) problems.push(d);
  }
  ipvsadm(['-C']);
  assert.equal(problems.length, 0, `${problems.length} of ${theirs.length} differ:\n${problems.join('\n')}`);
});

/** Commands that succeed: both tools applied to an empty table must leave the same table. */
const GOOD: string[][] = [
  ['-A', '-t', '1.2.3.4:80', '-s', 'rr'],
  ['-A', '-t', '1.2.3.4:81'],
  ['-E', '-t', '1.2.3.4:81', '-p'],
  ['-A', '--tcp-service=1.2.3.4:82', '-p300', '-M255.255.0.0'],
  ['-A', '-u', '1.2.3.4:domain', '-o', '-s', 'sh', '-b', 'sh-port'],
  ['-A', '-u', '127.1:53', '-s', 'mh', '-b', 'mh-fallback,mh-port', '-p', '-M', '0xffffff00'],
  ['-A', '-t', 'localhost:http'],
  ['-A', '-f', '5', '-6', '-p', '10', '-M', '48'],
  ['-A', '-f', '4294967295'],
  ['-A', '--sctp-service', '[2001:db8::5]:9', '-s', 'wrr', '--pe', 'sip', '-p', '20'],
  ['-a', '-t', '1.2.3.4:80', '-r', '10.0.0.1:8080', '-m', '-w', '5', '-x', '10', '-y', '2'],
  ['-a', '-t', '1.2.3.4:80', '-r', '10.0.0.2:8080'],
  [
    '-a',
    '-t',
    '1.2.3.4:80',
    '-r',
    '10.0.0.3',
    '-i',
    '--tun-type',
    'gue',
    '--tun-port',
    '6080',
    '--tun-remcsum',
  ],
  ['-a', '-t', '1.2.3.4:80', '-r', '[2001:db8::9]', '-i', '--tun-type', 'gre', '--tun-csum'],
  ['-a', '-f', '5', '-6', '-r', '[2001:db8::a]:99', '-m'],
  ['-a', '-f', '4294967295', '-r', '10.0.0.4', '-g', '-w', '0'],
  ['-e', '-t', '1.2.3.4:80', '-r', '10.0.0.1:8080', '-m', '-w', '7'],
  ['-e', '-t', '1.2.3.4:80', '-r', '10.0.0.3', '-i'],
  ['-d', '-t', '1.2.3.4:80', '-r', '10.0.0.2'],
  ['-Z'],
  ['-Z', '-t', '1.2.3.4:80'],
  ['--set', '100', '20', '30'],
  [
    '--start-daemon',
    'master',
    '--mcast-interface',
    'lo',
    '--syncid',
    '7',
    '--sync-maxlen',
    '1000',
    '--mcast-group',
    '239.1.2.3',
    '--mcast-port',
    '9000',
    '--mcast-ttl',
    '3',
  ],
  ['--start-daemon', 'backup', '--mcast-interface', 'lo', '--mcast-group', 'ff02::99'],
  ['-D', '-t', '1.2.3.4:82'],
];

test('commands that change the table: same effect and output', { timeout: 300_000 }, async () => {
  const views = [['-Sn'], ['-Ln', '--tun-info'], ['-L', '--timeout'], ['-L', '--daemon'], []];
  const reset = () => {
    ipvsadm(['-C']);
    ipvsadm(['--stop-daemon', 'master']);
    ipvsadm(['--stop-daemon', 'backup']);
    ipvsadm(['--set', '900', '120', '300']);
  };
  reset();
  const theirs = ipvsadmMany([...GOOD, ...views]);
  reset();
  const mine: RunResult[] = [];
  for (const argv of GOOD) mine.push(await lbctl(argv));
  mine.push(...ipvsadmMany(views));
  const viewsMine: RunResult[] = [];
  for (const v of views) viewsMine.push(await lbctl(v));
  reset();
  const problems: string[] = [];
  for (let i = 0; i < theirs.length; i++) {
    const d = diff(`ipvsadm ${[...GOOD, ...views][i].join(' ')}`, theirs[i], mine[i]);
    if (d !== null) problems.push(d);
  }
  for (let i = 0; i < views.length; i++) {
    const d = diff(`lbctl view ${views[i].join(' ')}`, theirs[GOOD.length + i], viewsMine[i]);
    if (d !== null) problems.push(d);
  }
  assert.equal(problems.length, 0, problems.join('\n'));
});

test(
  'the connection table (-c): entries made by local clients, listed the same',
  { timeout: 120_000 },
  async () => {
    const { spawnSync } = await import('node:child_process');
    const dgram = await import('node:dgram');
    const net = await import('node:net');
    ipvsadm(['-C']);
    spawnSync(
      'sh',
      ['-c', 'ip link set lo up; ip route add 10.77.0.0/24 dev lo; ip -6 route add 2001:db8:77::/64 dev lo'],
      {
        stdio: 'ignore',
      },
    );
    ipvsadm(
      ['-R'],
      [
        '-A -u 10.77.0.1:53 -s rr',
        '-a -u 10.77.0.1:53 -r 10.78.0.2:53 -m',
        '-A -t 10.77.0.1:80 -s rr -p 600',
        '-a -t 10.77.0.1:80 -r 10.78.0.3:8080 -m',
        '-A -u [2001:db8:77::1]:5060 -s rr',
        '-a -u [2001:db8:77::1]:5060 -r [2001:db8:78::2]:5060 -m',
        '',
      ].join('\n'),
    );
    const send = (family: 'udp4' | 'udp6', host: string, port: number) =>
      new Promise<void>((resolve) => {
        const s = dgram.createSocket(family);
        s.send('x', port, host, () => {
          s.close();
          resolve();
        });
      });
    for (let i = 0; i < 3; i++) {
      await send('udp4', '10.77.0.1', 53);
      await send('udp6', '2001:db8:77::1', 5060);
    }
    const sock = net.connect({ host: '10.77.0.1', port: 80 });
    sock.on('error', () => undefined);
    await new Promise((r) => setTimeout(r, 300));
    const modes = [['-Lnc'], ['-Lc'], ['-Lnc', '--persistent-conn'], ['-L', '-c', '-n', '--exact']];
    const problems: string[] = [];
    for (const m of modes) {
      let d: string | null = 'not compared';
      // The expiry column counts seconds down: compare again if a second went by in between.
      for (let attempt = 0; attempt < 3 && d !== null; attempt++) {
        const theirs = ipvsadm(m);
        const mine = await lbctl(m);
        assert.ok(
          theirs.stdout.split('\n').length >= 4,
          `ipvsadm ${m.join(' ')} lists connections:\n${theirs.stdout}`,
        );
        d = diff(`ipvsadm ${m.join(' ')}`, theirs, mine);
      }
      if (d !== null) problems.push(d);
    }
    sock.destroy();
    ipvsadm(['-C']);
    assert.equal(problems.length, 0, problems.join('\n'));
  },
);

test(
  '--json: the same table as ipvsadm -Sn, counters as strings, for every listing',
  { timeout: 120_000 },
  async () => {
    for (let seed = 200; seed < 203; seed++) {
      ipvsadm(['-C']);
      ipvsadm(['-R'], randomRules(seed, SERVICES));
      const saved = ipvsadm(['-Sn']).stdout;
      const r = await lbctl(['-L', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout);
      assert.equal(doc.schema, 1);
      assert.equal(jsonToRules(doc), saved, `seed ${seed}: -L --json as rules`);
      assert.equal(typeof doc.services[0].stats.conns, 'string');
      const s = JSON.parse((await lbctl(['-S', '--json'])).stdout);
      assert.equal(canonicalRules(jsonToRules(s)), canonicalRules(saved));
    }
    const t = JSON.parse((await lbctl(['-L', '--timeout', '--json'])).stdout);
    assert.deepEqual(Object.keys(t.timeouts), ['tcp', 'tcpFin', 'udp']);
    const d = JSON.parse((await lbctl(['-L', '--daemon', '--json'])).stdout);
    assert.ok(Array.isArray(d.daemons));
    const c = JSON.parse((await lbctl(['-L', '-c', '--json'])).stdout);
    assert.ok(Array.isArray(c.connections));
    ipvsadm(['-C']);
  },
);

test('-R: kernel refusals reported by line, with what was applied', { timeout: 60_000 }, async () => {
  ipvsadm(['-C']);
  const input = [
    '-A -t 192.0.2.1:80 -s rr',
    '-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m',
    '# a comment',
    '-A -t 192.0.2.1:80 -s wrr',
    '-a -t 192.0.2.9:80 -r 198.51.100.1:80 -m',
    '-A -u 192.0.2.1:53 -s nosuchsched',
    '-A -u 192.0.2.1:53 -s sh -b sh-port',
    '',
  ].join('\n');
  const r = await lbctl(['-R'], input);
  assert.equal(r.code, 255);
  assert.equal(
    r.stderr,
    'line 4: Service already exists\nline 5: Service not defined\nline 6: Scheduler or persistence engine not found\n' +
      'ipvsadm: restore: 3 of 6 rules applied; failed: lines 4, 5, 6\n',
  );
  assert.equal(
    ipvsadm(['-Sn']).stdout,
    '-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 1\n-A -u 192.0.2.1:53 -s sh -b sh-port\n',
  );
  ipvsadm(['-C']);
});
