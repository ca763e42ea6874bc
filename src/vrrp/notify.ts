// Notification scripts, keepalived style: on each transition the state's own script (notify_master,
// notify_backup, notify_fault, notify_stop) runs as written, then the generic `notify` script with
// the arguments INSTANCE|GROUP, name, state, priority. Runs are queued per instance: never two at
// once for one instance, always in transition order.
import { spawn } from 'node:child_process';
import { killGroup } from './process-group';
import { EventStream, VrrpState } from './events';

export interface NotifyConfig {
  master?: string;
  backup?: string;
  fault?: string;
  stop?: string;
  /** Generic script, called with: INSTANCE|GROUP <name> <state> <priority>. */
  notify?: string;
  /** Kill a script still running after this long (ms, default 30 s). */
  timeoutMs?: number;
}

function runScript(
  cmd: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    // The command line may carry its own arguments, as in keepalived: run it through the shell.
    const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const child = spawn('/bin/sh', ['-c', args.length ? `${cmd} ${quoted}` : cmd], {
      stdio: 'ignore',
      detached: true,
    });
    const timer = setTimeout(() => killGroup(child.pid), timeoutMs);
    child.on('error', () => {
      clearTimeout(timer);
      resolve({ code: 127, signal: null });
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

export class Notifier {
  private chain: Promise<void> = Promise.resolve();
  pending = 0;

  constructor(
    private readonly kind: 'INSTANCE' | 'GROUP',
    private readonly name: string,
    private readonly cfg: NotifyConfig,
    private readonly events: EventStream,
  ) {}

  /** Queues the scripts for a transition into state. */
  notify(state: VrrpState, priority: number): void {
    const own =
      state === 'MASTER'
        ? this.cfg.master
        : state === 'BACKUP'
          ? this.cfg.backup
          : state === 'FAULT'
            ? this.cfg.fault
            : state === 'STOP'
              ? this.cfg.stop
              : undefined;
    const runs: [string, string[]][] = [];
    if (own) runs.push([own, []]);
    if (this.cfg.notify && state !== 'INIT')
      runs.push([this.cfg.notify, [this.kind, this.name, state, String(priority)]]);
    for (const [cmd, args] of runs) {
      this.pending++;
      this.chain = this.chain.then(async () => {
        const r = await runScript(cmd, args, this.cfg.timeoutMs ?? 30_000);
        this.pending--;
        this.events.publish({
          type: 'notify',
          instance: this.name,
          script: args.length ? `${cmd} ${args.join(' ')}` : cmd,
          exitCode: r.code,
          signal: r.signal,
        });
      });
    }
  }

  /** Resolves when every queued script has run. */
  idle(): Promise<void> {
    return this.chain;
  }
}
