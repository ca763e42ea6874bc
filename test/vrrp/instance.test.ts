import { test, mock } from 'node:test';
import * as assert from 'node:assert/strict';
import { DEFAULT_GARP, InstanceSettings, VrrpInstance } from '../../src/vrrp/instance';
import { EventStream } from '../../src/vrrp/events';
import { SyncGroup } from '../../src/vrrp/sync-group';
import { masterDownMs } from '../../src/vrrp/timing';

/** A LAN of fake routers: adverts sent by one are delivered to the others (in order, no recursion). */
class FakeLan {
  readonly routers: Router[] = [];
  private queue: (() => void)[] = [];
  private flushing = false;
  deliver(from: Router, priority: number): void {
    for (const r of this.routers) {
      if (r === from || r.down) continue;
      this.queue.push(() =>
        r.vrrp.onAdvert(
          {
            version: 3,
            vrid: 1,
            priority,
            intervalCs: from.vrrp.settings.intervalCs,
            addresses: ['10.0.0.100'],
            authType: 0,
          },
          from.addr,
        ),
      );
    }
    if (this.flushing) return;
    this.flushing = true;
    while (this.queue.length) this.queue.shift()!();
    this.flushing = false;
  }
}

class Router {
  vips = false;
  garps = 0;
  sent: number[] = [];
  down = false;
  readonly vrrp: VrrpInstance;
  constructor(
    lan: FakeLan,
    readonly addr: string,
    s: Partial<InstanceSettings>,
    readonly events = new EventStream(),
  ) {
    const settings: InstanceSettings = {
      name: `vi-${addr}`,
      vrid: 1,
      version: 3,
      priority: 100,
      intervalCs: 100,
      preempt: true,
      preemptDelayMs: 0,
      initialMaster: false,
      primaryAddress: addr,
      garp: { ...DEFAULT_GARP, masterDelayMs: 0 },
      ...s,
    };
    this.vrrp = new VrrpInstance(
      settings,
      {
        sendAdvert: (p) => {
          this.sent.push(p);
          if (!this.down) lan.deliver(this, p);
        },
        takeVips: () => (this.vips = true),
        releaseVips: () => (this.vips = false),
        sendGratuitous: () => this.garps++,
      },
      this.events,
    );
    lan.routers.push(this);
  }
  /** kill -9: silent from now on, keeps nothing running. */
  crash(): void {
    this.down = true;
    this.vrrp.removeAllListeners();
    // Stop its timers without sending anything.
    (this.vrrp as unknown as { clearTimers(): void }).clearTimers();
  }
}

/** Advances the fake clock in small steps (node 20's tick moves Date to the end before firing). */
function advance(ms: number): void {
  for (let done = 0; done < ms; done += 5) mock.timers.tick(Math.min(5, ms - done));
}

function setup(t: { after(fn: () => void): void }) {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  t.after(() => mock.timers.reset());
  return new FakeLan();
}

test('master down interval: 3 x interval + skew', () => {
  assert.equal(masterDownMs(3, 100, 100), 3000 + (156 * 1000) / 256);
  assert.equal(masterDownMs(2, 150, 100), 3000 + (106 * 1000) / 256);
  assert.equal(masterDownMs(3, 255, 10), 300 + 100 / 256);
});

test('election: the higher priority becomes master, the other stays backup', (t) => {
  const lan = setup(t);
  const a = new Router(lan, '10.0.0.1', { priority: 150 });
  const b = new Router(lan, '10.0.0.2', { priority: 100 });
  a.vrrp.start();
  b.vrrp.start();
  assert.equal(a.vrrp.state, 'BACKUP');
  advance(3000 + (106 * 1000) / 256 + 1);
  assert.equal(a.vrrp.state, 'MASTER');
  assert.ok(a.vips);
  assert.ok(a.garps >= 5);
  advance(10_000);
  assert.equal(b.vrrp.state, 'BACKUP');
  assert.equal(b.vips, false);
  assert.equal(a.vrrp.state, 'MASTER');
});

test('equal priorities: the higher primary address wins', (t) => {
  const lan = setup(t);
  const a = new Router(lan, '10.0.0.1', { priority: 100, initialMaster: true });
  const b = new Router(lan, '10.0.0.2', { priority: 100, initialMaster: true });
  a.vrrp.start();
  b.vrrp.start();
  advance(5000);
  assert.equal(b.vrrp.state, 'MASTER');
  assert.equal(a.vrrp.state, 'BACKUP');
  assert.ok(a.vrrp.counters.duplicateMaster >= 1, 'split brain was counted');
  assert.equal(
    a.events.since().filter((e) => e.type === 'duplicate_master').length,
    a.vrrp.counters.duplicateMaster,
  );
});

