// The reconciler against the real kernel (in the test VM): adoption without changes, one change as one
// operation without a dump, repair of changes made with ipvsadm behind its back, ownership of services.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { validateConfigText } from '../../src/config/load';
import type { Config } from '../../src/config/model';
import { desiredTable, type HealthView } from '../../src/daemon/desired-table';
import { Logs } from '../../src/daemon/logger';
import { Reconciler, type DesiredSource, type ReconcileEvent } from '../../src/daemon/reconciler';
import { Ipvs, makeService, serviceId, tableRules, ip, port, type VirtualService } from '../../src/ipvs';
import { run } from '../support/netns';

/** A desired table as the reconciler reads it: whole, or the services with given ids. */
function source(table: () => VirtualService[]): DesiredSource {
  return { all: table, some: (ids) => table().filter((s) => ids.has(serviceId(s.key))) };
}

const HEALTHY: HealthView = { server: () => undefined, quorumLost: () => false };

const CONF = `
virtual_server 198.51.100.10 80 {
    lb_algo wrr
    lb_kind DR
    protocol TCP
    real_server 203.0.113.1 80 {
        weight 1
    }
    real_server 203.0.113.2 80 {
        weight 2
    }
}
virtual_server 198.51.100.11 443 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    persistence_timeout 60
    real_server 203.0.113.3 443 {
        weight 1
    }
}
`;

function config(text = CONF): Config {
  const r = validateConfigText('test.conf', text, { hostChecks: 'off' });
  assert.ok(r.config, r.diagnostics.map((d) => d.message).join('\n'));
  return r.config;
}

let nsCounter = 0;
async function netns(t: {
  after: (fn: () => Promise<void>) => void;
}): Promise<{ name: string; sh: (s: string) => Promise<string> }> {
  const name = `lbdrec${process.pid}x${nsCounter++}`;
  assert.equal((await run('ip', ['netns', 'add', name])).code, 0);
  t.after(async () => void (await run('ip', ['netns', 'del', name])));
  // The kernel accepts only real servers it can route to (else EINVAL): give the namespace a default route.
  const setup = [
    'link set lo up',
    'link add d0 type dummy',
    'addr add 192.0.2.1/24 dev d0',
    'link set d0 up',
    'route add default dev d0',
  ];
  assert.equal((await run('ip', ['-n', name, '-batch', '-'], setup.join('\n') + '\n')).code, 0);
  const sh = async (script: string) => {
    const r = await run('ip', ['netns', 'exec', name, 'sh', '-c', script]);
    assert.equal(r.code, 0, `${script}: ${r.stderr}`);
    return r.stdout;
  };
  return { name, sh };
}

function logSink() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, log: new Logs({ level: 'info', destination: stream }).for('reconcile') };
}

/** Counts kernel table dumps made through this Ipvs. */
function counting(ipvs: Ipvs) {
  const counts = { table: 0 };
  const table = ipvs.table.bind(ipvs);
  return {
    counts,
    ipvs: {
      table: (...a: Parameters<Ipvs['table']>) => (counts.table++, table(...a)),
      apply: ipvs.apply.bind(ipvs),
    },
  };
}

test('adopts a kernel table that is already as configured without a single operation', async (t) => {
  const ns = await netns(t);
  const cfg = config();
  const want = tableRules(desiredTable(cfg, HEALTHY));
  await ns.sh(`printf '%s\\n' ${want.map((l) => `'${l}'`).join(' ')} | ipvsadm -R`);
  const before = await ns.sh('ipvsadm -Sn');
  const ipvs = await Ipvs.open({ netns: `/run/netns/${ns.name}` });
  t.after(() => ipvs.close());
  const events: ReconcileEvent[] = [];
  const { log } = logSink();
  const rec = new Reconciler(ipvs, {
    desired: source(() => desiredTable(cfg, HEALTHY)),
    log,
    onEvent: (e) => events.push(e),
  });
  await rec.request('start');
  assert.deepEqual(events, []);
  assert.deepEqual(rec.stats.operations, {});
  assert.equal(await ns.sh('ipvsadm -Sn'), before);
});

test('one changed real server is one kernel operation, with no dump of the table', async (t) => {
  const ns = await netns(t);
  let cfg = config();
  const ipvs = await Ipvs.open({ netns: `/run/netns/${ns.name}` });
  t.after(() => ipvs.close());
  const { counts, ipvs: counted } = counting(ipvs);
  const { log } = logSink();
  const rec = new Reconciler(counted, { desired: source(() => desiredTable(cfg, HEALTHY)), log });
  await rec.request('start');
  assert.equal(counts.table, 1);
  assert.deepEqual(rec.stats.operations, { 'add-service': 2, 'add-destination': 3 });
  cfg = config(CONF.replace('weight 2', 'weight 7'));
  await rec.request('reload');
  assert.equal(counts.table, 1, 'no dump for a change lbd made itself');
  assert.equal((rec.stats.operations as Record<string, number>)['edit-destination'], 1);
  assert.match(await ns.sh('ipvsadm -Sn'), /-a -t 198\.51\.100\.10:80 -r 203\.0\.113\.2:80 -g -w 7\n/);
  // A pass scoped to some services looks at those only.
  cfg = config(CONF.replace('weight 2', 'weight 8').replace('lb_algo rr', 'lb_algo wlc'));
  await rec.request('health', ['tcp|198.51.100.10|80']);
  const ops = rec.stats.operations as Record<string, number>;
  assert.equal(ops['edit-destination'], 2);
  assert.equal(ops['edit-service'], undefined, 'the other service is not looked at');
  assert.match(await ns.sh('ipvsadm -Sn'), /-A -t 198\.51\.100\.11:443 -s rr -p 60\n/);
  await rec.request('reload');
  assert.equal((rec.stats.operations as Record<string, number>)['edit-service'], 1);
});

