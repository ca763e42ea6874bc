// Host tests of lbctl's ipvsadm command line: popt tokenizing, ipvsadm's checks, defaults and
// messages, address parsing as the C library does it, and -R's refusal of a bad line.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Popt } from '../../src/cli/ipvsadm/popt';
import { OPTION_TABLE, COMMANDS_V_OPTIONS, OPT_NAMES, Cmd } from '../../src/cli/ipvsadm/options';
import { IpvsadmExit, parseCommand } from '../../src/cli/ipvsadm/parse';
import { operationOf } from '../../src/cli/ipvsadm/ops';
import { inetAton, inetNtop6, inetPton6 } from '../../src/cli/ipvsadm/resolve';
import { runIpvsadm } from '../../src/cli/ipvsadm/main';

function steps(argv: string[]) {
  const p = new Popt(argv, OPTION_TABLE);
  const out: string[] = [];
  for (;;) {
    const s = p.nextOpt();
    if (s.kind === 'end') break;
    if (s.kind === 'error') {
      out.push(`!${s.badOption}: ${s.error}`);
      break;
    }
    out.push(s.arg === null ? s.tag : `${s.tag}=${s.arg}`);
  }
  return { opts: out, args: p.args() };
}

test('popt: bundles, glued and separate arguments, optional -p, --, leftovers, errors', () => {
  assert.deepEqual(steps(['-Lnc']).opts, ['L', 'n', 'c']);
  assert.deepEqual(steps(['-At1.2.3.4:80', '-srr']).opts, ['A', 't=1.2.3.4:80', 's=rr']);
  assert.deepEqual(steps(['-s=rr', '--scheduler=wrr', '--scheduler', 'lc']).opts, ['s=rr', 's=wrr', 's=lc']);
  assert.deepEqual(steps(['-p', '300', '-p', '-n', '-p']).opts, ['p=300', 'p', 'n', 'p']);
  assert.deepEqual(steps(['-p300', '--persistent=5']).opts, ['p=300', 'p=5']);
  assert.deepEqual(steps(['-L', 'x', '--', '-n', '-']), { opts: ['L'], args: ['x', '-n', '-'] });
  assert.deepEqual(steps(['-L', '--bogus']).opts, ['L', '!--bogus: unknown option']);
  assert.deepEqual(steps(['-LQ']).opts, ['L', '!-LQ: unknown option']);
  assert.deepEqual(steps(['-A', '-t']).opts, ['A', '!-t: missing argument']);
  assert.deepEqual(steps(['--numeric=1']).opts, ['!--numeric=1: option does not take an argument']);
});

test('the command/option table has one column per option', () => {
  assert.equal(COMMANDS_V_OPTIONS.length, 14);
  for (const row of COMMANDS_V_OPTIONS) assert.equal(row.length, OPT_NAMES.length);
});

async function err(argv: string[]): Promise<[number, string]> {
  try {
    await parseCommand('ipvsadm', argv);
  } catch (e) {
    if (e instanceof IpvsadmExit) return [e.code, e.stderr];
    throw e;
  }
  return [0, ''];
}

