/**
 * Garbage collection for a process that runs checks on a schedule: young-generation collections
 * (scavenges) on the main thread alone, without V8's helper threads.
 *
 * A parallel scavenge makes the main thread wait for its helpers. On a busy machine a helper waiting
 * for a CPU stretches the pause: in bench/health (load 5-7 on 2 cores) one scavenge stopped lbd's
 * event loop for 89 ms while its main thread ran 14 ms and waited 8 ms for a CPU, the rest waiting
 * for the helpers. lbd's young generation keeps little alive, so one thread collects it in a few ms.
 * bench/health at load ~5, three 15 s windows each: longest GC pause 3-9 ms on the main thread,
 * 13-29 ms parallel, CPU per check the same (36 us). A synthetic churn of short-lived objects with
 * 3 CPU hogs on 2 cores: 1.2-1.4 s of pauses in 8 s on the main thread, 3.8-3.9 s parallel.
 * Old-generation collections are left as they are (concurrent marking; rare once the checks run).
 */
import * as v8 from 'node:v8';

let applied = false;

/** Runs scavenges on the main thread (V8 --no-parallel-scavenge); takes effect at the next one. */
export function scavengeOnMainThread(): void {
  if (applied) return;
  applied = true;
  v8.setFlagsFromString('--no-parallel-scavenge');
}
