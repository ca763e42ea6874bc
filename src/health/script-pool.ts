/**
 * Bounded concurrency for MISC_CHECK scripts: at most `limit` run at once, the rest wait in FIFO order.
 * A slot is held from spawn until the child has exited (so a killed script's slot frees only once it
 * is really gone).
 */
export interface PoolJob {
  /** Called when a slot is granted; the job must call pool.release() exactly once afterwards. */
  run(): void;
}

export class ScriptPool {
  private running = 0;
  private readonly queue: PoolJob[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('script concurrency must be >= 1');
  }

  get active(): number {
    return this.running;
  }

  get waiting(): number {
    return this.queue.length;
  }

  submit(job: PoolJob): void {
    if (this.running < this.limit) {
      this.running++;
      job.run();
    } else this.queue.push(job);
  }

  /** Removes a job that is still waiting; returns whether it was. */
  withdraw(job: PoolJob): boolean {
    const i = this.queue.indexOf(job);
    if (i < 0) return false;
    this.queue.splice(i, 1);
    return true;
  }

  release(): void {
    this.running--;
    const next = this.queue.shift();
    if (next !== undefined) {
      this.running++;
      next.run();
    }
  }
}
