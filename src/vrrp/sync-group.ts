// Sync groups (keepalived vrrp_sync_group): instances that change state together. One member
// becoming master takes the others to master, one falling back to backup takes them to backup, one
// in fault puts them all in fault until it recovers.
import { EventStream, VrrpState } from './events';
import { SyncGate, VrrpInstance } from './instance';

export class SyncGroup implements SyncGate {
  private propagating = false;

  constructor(
    readonly name: string,
    readonly members: VrrpInstance[],
    private readonly events: EventStream,
  ) {
    for (const m of members) {
      m.syncGate = this;
      m.on('transition', (from: VrrpState, to: VrrpState, reason: string) =>
        this.follow(m, from, to, reason),
      );
    }
  }

  canBecomeMaster(member: VrrpInstance): boolean {
    return this.members.every((m) => m === member || !m.hearsMaster());
  }

  private follow(origin: VrrpInstance, _from: VrrpState, to: VrrpState, reason: string): void {
    if (this.propagating || reason.startsWith(`sync group ${this.name}`)) return;
    this.propagating = true;
    try {
      const why = `sync group ${this.name}: ${origin.name} ${to}`;
      const key = `sync:${this.name}:${origin.name}`;
      for (const m of this.members) {
        if (m === origin) continue;
        if (to === 'FAULT') m.setTrack(key, { fault: true }, why);
        else {
          m.clearTrack(key);
          if (to === 'MASTER' || to === 'BACKUP') m.force(to, why);
        }
      }
    } catch (e) {
      this.events.publish({ type: 'error', message: `sync group ${this.name}: ${String(e)}` });
    } finally {
      this.propagating = false;
    }
  }
}
