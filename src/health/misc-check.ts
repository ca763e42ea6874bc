/**
 * MISC_CHECK: runs misc_path with /bin/sh -c in a new process group. Exit 0 is healthy, 1 failing;
 * with misc_dynamic, exit codes 2..255 are healthy with weight (code - 2), without it any other code
 * fails. At misc_timeout (the runner's deadline) the whole process group is killed with SIGKILL, so
 * the script's children go too. Scripts wait for a slot in the shared ScriptPool.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { CheckSpec, MiscSpec } from './config';
import { Probe, ProbeSink, NO_WEIGHT } from './probe';
import { PoolJob, ScriptPool } from './script-pool';

export class MiscProbe implements Probe, PoolJob {
  private readonly misc: MiscSpec;
  private child: ChildProcess | null = null;
  private queued = false;

  constructor(
    spec: CheckSpec,
    private readonly sink: ProbeSink,
    private readonly pool: ScriptPool,
  ) {
    this.misc = spec.misc as MiscSpec;
  }

  start(): void {
    this.queued = true;
    this.pool.submit(this);
  }

  run(): void {
    this.queued = false;
    let child: ChildProcess;
    try {
      child = spawn('/bin/sh', ['-c', this.misc.path], { detached: true, stdio: 'ignore' });
    } catch (err) {
      this.pool.release();
      this.sink.probeResult(false, `spawn failed: ${(err as Error).message}`, NO_WEIGHT);
      return;
    }
    this.child = child;
    let released = false;
    const release = (): void => {
      if (!released) {
        released = true;
        this.pool.release();
      }
    };
    child.on('error', (err) => {
      release();
      if (child !== this.child) return;
      this.child = null;
      this.sink.probeResult(false, `spawn failed: ${err.message}`, NO_WEIGHT);
    });
    child.on('exit', (code, signal) => {
      release();
      if (child !== this.child) return;
      this.child = null;
      // Children the script left behind go with it.
      killGroup(child);
      if (signal !== null) this.sink.probeResult(false, `killed by ${signal}`, NO_WEIGHT);
      else if (code === 0) this.sink.probeResult(true, 'exit code 0', NO_WEIGHT);
      else if (this.misc.dynamic && code !== null && code >= 2) {
        this.sink.probeResult(true, `exit code ${code}`, code - 2);
      } else this.sink.probeResult(false, `exit code ${code}`, NO_WEIGHT);
    });
  }

  abort(): void {
    if (this.queued) {
      this.queued = false;
      this.pool.withdraw(this);
    }
    const child = this.child;
    this.child = null;
    if (child !== null) killGroup(child);
  }
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
