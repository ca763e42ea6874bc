/**
 * One timer for many tasks: a binary min-heap of due times (monotonic milliseconds) driving a single
 * node timer. Ten thousand checks each on their own schedule cost one armed timer, and scheduling or
 * cancelling a task allocates nothing (the task object carries its own heap slot).
 */

export interface Task {
  /** Absolute due time (Scheduler.now() milliseconds); set by the scheduler. */
  due: number;
  /** Position in the heap, -1 when not scheduled; owned by the scheduler. */
  heapIndex: number;
  /** Called once when due, with the current time. */
  fire(now: number): void;
}

/** A task whose fire() calls a method of its owner: lets one object own several timers. */
export class TaskSlot<T> implements Task {
  due = 0;
  heapIndex = -1;
  constructor(
    private readonly owner: T,
    private readonly method: (this: T, now: number) => void,
  ) {}
  fire(now: number): void {
    this.method.call(this.owner, now);
  }
}

export type Clock = () => number;

/** Longest stretch of task firing before the scheduler lets the event loop poll I/O. */
const BATCH_BUDGET_MS = 10;

export const monotonicNow: Clock = () => performance.now();

export class Scheduler {
  private readonly heap: Task[] = [];
  private timer: NodeJS.Timeout | null = null;
  private armedAt = Infinity;
  private readonly onTimer = (): void => this.run();
  private immediate: NodeJS.Immediate | null = null;
  private readonly onImmediate = (): void => {
    this.immediate = null;
    this.run();
  };
  private closed = false;

  /**
   * @param now monotonic clock in ms
   * @param slackMs tasks due within this much of a run fire in that run (a little early): fewer
   *   wake-ups when thousands of tasks are spread over an interval
   */
  constructor(
    readonly now: Clock = monotonicNow,
    private readonly slackMs = 0.5,
  ) {}

  get size(): number {
    return this.heap.length;
  }

  /** Schedules (or reschedules) a task at an absolute time. */
  at(task: Task, due: number): void {
    if (this.closed) return;
    if (task.heapIndex >= 0) {
      const old = task.due;
      task.due = due;
      if (due < old) this.up(task.heapIndex);
      else this.down(task.heapIndex);
    } else {
      task.due = due;
      task.heapIndex = this.heap.length;
      this.heap.push(task);
      this.up(task.heapIndex);
    }
    if (this.heap[0] === task) this.arm();
  }

  /** Schedules a task after a delay in milliseconds. */
  after(task: Task, delayMs: number): void {
    this.at(task, this.now() + delayMs);
  }

  cancel(task: Task): void {
    const i = task.heapIndex;
    if (i < 0) return;
    const last = this.heap.pop() as Task;
    task.heapIndex = -1;
    if (i < this.heap.length) {
      this.heap[i] = last;
      last.heapIndex = i;
      this.up(i);
      this.down(last.heapIndex);
    }
    if (this.heap.length === 0) this.disarm();
  }

  isScheduled(task: Task): boolean {
    return task.heapIndex >= 0;
  }

  /** Cancels every task and the timer. */
  close(): void {
    this.closed = true;
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.immediate = null;
    for (const t of this.heap) t.heapIndex = -1;
    this.heap.length = 0;
    this.disarm();
  }

  /**
   * Fires the tasks due when the run starts (not those that fall due meanwhile: a task that keeps
   * rescheduling itself cannot starve I/O), and yields to the event loop (setImmediate, after the
   * poll phase) once a batch exceeds its time budget.
   */
  private run(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.armedAt = Infinity;
    const start = this.now();
    const limit = start + this.slackMs;
    let n = 0;
    while (this.heap.length > 0 && this.heap[0].due <= limit) {
      const task = this.pop();
      task.fire(this.now());
      if ((++n & 31) === 0 && this.now() - start > BATCH_BUDGET_MS) {
        if (this.immediate === null) this.immediate = setImmediate(this.onImmediate);
        return;
      }
    }
    this.arm();
  }

  private pop(): Task {
    const top = this.heap[0];
    const last = this.heap.pop() as Task;
    top.heapIndex = -1;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      last.heapIndex = 0;
      this.down(0);
    }
    return top;
  }

  private arm(): void {
    if (this.immediate !== null) return; // a continuation is pending; it re-arms when done
    if (this.closed || this.heap.length === 0) {
      this.disarm();
      return;
    }
    const due = this.heap[0].due;
    if (this.timer !== null && this.armedAt <= due) return;
    if (this.timer !== null) clearTimeout(this.timer);
    const delay = Math.max(0, due - this.slackMs - this.now());
    this.armedAt = due;
    this.timer = setTimeout(this.onTimer, delay);
  }

  private disarm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.armedAt = Infinity;
  }

  private up(i: number): void {
    const heap = this.heap;
    const task = heap[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p];
      if (parent.due <= task.due) break;
      heap[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    heap[i] = task;
    task.heapIndex = i;
  }

  private down(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const task = heap[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && heap[r].due < heap[l].due ? r : l;
      if (heap[c].due >= task.due) break;
      heap[i] = heap[c];
      heap[i].heapIndex = i;
      i = c;
    }
    heap[i] = task;
    task.heapIndex = i;
  }
}
