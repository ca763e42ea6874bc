// VRRP-only runner for tests and benchmarks: node dist/src/vrrp/standalone.js <config.json | JSON>
// Runs the configured instances in the current network namespace and prints one JSON line per
// event ({"seq":..,"type":"transition",...}). SIGTERM / SIGINT: masters send priority 0, VIPs are
// removed, exit 0. SIGHUP: reloads the configuration file (unchanged instances keep running).
// Commands on stdin, one per line: "status" (prints a status line with the instances and the receive
// counters), "external NAME up|down" (external tracking input), "reload <JSON>" (new configuration).
import * as fs from 'node:fs';
import * as readline from 'node:readline';
import { VrrpConfig } from './config';
import { VrrpService } from './service';

function out(obj: object): void {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

async function main(): Promise<void> {
  const arg = process.argv[2];
  if (!arg) {
    process.stderr.write('usage: standalone.js <config.json | JSON text>\n');
    process.exit(2);
  }
  const text = arg.trim().startsWith('{') ? arg : fs.readFileSync(arg, 'utf8');
  const config = JSON.parse(text) as VrrpConfig;
  const svc = new VrrpService(config, {
    log: (level, msg) => out({ type: 'log', level, msg, time: Date.now() }),
  });
  svc.on('event', (e) => out(e));
  let stopping = false;
  const stop = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    out({ type: 'signal', signal: sig, time: Date.now() });
    svc.stop().then(
      () => process.exit(0),
      (e) => {
        process.stderr.write(`stop failed: ${String(e)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  const reload = (cfg: VrrpConfig): void => {
    svc.reload(cfg).then(
      (r) => out({ type: 'reloaded', ...r, time: Date.now() }),
      (e: Error) =>
        out({ type: 'log', level: 'error', msg: `reload failed: ${e.message}`, time: Date.now() }),
    );
  };
  process.on('SIGHUP', () => {
    if (arg.trim().startsWith('{')) return;
    try {
      reload(JSON.parse(fs.readFileSync(arg, 'utf8')) as VrrpConfig);
    } catch (e) {
      out({ type: 'log', level: 'error', msg: `reload failed: ${(e as Error).message}`, time: Date.now() });
    }
  });
  await svc.start();
  out({ type: 'started', pid: process.pid, time: Date.now() });
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const [cmd, ...args] = line.trim().split(/\s+/);
    if (cmd === 'status') out({ type: 'status', instances: svc.status(), receive: svc.receiveCounters() });
    else if (cmd === 'external' && args.length === 2) svc.setExternal(args[0], args[1] === 'up');
    else if (cmd === 'reload') {
      try {
        reload(JSON.parse(line.slice(line.indexOf('reload') + 6)) as VrrpConfig);
      } catch (e) {
        out({ type: 'log', level: 'error', msg: `reload failed: ${(e as Error).message}`, time: Date.now() });
      }
    } else if (cmd) out({ type: 'log', level: 'warn', msg: `unknown command '${line}'` });
  });
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
