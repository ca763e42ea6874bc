// systemd integration for Type=notify units: READY=1, RELOADING=1 (with MONOTONIC_USEC), STOPPING=1,
// STATUS=..., and the watchdog (WATCHDOG=1 every half of $WATCHDOG_USEC). A no-op outside systemd.
import { nativeModule } from '../net/native';

interface SdNotifyNative {
  notify(socketPath: string, message: string): void;
}

export class SdNotify {
  private watchdog: NodeJS.Timeout | undefined;

  constructor(
    private readonly socketPath: string | undefined = process.env.NOTIFY_SOCKET,
    private readonly watchdogUsec: number | undefined = watchdogFromEnv(),
  ) {}

  get enabled(): boolean {
    return this.socketPath !== undefined && this.socketPath !== '';
  }

  send(message: string): void {
    if (!this.enabled) return;
    nativeModule<SdNotifyNative>('sdnotify').notify(this.socketPath as string, message);
  }

  ready(status?: string): void {
    this.send(`READY=1\n${status ? `STATUS=${status}\n` : ''}`);
    this.startWatchdog();
  }

  reloading(): void {
    this.send(`RELOADING=1\nMONOTONIC_USEC=${monotonicUsec()}\n`);
  }

  status(text: string): void {
    this.send(`STATUS=${text}\n`);
  }

  stopping(): void {
    this.stopWatchdog();
    this.send('STOPPING=1\n');
  }

  private startWatchdog(): void {
    if (!this.enabled || !this.watchdogUsec || this.watchdog) return;
    const everyMs = Math.max(1, Math.floor(this.watchdogUsec / 2000));
    this.watchdog = setInterval(() => {
      try {
        this.send('WATCHDOG=1\n');
      } catch {
        // systemd's socket went away (it is restarting, or we were started by hand): nothing to tell.
      }
    }, everyMs);
    this.watchdog.unref();
  }

  stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = undefined;
  }
}

function watchdogFromEnv(): number | undefined {
  const usec = Number(process.env.WATCHDOG_USEC);
  const pid = process.env.WATCHDOG_PID;
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  if (pid !== undefined && Number(pid) !== process.pid) return undefined;
  return usec;
}

function monotonicUsec(): string {
  return (process.hrtime.bigint() / 1000n).toString();
}