test('ipvsadm checks: exact messages and exit statuses', async () => {
  assert.deepEqual(await err(['-A']), [
    2,
    "You need to supply the 'service-address' option for the 'add-service' command\n",
  ]);
  assert.deepEqual(await err(['-A', '-t', '1.2.3.4']), [
    2,
    'Zero port specified for non-persistent service\n',
  ]);
  assert.deepEqual(await err(['-A', '-t', '1.2.3.4:80', '-x', '5']), [
    2,
    "Illegal 'u-threshold' option with the 'add-service' command\n",
  ]);
  assert.deepEqual(await err(['-A', '-t', '1.2.3.4:80', '--bogus']), [255, '--bogus: unknown option\n']);
  assert.deepEqual(await err(['-Q']), [255, "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n"]);
  assert.deepEqual(await err(['-n', '-L']), [
    255,
    "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n",
  ]);
  assert.deepEqual(await err(['-L', '-A']), [2, "invalid option `-A'\n"]);
  assert.deepEqual(await err(['-A', '-t', '1.2.3.4:80', '-u', '1.2.3.4:80']), [
    2,
    "multiple 'service-address' options specified\n",
  ]);
  assert.deepEqual(await err(['-A', '--sctp-service', '1.2.3.5:9', '-o']), [
    2,
    'One-Packet Scheduling is only for UDP virtual services\n',
  ]);
  assert.deepEqual(await err(['-L', '--timeout', '--daemon']), [
    2,
    "The option 'daemon' conflicts with the 'timeout' option in the 'list' command\n",
  ]);
  assert.deepEqual(await err(['-L', '-c', '--stats']), [2, 'options conflicts in the list command\n']);
  assert.deepEqual(await err(['-L', 'foo']), [2, 'unexpected argument foo\n']);
  assert.deepEqual(await err(['--set', '1', '2']), [2, '--set option requires 3 timeout values\n']);
  assert.deepEqual(await err(['-A', '-6', '-f', '1']), [2, '-6 used before -f\n\n']);
  assert.deepEqual(await err(['-a', '-t', '1.2.3.4:80', '-r', '10.0.0.3', '-i', '--tun-type', 'gue']), [
    2,
    "You need to supply the 'tun-port' option for the 'gue' tunnel type\n",
  ]);
  assert.deepEqual(await err(['-a', '-t', '1.2.3.4:80', '-r', '10.0.0.3', '-m', '--tun-csum']), [
    2,
    'Tunnel options conflict with forward method\n',
  ]);
  assert.deepEqual(await err(['-a', '-t', '1.2.3.4:80', '-r', '[::1]:80', '-m']), [
    2,
    'Different address family is allowed only for tunneling servers\n',
  ]);
  assert.deepEqual(await err(['-A', '-u', '1.2.3.4:80', '-s', 'rr', '-b', 'sh-port']), [
    2,
    "incompatible scheduler flag `sh-port'\n",
  ]);
  assert.deepEqual(await err(['-A', '-t', '1.2.3.4:80', '-p', '0']), [
    2,
    "invalid timeout value `0' specified\n",
  ]);
  assert.deepEqual(await err(['-A', '-f', '0']), [2, "invalid fwmark value `0' specified\n"]);
});