test('master crash: the backup takes over within Master_Down_Interval', (t) => {
  const lan = setup(t);
  const a = new Router(lan, '10.0.0.1', { priority: 150, initialMaster: true });
  const b = new Router(lan, '10.0.0.2', { priority: 100 });
  a.vrrp.start();
  b.vrrp.start();
  advance(2001); // just after a's advert at 2 s
  assert.equal(b.vrrp.state, 'BACKUP');
  a.crash();
  const mdi = masterDownMs(3, 100, 100);
  advance(mdi - 100 - 1);
  assert.equal(b.vrrp.state, 'BACKUP');
  advance(1000);
  assert.equal(b.vrrp.state, 'MASTER');
  assert.ok(b.vips);
});

test('shutdown sends priority 0 and the backup takes over after Skew_Time only', (t) => {
  const lan = setup(t);
  const a = new Router(lan, '10.0.0.1', { priority: 150, initialMaster: true });
  const b = new Router(lan, '10.0.0.2', { priority: 100 });
  a.vrrp.start();
  b.vrrp.start();
  advance(1500);
  a.vrrp.stop();
  assert.equal(a.sent.at(-1), 0);
  assert.equal(a.vips, false);
  assert.equal(a.vrrp.state, 'STOP');
  advance((156 * 1000) / 256 + 1);
  assert.equal(b.vrrp.state, 'MASTER');
});

test('shutdown with a short skew base: the backup takes over within milliseconds', (t) => {
  const lan = setup(t);
  const a = new Router(lan, '10.0.0.1', { priority: 150, initialMaster: true, shutdownSkewBaseMs: 20 });
  const b = new Router(lan, '10.0.0.2', { priority: 100, shutdownSkewBaseMs: 20 });
  const c = new Router(lan, '10.0.0.3', { priority: 90, shutdownSkewBaseMs: 20 });
  for (const r of [a, b, c]) r.vrrp.start();
  advance(1500);
  a.vrrp.stop();
  advance((156 * 20) / 256 - 1);
  assert.equal(b.vrrp.state, 'BACKUP');
  advance(2);
  assert.equal(b.vrrp.state, 'MASTER');
  advance(3000);
  assert.equal(c.vrrp.state, 'BACKUP', 'the lower backup waited longer and heard b first');
});

test('preemption: a higher priority router coming back takes over; nopreempt does not', (t) => {
  const lan = setup(t);
  const b = new Router(lan, '10.0.0.2', { priority: 100, initialMaster: true });
  b.vrrp.start();
  const a = new Router(lan, '10.0.0.1', { priority: 150 });
  const c = new Router(lan, '10.0.0.3', { priority: 200, preempt: false });
  a.vrrp.start();
  c.vrrp.start();
  advance(5000);
  // a preempts b; c (nopreempt) never takes over although highest.
  assert.equal(a.vrrp.state, 'MASTER');
  assert.equal(b.vrrp.state, 'BACKUP');
  assert.equal(c.vrrp.state, 'BACKUP');
  advance(20_000);
  assert.equal(a.vrrp.state, 'MASTER');
  assert.equal(c.vrrp.state, 'BACKUP');
});

test('preempt_delay: the higher priority router waits before taking over', (t) => {
  const lan = setup(t);
  const b = new Router(lan, '10.0.0.2', { priority: 100, initialMaster: true });
  b.vrrp.start();
  const a = new Router(lan, '10.0.0.1', { priority: 150, preemptDelayMs: 10_000 });
  a.vrrp.start();
  advance(9000);
  assert.equal(a.vrrp.state, 'BACKUP');
  assert.equal(b.vrrp.state, 'MASTER');
  advance(2500);
  assert.equal(a.vrrp.state, 'MASTER');
  assert.equal(b.vrrp.state, 'BACKUP');
});

test('priority 255 owner starts master at once', (t) => {
  const lan = setup(t);
  const a = new Router(lan, '10.0.0.1', { priority: 255 });
  a.vrrp.start();
  assert.equal(a.vrrp.state, 'MASTER');
  a.vrrp.setTrack('script:x', { delta: -100 });
  assert.equal(a.vrrp.priority, 255, 'tracking does not move the owner');
});