test('lbd reloading one changed weight: one reconciler pass, one kernel operation', async (t) => {
  // The reload sets the changed virtual server's health checks, which ask for a pass too: one pass serves
  // both. lbd runs in the namespace (test/daemon/lbd-reload-host.ts).
  const ns = await netns(t);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbd-reload-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'keepalived.conf');
  fs.writeFileSync(file, CONF);
  const host = path.join(__dirname, 'lbd-reload-host.js');
  const r = await run('ip', ['netns', 'exec', ns.name, process.execPath, host, file, 'weight 2', 'weight 7']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { changes: 1, passes: 1 });
  assert.match(await ns.sh('ipvsadm -Sn'), /-a -t 198\.51\.100\.10:80 -r 203\.0\.113\.2:80 -g -w 7\n/);
});

test('repairs `ipvsadm -d` and `-e` made behind its back, and says so in the log', async (t) => {
  const ns = await netns(t);
  const cfg = config();
  const ipvs = await Ipvs.open({ netns: `/run/netns/${ns.name}` });
  t.after(() => ipvs.close());
  const { lines, log } = logSink();
  const rec = new Reconciler(ipvs, { desired: source(() => desiredTable(cfg, HEALTHY)), log });
  await rec.request('start');
  const good = await ns.sh('ipvsadm -Sn');
  await ns.sh(
    'ipvsadm -d -t 198.51.100.10:80 -r 203.0.113.1:80 && ipvsadm -e -t 198.51.100.11:443 -r 203.0.113.3:443 -m -w 9',
  );
  await rec.checkDrift();
  assert.equal(await ns.sh('ipvsadm -Sn'), good);
  assert.equal(rec.stats.driftRepaired, 2);
  const repaired = lines.filter((l) => String(l.msg).startsWith("repaired a change made behind lbd's back"));
  assert.equal(repaired.length, 2, JSON.stringify(lines));
});

test('owns only its services: foreign ones stay, its own are removed when they leave the config, across restarts', async (t) => {
  const ns = await netns(t);
  const state = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lbd-rec-')), 'managed.json');
  await ns.sh('ipvsadm -A -u 192.0.2.53:53 -s rr && ipvsadm -a -u 192.0.2.53:53 -r 192.0.2.54:53 -m');
  const ipvs = await Ipvs.open({ netns: `/run/netns/${ns.name}` });
  t.after(() => ipvs.close());
  const { log } = logSink();
  let cfg = config();
  await new Reconciler(ipvs, {
    desired: source(() => desiredTable(cfg, HEALTHY)),
    log,
    stateFile: state,
  }).request('start');
  // lbd restarts with one virtual server less: it removes that one, and only that one.
  cfg = config(CONF.slice(0, CONF.indexOf('virtual_server 198.51.100.11')));
  const rec = new Reconciler(ipvs, {
    desired: source(() => desiredTable(cfg, HEALTHY)),
    log,
    stateFile: state,
  });
  await rec.request('start');
  const saved = await ns.sh('ipvsadm -Sn');
  assert.doesNotMatch(saved, /198\.51\.100\.11/);
  assert.match(saved, /-A -u 192\.0\.2\.53:53 -s rr\n-a -u 192\.0\.2\.53:53 -r 192\.0\.2\.54:53 -m -w 1\n/);
  assert.match(saved, /-A -t 198\.51\.100\.10:80 -s wrr\n/);
});

test('a kernel error is reported per operation; the others apply and the next pass re-reads the kernel', async (t) => {
  const ns = await netns(t);
  const ipvs = await Ipvs.open({ netns: `/run/netns/${ns.name}` });
  t.after(() => ipvs.close());
  const { counts, ipvs: counted } = counting(ipvs);
  const { lines, log } = logSink();
  const bad: VirtualService = {
    ...makeService(
      { protocol: 'tcp', address: ip('198.51.100.20'), port: port(80) },
      { scheduler: 'nosuch' },
    ),
    destinations: [],
  };
  let table = [...desiredTable(config(), HEALTHY), bad];
  const rec = new Reconciler(counted, { desired: source(() => table), log });
  await rec.request('start');
  assert.equal(rec.stats.errors, 1);
  const err = lines.find((l) => l.level === 'error');
  assert.match(String(err?.msg), /scheduler 'nosuch'/);
  assert.match(await ns.sh('ipvsadm -Sn'), /-A -t 198\.51\.100\.10:80 -s wrr/);
  table = table.slice(0, -1);
  await rec.request('retry');
  assert.equal(counts.table, 2, 'after a failure the kernel is read again');
  assert.equal(rec.stats.errors, 1);
});