test('ipvsadm defaults: wlc, weight 1, direct routing with the service port, persistence 360 s', async () => {
  const a = operationOf(await parseCommand('ipvsadm', ['-A', '-t', '1.2.3.4:80', '-p']));
  assert.deepEqual(a, {
    op: 'add-service',
    service: {
      key: { protocol: 'tcp', address: '1.2.3.4', port: 80 },
      scheduler: 'wlc',
      flags: { persistent: true, onePacket: false, sched1: false, sched2: false, sched3: false },
      timeout: 360,
      netmask: { family: 'inet', mask: '255.255.255.255' },
      pe: null,
    },
  });
  const d = operationOf(await parseCommand('ipvsadm', ['-a', '-t', '1.2.3.4:80', '-r', '10.0.0.1:8080']));
  assert.deepEqual(d, {
    op: 'add-destination',
    service: { protocol: 'tcp', address: '1.2.3.4', port: 80 },
    destination: {
      address: '10.0.0.1',
      port: 80,
      forward: { method: 'route' },
      weight: 1,
      upperThreshold: 0,
      lowerThreshold: 0,
    },
  });
  const m = operationOf(
    await parseCommand('ipvsadm', [
      '-a',
      '-u',
      '[2001:db8::1]:53',
      '-r',
      '[2001:db8::2]:53',
      '-m',
      '-w',
      '0',
    ]),
  );
  assert.equal(m?.op, 'add-destination');
  assert.deepEqual(m?.op === 'add-destination' && m.destination, {
    address: '2001:db8::2',
    port: 53,
    forward: { method: 'masq' },
    weight: 0,
    upperThreshold: 0,
    lowerThreshold: 0,
  });
  const g = operationOf(
    await parseCommand('ipvsadm', [
      '-e',
      '-f',
      '7',
      '-r',
      '10.0.0.1',
      '-i',
      '--tun-type',
      'gue',
      '--tun-port',
      '6080',
      '--tun-remcsum',
    ]),
  );
  assert.deepEqual(g?.op === 'edit-destination' && g.destination.forward, {
    method: 'tunnel',
    tunnel: { type: 'gue', port: 6080, checksum: 'remcsum' },
  });
  const s = await parseCommand('ipvsadm', [
    '-A',
    '-u',
    '[2001:db8::1]:53',
    '-s',
    'sh',
    '-b',
    'sh-fallback,sh-port',
    '-p',
    '10',
    '-M',
    '64',
  ]);
  assert.equal(s.cmd, Cmd.ADD);
  assert.deepEqual(operationOf(s), {
    op: 'add-service',
    service: {
      key: { protocol: 'udp', address: '2001:db8::1', port: 53 },
      scheduler: 'sh',
      flags: { persistent: true, onePacket: false, sched1: true, sched2: true, sched3: false },
      timeout: 10,
      netmask: { family: 'inet6', prefix: 64 },
      pe: null,
    },
  });
  const t = operationOf(await parseCommand('ipvsadm', ['--set', '100', '20', '30']));
  assert.deepEqual(t, { op: 'set-timeouts', timeouts: { tcp: 100, tcpFin: 20, udp: 30 } });
  const dm = operationOf(
    await parseCommand('ipvsadm', ['--start-daemon', 'backup', '--syncid', '9', '--mcast-group', 'ff02::1']),
  );
  assert.deepEqual(dm, {
    op: 'start-daemon',
    daemon: { state: 'backup', interface: 'eth0', syncId: 9, group: 'ff02::1' },
  });
});

test('addresses as the C library reads and writes them', () => {
  assert.equal(inetAton('127.1'), 0x7f000001);
  assert.equal(inetAton('0x7f.1'), 0x7f000001);
  assert.equal(inetAton('010.0.0.1'), 0x08000001);
  assert.equal(inetAton('1.2.3.4 trailing'), 0x01020304);
  assert.equal(inetAton('256.1.1.1'), null);
  assert.equal(inetAton('1.2.3.4.5'), null);
  assert.equal(inetAton('host'), null);
  const six = (s: string) => {
    const b = inetPton6(s);
    return b === null ? null : inetNtop6(b);
  };
  assert.equal(six('::'), '::');
  assert.equal(six('::1'), '::1');
  assert.equal(six('::ffff:1.2.3.4'), '::ffff:1.2.3.4');
  assert.equal(six('::1.2.3.4'), '::1.2.3.4');
  assert.equal(six('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
  assert.equal(six('2001:0db8:0000:0000:0000:0000:0000:0001'), '2001:db8::1');
  assert.equal(six('1:0:2:0:3:0:4:0'), '1:0:2:0:3:0:4:0');
  assert.equal(six('fe80::'), 'fe80::');
  assert.equal(six('1::2::3'), null);
  assert.equal(six('1.2.3.4'), null);
  assert.equal(six('12345::'), null);
});

test('-R: a bad line is reported with its number and nothing is applied', async () => {
  let stderr = '';
  const code = await runIpvsadm(['-R'], {
    stdin: async () => '-A -t 1.2.3.4:80 -s rr\n\n-a -t 1.2.3.4:80 -r 10.0.0.1 -w x\n-C\n',
    stderr: (s) => (stderr += s),
    stdout: () => assert.fail('no output expected'),
  });
  assert.equal(code, 2);
  assert.equal(
    stderr,
    'illegal weight specified\nlbctl: restore: line 3 rejected: -a -t 1.2.3.4:80 -r 10.0.0.1 -w x; nothing applied\n',
  );
});
