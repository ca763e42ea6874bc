// lbd end to end in the real kernel (test VM): a director namespace runs bin/lbd with a keepalived.conf,
// real servers answer HTTP, a client namespace sends steady traffic through the VIP. Reloads, restarts
// (kill -9) and repairs happen under that traffic with zero failed requests.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { controlRequest } from '../../src/cli/control-client';
import { Topology, type HostSpec } from '../support/netns';
import { startHttpd, startLoad } from '../support/servers';
import { until, wait } from '../support/wait';

const root = path.resolve(__dirname, '..', '..', '..');
const VIP = '198.51.100.100';
const RS = ['rs1', 'rs2', 'rs3'];
const addr = (i: number) => `203.0.113.${11 + i}`;

function conf(weights: number[] = [1, 4, 1]): string {
  const servers = RS.map(
    (_, i) => `    real_server ${addr(i)} 80 {
        weight ${weights[i]}
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }`,
  ).join('\n');
  return `virtual_server ${VIP} 80 {
    delay_loop 1
    slow_start 3
    lb_algo rr
    lb_kind NAT
    protocol TCP
${servers}
}
virtual_server ${VIP} 81 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server ${addr(0)} 80 {
        weight 1
    }
}
virtual_server ${VIP} 82 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server ${addr(0)} 9000 {
        weight 1
    }
}
`;
}

