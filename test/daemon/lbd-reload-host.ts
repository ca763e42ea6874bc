// Test helper (not a test): starts lbd (the Lbd class, as bin/lbd runs it) on CONFIG in whatever namespace
// it is started, replaces FROM by TO in the file, reloads, and prints what the reload did as JSON: the
// kernel operations it reported and the reconciler passes it took. Then stops lbd (IPVS left as it is).
// argv: CONFIG FROM TO
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { Lbd } from '../../src/daemon/lbd';
import { Logs } from '../../src/daemon/logger';

async function main(): Promise<void> {
  const [configFile, from, to] = process.argv.slice(2);
  const dir = path.dirname(configFile);
  const lbd = new Lbd({
    configFile,
    socketPath: path.join(dir, 'lbd.sock'),
    stateFile: path.join(dir, 'managed.json'),
    logs: new Logs({ level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) }),
    hostChecks: 'off',
    driftIntervalMs: 3_600_000,
  });
  await lbd.start();
  const passes = lbd.reconciler!.stats.passes;
  fs.writeFileSync(configFile, fs.readFileSync(configFile, 'utf8').replace(from, to));
  const r = await lbd.reload();
  const out = { changes: r.changes, passes: lbd.reconciler!.stats.passes - passes };
  await lbd.stop();
  console.log(JSON.stringify(out));
}

main().catch((err: Error) => {
  console.error(`lbd-reload-host: ${err.stack ?? err.message}`);
  process.exit(1);
});
