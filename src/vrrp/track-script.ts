// vrrp_script / track_script: a command run every interval; its exit status, filtered by rise / fall,
// makes it "up" or "down". weight > 0 adds to the priority while up, weight < 0 adds while down,
// weight 0 puts the tracking instances in FAULT while down (keepalived semantics).
import { spawn } from 'node:child_process';
import { killGroup } from './process-group';
import { EventEmitter } from 'node:events';

export interface TrackScriptConfig {
  name: string;
  script: string;
  intervalMs: number;
  timeoutMs?: number;
  weight?: number;
  rise?: number;
  fall?: number;
}

export class TrackScript extends EventEmitter {
  /** undefined until the first result. */
  up: boolean | undefined;
  private okRun = 0;
  private failRun = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(readonly cfg: TrackScriptConfig) {
    super();
  }

  start(): void {
    this.stopped = false;
    void this.tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private async tick(): Promise<void> {
    const ok = await this.runOnce();
    if (this.stopped) return;
    this.result(ok);
    this.timer = setTimeout(() => void this.tick(), this.cfg.intervalMs);
  }

  /** Feeds one result through rise / fall. */
  result(ok: boolean): void {
    if (ok) {
      this.okRun++;
      this.failRun = 0;
    } else {
      this.failRun++;
      this.okRun = 0;
    }
    const rise = this.cfg.rise ?? 1;
    const fall = this.cfg.fall ?? 1;
    let next = this.up;
    // The first result decides at once, as in keepalived (it starts in the state of the first run).
    if (this.up === undefined) next = ok;
    else if (!this.up && this.okRun >= rise) next = true;
    else if (this.up && this.failRun >= fall) next = false;
    if (next !== this.up) {
      this.up = next;
      this.emit('change', next);
    }
  }

  private runOnce(): Promise<boolean> {
    return new Promise((resolve) => {
      const child = spawn('/bin/sh', ['-c', this.cfg.script], { stdio: 'ignore', detached: true });
      const timer = setTimeout(() => killGroup(child.pid), this.cfg.timeoutMs ?? this.cfg.intervalMs);
      child.on('error', () => {
        clearTimeout(timer);
        resolve(false);
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve(code === 0);
      });
    });
  }
}

/** The tracking input for an instance from a tracker's state and weight. */
export function trackInput(up: boolean, weight: number): { fault: boolean; delta: number } {
  if (weight === 0) return { fault: !up, delta: 0 };
  if (weight > 0) return { fault: false, delta: up ? weight : 0 };
  return { fault: false, delta: up ? 0 : weight };
}