describe('lbd in the real kernel, under traffic', () => {
  let topo: Topology;
  let dir: string;
  let lbd: ChildProcess | undefined;
  let logs = '';
  /** The weights of port 80's real servers in the configuration lbd runs. */
  let running = [1, 4, 1];
  const startMs: number[] = [];
  const socket = () => path.join(dir, 'lbd.sock');
  const confFile = () => path.join(dir, 'keepalived.conf');
  const ipvsadm = (args: string) => topo.sh('director', `ipvsadm ${args}`);

  async function startLbd(): Promise<void> {
    lbd = topo.spawn('director', [
      process.execPath,
      path.join(root, 'bin', 'lbd'),
      '-f',
      confFile(),
      '--pid-file',
      path.join(dir, 'lbd.pid'),
      '--socket',
      socket(),
      '--state-file',
      path.join(dir, 'managed.json'),
      '--drift-interval',
      '1',
      '--drain-timeout',
      '60',
    ]);
    lbd.stdout?.setEncoding('utf8');
    lbd.stdout?.on('data', (d: string) => (logs += d));
    lbd.stderr?.setEncoding('utf8');
    lbd.stderr?.on('data', (d: string) => (logs += d));
    const t0 = Date.now();
    try {
      await until(
        'lbd to answer on its control socket',
        () => controlRequest('status', {}, { socketPath: socket() }),
        90_000,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; lbd printed:\n${logs}`, { cause: err });
    }
    startMs.push(Date.now() - t0);
  }

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbd-e2e-'));
    fs.writeFileSync(confFile(), conf());
    const hosts: Record<string, HostSpec> = {
      client: { links: [{ lan: 'front', addrs: ['198.51.100.2/24'] }] },
      director: {
        links: [
          { lan: 'front', addrs: ['198.51.100.1/24', `${VIP}/32`] },
          { lan: 'back', addrs: ['203.0.113.1/24'] },
        ],
        forwarding: true,
      },
    };
    RS.forEach(
      (rs, i) =>
        (hosts[rs] = {
          links: [{ lan: 'back', addrs: [`${addr(i)}/24`] }],
          routes: ['default via 203.0.113.1'],
        }),
    );
    topo = await Topology.create({ lans: { front: {}, back: {} }, hosts });
    await startHttpd(topo, RS);
    await startLbd();
  });

  after(async () => {
    lbd?.kill('SIGKILL');
    await topo?.destroy();
  });

  test('programs the configured table and adopts it unchanged after kill -9 and a restart under traffic', async () => {
    const table = await until('the real servers to be programmed', async () => {
      const t = await ipvsadm('-Sn');
      return (t.match(/-a -t 198\.51\.100\.100:80 -r/g) ?? []).length === 3 && t;
    });
    assert.match(
      table,
      /-A -t 198\.51\.100\.100:80 -s rr\n-a -t 198\.51\.100\.100:80 -r 203\.0\.113\.11:80 -m -w 1\n-a -t 198\.51\.100\.100:80 -r 203\.0\.113\.12:80 -m -w 4\n-a -t 198\.51\.100\.100:80 -r 203\.0\.113\.13:80 -m -w 1\n/,
    );
    const load = await startLoad(topo, 'client', `http://${VIP}/`);
    await wait(1000);
    lbd?.kill('SIGKILL');
    await until('lbd to die', async () => lbd?.exitCode !== null || lbd?.signalCode !== null);
    await wait(500);
    assert.equal(await ipvsadm('-Sn'), table, 'the kernel table survives lbd');
    logs = '';
    await startLbd();
    await wait(1500);
    assert.equal(await ipvsadm('-Sn'), table, 'a restart changes nothing in the kernel');
    assert.doesNotMatch(logs, /applied IPVS changes/);
    const s = await load.stop();
    assert.equal(s.failed, 0, JSON.stringify(s));
    assert.deepEqual(Object.keys(s.byBody).sort(), RS);
  });

  test('a reload that changes one real server: zero failed requests, other services keep their counters', async () => {
    // Some traffic to the other service, then its counters once the kernel's estimator has folded them
    // in (every 2 s, later when the guest is slow): three connections, and the same line 2.5 s later.
    await topo.exec('client', [
      'sh',
      '-c',
      `for i in 1 2 3; do printf 'GET / HTTP/1.0\\r\\n\\r\\n' | busybox nc ${VIP} 81 >/dev/null; done`,
    ]);
    const stats81 = async () => (await ipvsadm(`-Ln --stats --exact -t ${VIP}:81`)).split('\n')[2];
    const before81 = await until(
      'the counters of port 81 to settle',
      async () => {
        const first = await stats81();
        if (!/^TCP\s+198\.51\.100\.100:81\s+3\s/.test(first)) return false;
        await wait(2500);
        return (await stats81()) === first && first;
      },
      30_000,
      500,
    );
    const load = await startLoad(topo, 'client', `http://${VIP}/`);
    await wait(500);
    fs.writeFileSync(confFile(), conf([1, 4, 3]));
    const result = (await controlRequest('reload', {}, { socketPath: socket() })) as { changes: number };
    running = [1, 4, 3];
    assert.equal(result.changes, 1, 'one kernel operation for one changed real server');
    await wait(1000);
    const s = await load.stop();
    assert.equal(s.failed, 0, JSON.stringify(s));
    assert.match(await ipvsadm('-Sn'), /-a -t 198\.51\.100\.100:80 -r 203\.0\.113\.13:80 -m -w 3\n/);
    await wait(2500);
    assert.equal(await stats81(), before81);
  });

  test('an invalid reload changes nothing and reports every error', async () => {
    const table = await ipvsadm('-Sn');
    fs.writeFileSync(
      confFile(),
      conf(running).replace('lb_algo rr', 'lb_algo nosuch').replace('delay_loop 1', 'delay_lop 1'),
    );
    await assert.rejects(
      controlRequest('reload', {}, { socketPath: socket() }),
      (err: Error & { details?: string[] }) => {
        assert.match(err.message, /configuration has 2 errors; nothing changed/);
        assert.equal(err.details?.length, 2, JSON.stringify(err.details));
        assert.ok(err.details?.some((d) => /keepalived\.conf:\d+:\d+: error: .*delay_lop/.test(d)));
        return true;
      },
    );
    assert.equal(await ipvsadm('-Sn'), table);
    // The next valid reload is measured against what runs, not against the refused file.
    fs.writeFileSync(confFile(), conf([1, 4, 5]));
    const changed = (await controlRequest('reload', {}, { socketPath: socket() })) as { changes: number };
    assert.equal(changed.changes, 1);
    assert.match(await ipvsadm('-Sn'), /-a -t 198\.51\.100\.100:80 -r 203\.0\.113\.13:80 -m -w 5\n/);
    fs.writeFileSync(confFile(), conf(running));
    const back = (await controlRequest('reload', {}, { socketPath: socket() })) as { changes: number };
    assert.equal(back.changes, 1);
    assert.equal(await ipvsadm('-Sn'), table);
  });

  test('repairs ipvsadm -d made behind its back', async () => {
    const table = await ipvsadm('-Sn');
    logs = '';
    await ipvsadm(`-d -t ${VIP}:80 -r ${addr(1)}:80`);
    await until('the repair', async () => (await ipvsadm('-Sn')) === table, 10_000);
    assert.match(logs, /repaired a change made behind lbd's back: .*203\.0\.113\.12/);
  });

  test('a failing real server leaves within delay_loop + connect_timeout, and comes back', async () => {
    const t0 = Date.now();
    await topo.killAll('rs2');
    await until('rs2 to be removed', async () => !(await ipvsadm('-Sn')).includes(`${addr(1)}:80`), 10_000);
    // lbd's own time of the decision (the guest's clock, as ours): polling ipvsadm here costs seconds.
    const events = (await controlRequest('events', {}, { socketPath: socket() })) as {
      type: string;
      server?: string;
      time: string;
    }[];
    const down = events.find(
      (e) => e.type === 'server-down' && e.server === `${addr(1)}:80` && Date.parse(e.time) >= t0 - 5,
    );
    assert.ok(down, JSON.stringify(events.slice(-10)));
    const detectMs = Date.parse(down.time) - t0;
    assert.ok(
      detectMs < 1000 + 1000 + 1000,
      `detected after ${detectMs} ms (delay_loop 1 s + connect_timeout 1 s)`,
    );
    const load = await startLoad(topo, 'client', `http://${VIP}/`);
    await wait(1500);
    const s = await load.stop();
    assert.equal(s.failed, 0, JSON.stringify(s));
    assert.equal(s.byBody.rs2, undefined, 'no new connections to the failed server');
    await startHttpd(topo, ['rs2']);
    // Back with slow start (3 s): first below its weight of 4, then at 4.
    const seen: number[] = [];
    const weightOf = async () =>
      Number(
        new RegExp(`-r ${addr(1).replace(/\./g, '\\.')}:80 -m -w (\\d+)`).exec(await ipvsadm('-Sn'))?.[1] ??
          NaN,
      );
    await until(
      'rs2 to come back',
      async () => {
        const w = await weightOf();
        if (!Number.isNaN(w)) seen.push(w);
        return seen.length > 0;
      },
      10_000,
      50,
    );
    await until(
      'rs2 at full weight',
      async () => {
        seen.push(await weightOf());
        return seen[seen.length - 1] === 4;
      },
      15_000,
      50,
    );
    assert.ok(seen[0] < 4, `ramped up: weights seen ${seen.join(' ')}`);
    const status = (await controlRequest('checks', {}, { socketPath: socket() })) as {
      servers: { server: string; up: boolean }[];
    }[];
    assert.ok(status[0].servers.every((x) => x.up));
  });

  test('a drain sets weight 0, waits for the active connection, then removes the server', async () => {
    topo.spawn('rs1', [process.execPath, '-e', "require('net').createServer(() => {}).listen(9000)"]);
    await until(
      'the holding server',
      async () => (await topo.exec('rs1', ['sh', '-c', 'ss -ltn | grep -q :9000'])).code === 0,
    );
    const holder = topo.spawn('client', [
      process.execPath,
      '-e',
      `require('net').connect(82, '${VIP}'); setInterval(() => {}, 1000)`,
    ]);
    await until('the connection', async () =>
      /-> 203\.0\.113\.11:9000\s+Masq\s+1\s+1\s/.test(await ipvsadm(`-Ln -t ${VIP}:82`)),
    );
    const r = (await controlRequest(
      'drain',
      { vs: `${VIP}:82`, server: `${addr(0)}:9000` },
      { socketPath: socket() },
    )) as { state: string };
    assert.equal(r.state, 'draining');
    await until('weight 0', async () =>
      /-> 203\.0\.113\.11:9000\s+Masq\s+0\s+1\s/.test(await ipvsadm(`-Ln -t ${VIP}:82`)),
    );
    await wait(2000);
    assert.match(
      await ipvsadm(`-Ln -t ${VIP}:82`),
      /203\.0\.113\.11:9000\s+Masq\s+0\s+1\s/,
      'kept while the connection lives',
    );
    holder.kill('SIGKILL');
    await until(
      'removal once the connection ended',
      async () => !(await ipvsadm(`-Ln -t ${VIP}:82`)).includes('203.0.113.11:9000'),
      15_000,
    );
    const events = (await controlRequest('events', {}, { socketPath: socket() })) as {
      source: string;
      type: string;
    }[];
    assert.ok(events.some((e) => e.source === 'drain' && e.type === 'drained'));
    await controlRequest('undrain', { vs: `${VIP}:82`, server: `${addr(0)}:9000` }, { socketPath: socket() });
    await until('back after undrain', async () =>
      (await ipvsadm(`-Ln -t ${VIP}:82`)).includes('203.0.113.11:9000'),
    );
  });

  test('SIGTERM stops lbd with exit 0 and leaves the IPVS table as it is', async () => {
    const table = await ipvsadm('-Sn');
    const exited = new Promise<number | null>((r) => lbd?.once('exit', (code) => r(code)));
    lbd?.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.equal(await ipvsadm('-Sn'), table);
    assert.equal(fs.existsSync(socket()), false);
    assert.equal(fs.existsSync(path.join(dir, 'lbd.pid')), false);
  });
});