test('tracking: fault releases the VIPs at once with priority 0; weight lowers priority and the peer preempts', (t) => {
  const lan = setup(t);
  const a = new Router(lan, '10.0.0.1', { priority: 150, initialMaster: true });
  const b = new Router(lan, '10.0.0.2', { priority: 100 });
  a.vrrp.start();
  b.vrrp.start();
  advance(2000);
  a.vrrp.setTrack('interface:eth0', { fault: true });
  assert.equal(a.vrrp.state, 'FAULT');
  assert.equal(a.vips, false);
  assert.equal(a.sent.at(-1), 0);
  advance(1000);
  assert.equal(b.vrrp.state, 'MASTER');
  a.vrrp.setTrack('interface:eth0', { fault: false });
  assert.equal(a.vrrp.state, 'BACKUP');
  advance(5000);
  assert.equal(a.vrrp.state, 'MASTER', 'preempted back after recovery');
  a.vrrp.setTrack('script:chk', { delta: -60 });
  assert.equal(a.vrrp.priority, 90);
  advance(5000);
  assert.equal(b.vrrp.state, 'MASTER');
  assert.equal(a.vrrp.state, 'BACKUP');
  const ev = a.events.since();
  assert.deepEqual(
    ev.filter((e) => e.type === 'transition').map((e) => (e.type === 'transition' ? e.to : '')),
    ['MASTER', 'FAULT', 'BACKUP', 'MASTER', 'BACKUP'],
  );
  assert.deepEqual(
    ev.map((e) => e.seq),
    ev.map((_, i) => i + 1),
  );
});

test('sync group: members change state together', (t) => {
  const lan = setup(t);
  const lan2 = new FakeLan();
  const a1 = new Router(lan, '10.0.0.1', { priority: 150, name: 'a1' });
  const b1 = new Router(lan, '10.0.0.2', { priority: 100, name: 'b1' });
  const a2 = new Router(lan2, '10.0.1.1', { priority: 150, name: 'a2' });
  const b2 = new Router(lan2, '10.0.1.2', { priority: 100, name: 'b2' });
  const events = new EventStream();
  new SyncGroup('g', [a1.vrrp, a2.vrrp], events);
  new SyncGroup('g', [b1.vrrp, b2.vrrp], events);
  for (const r of [a1, b1, a2, b2]) r.vrrp.start();
  advance(5000);
  assert.deepEqual(
    [a1, a2, b1, b2].map((r) => r.vrrp.state),
    ['MASTER', 'MASTER', 'BACKUP', 'BACKUP'],
  );
  // a2's link fails: the whole group on a fails over, so b1 (whose own peer is fine) becomes master too.
  a2.vrrp.setTrack('interface:eth1', { fault: true });
  assert.equal(a1.vrrp.state, 'FAULT');
  advance(1000);
  assert.deepEqual(
    [b1, b2].map((r) => r.vrrp.state),
    ['MASTER', 'MASTER'],
  );
  a2.vrrp.setTrack('interface:eth1', { fault: false });
  advance(10_000);
  assert.deepEqual(
    [a1, a2, b1, b2].map((r) => r.vrrp.state),
    ['MASTER', 'MASTER', 'BACKUP', 'BACKUP'],
  );
});

test('v3 backup adopts the master interval for its Master_Down_Interval', (t) => {
  const lan = setup(t);
  const a = new Router(lan, '10.0.0.1', { priority: 150, initialMaster: true, intervalCs: 10 });
  const b = new Router(lan, '10.0.0.2', { priority: 100, intervalCs: 100 });
  a.vrrp.start();
  b.vrrp.start();
  advance(500);
  assert.equal(b.vrrp.masterAdverIntervalCs, 10);
  a.crash();
  advance(masterDownMs(3, 100, 10) + 1);
  assert.equal(b.vrrp.state, 'MASTER');
});

test('gratuitous ARP / NA: a burst on becoming master, a second after garp_master_delay, refreshes, spacing', (t) => {
  const lan = setup(t);
  const a = new Router(lan, '10.0.0.1', {
    priority: 150,
    initialMaster: true,
    garp: {
      masterDelayMs: 5000,
      masterRepeat: 3,
      masterRefreshMs: 10_000,
      masterRefreshRepeat: 2,
      intervalMs: 100,
    },
  });
  a.vrrp.start();
  assert.equal(a.garps, 1, 'first packet at once');
  advance(250);
  assert.equal(a.garps, 3, 'burst of garp_master_repeat spaced by garp_interval');
  advance(5000);
  assert.equal(a.garps, 6, 'second burst after garp_master_delay');
  advance(5000);
  assert.equal(a.garps, 8, 'refresh burst after garp_master_refresh');
  advance(10_000);
  assert.equal(a.garps, 10);
  a.vrrp.stop();
  advance(20_000);
  assert.equal(a.garps, 10, 'nothing after stop');
});
