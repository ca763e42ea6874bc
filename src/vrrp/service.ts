// VrrpService: the VRRP subsystem as the daemon (and the standalone runner) uses it. It owns the
// interfaces and their sockets, the instances, tracking, sync groups, notifications, the VIPs
// (through rtnetlink) and the event stream.
import { EventEmitter } from 'node:events';
import { Family } from '../net/ip';
import { LinkEvent, NetlinkError, RtNetlink, SCOPES } from '../net/rtnetlink';
import { NormalInstance, NormalVip, VrrpConfig, scriptConfig, validateConfig } from './config';
import { EventStream, VrrpEvent } from './events';
import { gratuitousArp, unsolicitedNa } from './gratuitous';
import { InstanceCounters, VrrpInstance } from './instance';
import { VrrpLink } from './link';
import { Notifier } from './notify';
import { VRRP_MCAST_V4, VRRP_MCAST_V6, encodeAdvert, ipv4Header } from './packet';
import { Accepted } from './receive';
import { SyncGroup } from './sync-group';
import { TrackScript, trackInput } from './track-script';

export interface InstanceStatus {
  name: string;
  state: string;
  priority: number;
  basePriority: number;
  vrid: number;
  interface: string;
  masterAddress?: string;
  faults: string[];
  counters: InstanceCounters;
  /** The instance's virtual addresses and whether each is on its interface now (read from the kernel). */
  vips: { address: string; dev: string; present: boolean }[];
}

export interface VrrpServiceOptions {
  /** Where errors and warnings go (the daemon's logger); default: the event stream only. */
  log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

interface Member {
  cfg: NormalInstance;
  vrrp: VrrpInstance;
  link: VrrpLink;
  notifier: Notifier;
  vipsWanted: boolean;
  vipOps: Promise<void>;
  silentWarned?: boolean;
  /** VIP address -> present on its interface at the last address listing. */
  vipsPresent: Map<string, boolean>;
  /** Listeners on shared trackers, removed when the member is retired. */
  unsubscribe: (() => void)[];
  lastMismatch?: string;
}

export class VrrpService extends EventEmitter {
  readonly events = new EventStream();
  private rtSocket: RtNetlink | undefined;
  private readonly links = new Map<string, VrrpLink>();
  private readonly members = new Map<string, Member>();
  private readonly scripts = new Map<string, TrackScript>();
  private readonly externals = new Map<string, boolean>();
  private readonly groups: SyncGroup[] = [];
  private readonly groupNotifiers: Notifier[] = [];
  /** Carrier state of every interface by name (track_interface may name any). */
  private readonly linkUp = new Map<string, boolean>();
  private stopWatch: (() => void) | undefined;
  private stopAddrWatch: (() => void) | undefined;
  private addrTimer: ReturnType<typeof setTimeout> | undefined;
  private instances: NormalInstance[];
  private started = false;
  private stopping = false;
  /** Address listings started and the latest one applied (an older listing never overwrites it). */
  private addrListings = 0;
  private addrApplied = 0;

  constructor(
    private config: VrrpConfig,
    private readonly opts: VrrpServiceOptions = {},
  ) {
    super();
    this.instances = validateConfig(config);
    this.events.on('event', (e: VrrpEvent) => this.emit('event', e));
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.rtSocket = new RtNetlink();
    this.stopWatch = this.rt.watchLinks((ev) => this.linkEvent(ev));
    // Source addresses may appear after start (IPv6 link-local once the carrier is up) or change.
    this.stopAddrWatch = this.rt.watchAddresses(() => this.addressesChanged());
    const links = await this.rt.listLinks();
    for (const l of links) this.linkUp.set(l.name, l.running);
    for (const cfg of this.instances) this.attach(cfg);
    for (const link of this.links.values()) {
      const info = links.find((l) => l.name === link.name);
      link.running = info?.running ?? false;
      link.mac = info?.mac;
      if (info) link.ifindex = info.ifindex;
    }
    await this.refreshAddresses();
    await this.removeLeftovers();
    if (this.stopping) return; // stopped while starting
    for (const link of this.links.values()) if (link.running) link.open();

    for (const s of this.config.scripts ?? []) {
      this.scripts.set(s.name, new TrackScript(scriptConfig(s)));
    }
    for (const cfg of this.instances) this.createMember(cfg);
    for (const g of this.config.syncGroups ?? []) this.buildGroup(g);
    await this.refreshAddresses(); // which VIPs are there already (a priority-255 owner's)
    if (this.stopping) return;
    for (const script of this.scripts.values()) script.start();
    for (const m of this.members.values()) m.vrrp.start();
  }

  /** The interface of an instance: its link, socket family and receive spec. */
  private attach(cfg: NormalInstance): VrrpLink {
    let link = this.links.get(cfg.interface);
    if (!link) {
      link = new VrrpLink(
        cfg.interface,
        (a, l) => this.accepted(a, l),
        (m) => this.log('error', m),
        (family) => this.usesMulticast(cfg.interface, family),
      );
      this.links.set(cfg.interface, link);
    }
    link.want(cfg.family);
    link.receiver.add(this.receiveSpec(cfg));
    return link;
  }

  private receiveSpec(cfg: NormalInstance) {
    return {
      vrid: cfg.vrid,
      version: cfg.version,
      family: cfg.family,
      intervalCs: cfg.intervalCs,
      addresses: cfg.vips.map((v) => v.address),
      authType: cfg.authType,
      authPass: cfg.authPass,
      unicastPeers: cfg.unicastPeers.length ? cfg.unicastPeers : undefined,
    };
  }

  private buildGroup(g: NonNullable<VrrpConfig['syncGroups']>[number]): void {
    const members = g.instances.map((n) => this.members.get(n)!.vrrp);
    this.groups.push(new SyncGroup(g.name, members, this.events));
    if (!g.notify) return;
    // Group scripts (keepalived: notify with GROUP) run when every member has reached one state.
    const notifier = new Notifier('GROUP', g.name, g.notify, this.events);
    this.groupNotifiers.push(notifier);
    let last = 'INIT';
    for (const m of members) {
      m.on('transition', () => {
        const states = new Set(members.map((x) => x.state));
        if (states.size !== 1) return;
        const [state] = states;
        if (state === last) return;
        last = state;
        notifier.notify(state, Math.max(...members.map((x) => x.priority)));
      });
    }
  }

  /**
   * Applies a new configuration without disturbing what did not change: instances whose settings,
   * track scripts and sync group are the same keep running (a master stays master); removed ones stop
   * (priority 0 if master); changed ones restart; new ones start.
   */
  async reload(
    config: VrrpConfig,
  ): Promise<{ kept: string[]; restarted: string[]; added: string[]; removed: string[] }> {
    const next = validateConfig(config);
    if (!this.started || this.stopping) throw new Error('VrrpService not running');
    const signature = (conf: VrrpConfig, i: NormalInstance) =>
      JSON.stringify({
        i,
        scripts: i.trackScripts.map((t) => (conf.scripts ?? []).find((s) => s.name === t.name)),
        group: (conf.syncGroups ?? []).find((g) => g.instances.includes(i.name)),
      });
    const oldSig = new Map(this.instances.map((i) => [i.name, signature(this.config, i)]));
    const changed = new Set<string>();
    for (const i of next) if (oldSig.get(i.name) !== signature(config, i)) changed.add(i.name);
    for (const name of oldSig.keys()) if (!next.some((i) => i.name === name)) changed.add(name);
    // A restarted member restarts its whole sync group (old and new).
    for (let grew = true; grew;) {
      grew = false;
      for (const g of [...(this.config.syncGroups ?? []), ...(config.syncGroups ?? [])]) {
        if (!g.instances.some((n) => changed.has(n))) continue;
        for (const n of g.instances) {
          if (!changed.has(n)) {
            changed.add(n);
            grew = true;
          }
        }
      }
    }
    const retired = [...this.members.values()].filter((m) => changed.has(m.cfg.name));
    for (const m of retired) {
      m.vrrp.stop();
      for (const off of m.unsubscribe) off();
      m.link.receiver.remove(this.receiveSpec(m.cfg));
      this.members.delete(m.cfg.name);
    }
    await Promise.all(retired.map((m) => m.vipOps));
    this.groups.splice(
      0,
      this.groups.length,
      ...this.groups.filter((g) => !g.members.some((x) => changed.has(x.name))),
    );
    // Scripts: keep the unchanged ones (kept members listen to them), replace the others.
    const wanted = new Map((config.scripts ?? []).map((s) => [s.name, JSON.stringify(s)]));
    for (const [name, script] of this.scripts) {
      const old = (this.config.scripts ?? []).find((s) => s.name === name);
      if (wanted.get(name) !== JSON.stringify(old)) {
        script.stop();
        this.scripts.delete(name);
      }
    }
    const fresh: TrackScript[] = [];
    for (const s of config.scripts ?? []) {
      if (this.scripts.has(s.name)) continue;
      const script = new TrackScript(scriptConfig(s));
      this.scripts.set(s.name, script);
      fresh.push(script);
    }
    const oldNames = new Set(oldSig.keys());
    this.config = config;
    this.instances = next;
    const starting = next.filter((i) => changed.has(i.name));
    for (const cfg of starting) {
      const link = this.attach(cfg);
      if (link.running) link.openFamily(cfg.family);
    }
    await this.refreshAddresses();
    for (const cfg of starting) this.createMember(cfg);
    for (const g of config.syncGroups ?? []) if (g.instances.some((n) => changed.has(n))) this.buildGroup(g);
    await this.refreshAddresses(); // the new members' VIPs already there (a priority-255 owner's)
    for (const script of fresh) script.start();
    for (const cfg of starting) this.members.get(cfg.name)!.vrrp.start();
    const names = next.map((i) => i.name);
    return {
      kept: names.filter((n) => !changed.has(n)),
      restarted: names.filter((n) => changed.has(n) && oldNames.has(n)),
      added: names.filter((n) => !oldNames.has(n)),
      removed: [...oldNames].filter((n) => !names.includes(n)),
    };
  }

  /** Stops every instance (masters send priority 0 and release their VIPs), waits for VIP removal. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const m of this.members.values()) m.vrrp.stop();
    for (const s of this.scripts.values()) s.stop();
    this.stopWatch?.();
    this.stopAddrWatch?.();
    if (this.addrTimer) clearTimeout(this.addrTimer);
    await Promise.all([...this.members.values()].map((m) => m.vipOps));
    await Promise.all([...this.members.values()].map((m) => m.notifier.idle()));
    await Promise.all(this.groupNotifiers.map((n) => n.idle()));
    for (const l of this.links.values()) l.close();
    this.rtSocket?.close();
    this.rtSocket = undefined;
  }

  /** External tracking input (the daemon: health of its virtual services). */
  setExternal(name: string, up: boolean): void {
    this.externals.set(name, up);
    for (const m of this.members.values()) {
      const t = m.cfg.trackExternal.find((r) => r.name === name);
      if (t)
        m.vrrp.setTrack(
          `external:${name}`,
          trackInput(up, t.weight ?? 0),
          `external ${name} ${up ? 'up' : 'down'}`,
        );
    }
    this.events.publish({ type: 'track', tracker: `external:${name}`, ok: up });
  }

  status(): InstanceStatus[] {
    return [...this.members.values()].map((m) => ({
      name: m.cfg.name,
      state: m.vrrp.state,
      priority: m.vrrp.priority,
      basePriority: m.cfg.priority,
      vrid: m.cfg.vrid,
      interface: m.cfg.interface,
      masterAddress: m.vrrp.masterAddress,
      faults: m.vrrp.faultReasons,
      counters: { ...m.vrrp.counters },
      vips: m.cfg.vips.map((v) => ({
        address: v.address,
        dev: v.dev,
        present: m.vipsPresent.get(v.address) === true,
      })),
    }));
  }

  /** Receive counters per interface (received, accepted, one per drop reason). */
  receiveCounters(): Record<string, Record<string, number>> {
    return Object.fromEntries([...this.links].map(([n, l]) => [n, l.receiver.counters.toJSON()]));
  }

  instance(name: string): VrrpInstance | undefined {
    return this.members.get(name)?.vrrp;
  }

  /** The rtnetlink socket, opened by start(). */
  private get rt(): RtNetlink {
    if (!this.rtSocket) throw new Error('VrrpService not started');
    return this.rtSocket;
  }

  private log(level: 'info' | 'warn' | 'error', msg: string): void {
    if (this.opts.log) this.opts.log(level, msg);
    if (level === 'error') this.events.publish({ type: 'error', message: msg });
  }

  private usesMulticast(ifname: string, family: Family): boolean {
    return this.instances.some(
      (i) => i.interface === ifname && i.family === family && i.unicastPeers.length === 0,
    );
  }

  private createMember(cfg: NormalInstance): void {
    const link = this.links.get(cfg.interface)!;
    const notifier = new Notifier('INSTANCE', cfg.name, cfg.notify, this.events);
    const member = {
      cfg,
      link,
      notifier,
      vipsWanted: false,
      vipsPresent: new Map(),
      vipOps: Promise.resolve(),
      unsubscribe: [],
    } as unknown as Member;
    member.vrrp = new VrrpInstance(
      {
        name: cfg.name,
        vrid: cfg.vrid,
        version: cfg.version,
        priority: cfg.priority,
        intervalCs: cfg.intervalCs,
        preempt: cfg.preempt,
        preemptDelayMs: cfg.preemptDelayMs,
        initialMaster: cfg.initialMaster,
        primaryAddress: this.sourceAddress(member) ?? (cfg.family === 4 ? '0.0.0.0' : '::'),
        garp: cfg.garp,
        shutdownSkewBaseMs: cfg.shutdownSkewBaseMs,
      },
      {
        sendAdvert: (p) => this.sendAdvert(member, p),
        takeVips: () => this.vips(member, true),
        releaseVips: () => this.vips(member, false),
        sendGratuitous: () => this.gratuitous(member),
      },
      this.events,
    );
    member.vrrp.on('transition', (_from: string, to: 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP') =>
      notifier.notify(to, member.vrrp.priority),
    );
    // The instance's own interface is always tracked: down means FAULT.
    if (!link.running) member.vrrp.setTrack(`interface:${link.name}`, { fault: true }, `${link.name} down`);
    for (const t of cfg.trackInterfaces) {
      if (this.linkUp.get(t.name) !== true)
        member.vrrp.setTrack(`interface:${t.name}`, trackInput(false, t.weight ?? 0));
    }
    for (const t of cfg.trackScripts) {
      const s = this.scripts.get(t.name)!;
      const weight = t.weight ?? s.cfg.weight ?? 0;
      const apply = (up: boolean): void => {
        member.vrrp.setTrack(
          `script:${t.name}`,
          trackInput(up, weight),
          `script ${t.name} ${up ? 'up' : 'down'}`,
        );
      };
      const onChange = (up: boolean): void => {
        apply(up);
        this.events.publish({ type: 'track', instance: cfg.name, tracker: `script:${t.name}`, ok: up });
      };
      s.on('change', onChange);
      member.unsubscribe.push(() => s.off('change', onChange));
      if (s.up !== undefined) apply(s.up);
    }
    for (const t of cfg.trackExternal) {
      const up = this.externals.get(t.name);
      if (up !== undefined) member.vrrp.setTrack(`external:${t.name}`, trackInput(up, t.weight ?? 0));
    }
    this.members.set(cfg.name, member);
  }

  private sourceAddress(m: Member): string | undefined {
    if (m.cfg.unicastSrcIp) return m.cfg.unicastSrcIp;
    if (m.cfg.family === 6) return m.link.linkLocal6;
    return m.link.addresses.find((a) => !a.includes(':'));
  }

  private sendAdvert(m: Member, priority: number): void {
    const src = this.sourceAddress(m);
    if (!src || !m.link.isOpen) {
      if (!m.silentWarned)
        this.log('warn', `${m.cfg.name}: cannot advertise on ${m.link.name} (no source address or down)`);
      m.silentWarned = true;
      return;
    }
    m.silentWarned = false;
    const dsts = m.cfg.unicastPeers.length
      ? m.cfg.unicastPeers
      : [m.cfg.family === 4 ? VRRP_MCAST_V4 : VRRP_MCAST_V6];
    for (const dst of dsts) {
      const vrrp = encodeAdvert(
        {
          version: m.cfg.version,
          vrid: m.cfg.vrid,
          priority,
          intervalCs: m.cfg.intervalCs,
          addresses: m.cfg.vips.map((v) => v.address),
          authType: m.cfg.authType,
          authPass: m.cfg.authPass,
        },
        src,
        dst,
      );
      const err =
        m.cfg.family === 4
          ? m.link.send(4, Buffer.concat([ipv4Header(src, dst, vrrp.length), vrrp]), dst)
          : m.link.send(6, vrrp, dst, src);
      if (err > 0) this.log('warn', `${m.cfg.name}: advert to ${dst} failed: errno ${err}`);
    }
  }

  private vipSpec(v: NormalVip) {
    const link = this.links.get(v.dev);
    const ifindex = link?.ifindex ?? 0;
    return { ifindex, address: v.address, prefix: v.prefix, label: v.label, scope: v.scope ?? 'global' };
  }

  private async ifindexOf(dev: string): Promise<number> {
    const l = this.links.get(dev);
    if (l?.ifindex) return l.ifindex;
    return (await this.rt.link(dev))?.ifindex ?? 0;
  }

  /** Queues VIP addition or removal (serialised per instance, so add/remove never overtake). */
  private vips(m: Member, add: boolean): void {
    m.vipsWanted = add;
    // The address owner's virtual addresses are its own: never removed.
    if (!add && m.cfg.priority === 255) return;
    m.vipOps = m.vipOps.then(async () => {
      if (m.vipsWanted !== add) return; // superseded
      for (const v of m.cfg.vips) {
        const spec = { ...this.vipSpec(v), ifindex: await this.ifindexOf(v.dev) };
        if (!spec.ifindex) continue;
        try {
          if (add) await this.rt.addAddress(spec);
          else await this.rt.deleteAddress(spec);
        } catch (e) {
          const code = e instanceof NetlinkError ? e.code : '';
          if (add && code === 'EEXIST') continue;
          if (!add && (code === 'EADDRNOTAVAIL' || code === 'ENODEV' || code === 'ENOENT')) continue;
          this.log('error', `${m.cfg.name}: ${(e as Error).message}`);
        }
      }
      if (add && m.vipsWanted) this.gratuitous(m);
    });
  }

  private gratuitous(m: Member): void {
    if (m.vrrp.state !== 'MASTER' && m.vipsWanted !== true) return;
    for (const v of m.cfg.vips) {
      const link = this.links.get(v.dev) ?? m.link;
      if (!link.mac || !link.ifindex) continue;
      const frame =
        v.family === 4
          ? gratuitousArp(link.mac, v.address)
          : link.linkLocal6
            ? unsolicitedNa(link.mac, link.linkLocal6, v.address)
            : undefined;
      if (frame) link.sendFrame(frame);
    }
  }

  /** VIPs configured here but present at start were left by a crashed lbd: remove them. */
  private async removeLeftovers(): Promise<void> {
    const present = await this.rt.listAddresses();
    for (const cfg of this.instances) {
      if (cfg.priority === 255) continue; // the owner's addresses are its own
      for (const v of cfg.vips) {
        const ifindex = await this.ifindexOf(v.dev);
        const hit = present.find(
          (a) => a.address === v.address && a.ifindex === ifindex && a.prefix === v.prefix,
        );
        if (!hit) continue;
        try {
          await this.rt.deleteAddress({ ...this.vipSpec(v), ifindex });
          this.log(
            'warn',
            `${cfg.name}: removed leftover virtual address ${v.address}/${v.prefix} from ${v.dev}`,
          );
        } catch (e) {
          this.log('error', `${cfg.name}: cannot remove leftover ${v.address}: ${(e as Error).message}`);
        }
      }
    }
    await this.refreshAddresses();
  }

  private addressesChanged(): void {
    if (this.addrTimer) return;
    this.addrTimer = setTimeout(() => {
      this.addrTimer = undefined;
      this.refreshAddresses()
        .then(() => {
          for (const m of this.members.values()) {
            const src = this.sourceAddress(m);
            if (src) m.vrrp.settings.primaryAddress = src;
          }
        })
        .catch((e: Error) => this.log('error', `cannot list addresses: ${e.message}`));
    }, 10);
  }

  private async refreshAddresses(): Promise<void> {
    const listing = ++this.addrListings;
    const devs = new Map<string, number>();
    for (const m of this.members.values())
      for (const v of m.cfg.vips) if (!devs.has(v.dev)) devs.set(v.dev, await this.ifindexOf(v.dev));
    const all = await this.rt.listAddresses();
    if (listing < this.addrApplied) return; // a later listing was applied already
    this.addrApplied = listing;
    const present = new Set(all.map((a) => `${a.ifindex} ${a.address}`));
    for (const m of this.members.values()) this.vipsSeen(m, present, devs);
    const vipSet = new Set(this.instances.flatMap((i) => i.vips.map((v) => v.address)));
    for (const link of this.links.values()) {
      const mine = all.filter((a) => a.ifindex === link.ifindex);
      link.addresses = mine.filter((a) => !vipSet.has(a.address)).map((a) => a.address);
      link.linkLocal6 = mine.find((a) => a.family === 6 && a.scope === SCOPES.link)?.address;
    }
  }

  /** Records which VIPs of an instance are on their interface; a change is published as a vip event. */
  private vipsSeen(m: Member, present: Set<string>, devs: Map<string, number>): void {
    for (const v of m.cfg.vips) {
      const now = present.has(`${devs.get(v.dev)} ${v.address}`);
      const was = m.vipsPresent.get(v.address);
      m.vipsPresent.set(v.address, now);
      if (was !== undefined && was !== now)
        this.events.publish({
          type: 'vip',
          instance: m.cfg.name,
          address: v.address,
          dev: v.dev,
          present: now,
        });
    }
  }

  private accepted(a: Accepted, link: VrrpLink): void {
    for (const m of this.members.values()) {
      if (m.link === link && m.cfg.vrid === a.advert.vrid && m.cfg.family === a.spec.family) {
        if (a.intervalMismatch && m.lastMismatch !== `${a.src}/${a.advert.intervalCs}`) {
          // Once per peer and interval, not per advert.
          m.lastMismatch = `${a.src}/${a.advert.intervalCs}`;
          this.events.publish({
            type: 'interval_mismatch',
            instance: m.cfg.name,
            peer: a.src,
            intervalCs: a.advert.intervalCs,
            ourIntervalCs: m.cfg.intervalCs,
          });
        }
        m.vrrp.onAdvert(a.advert, a.src);
      }
    }
  }

  private linkEvent(ev: LinkEvent): void {
    const link = this.links.get(ev.link.name);
    const running = ev.type === 'new' && ev.link.running;
    const before = this.linkUp.get(ev.link.name);
    this.linkUp.set(ev.link.name, running);
    if (link) {
      const was = link.running;
      const moved = ev.type === 'new' && ev.link.ifindex !== link.ifindex;
      link.running = running;
      if (ev.link.mac) link.mac = ev.link.mac;
      if (ev.type === 'del') link.close();
      if (running && (!was || moved || !link.isOpen)) {
        link.ifindex = ev.link.ifindex;
        this.refreshAddresses()
          .catch((e: Error) => this.log('error', `${link.name}: cannot list addresses: ${e.message}`))
          .then(() => {
            if (!link.running) return;
            link.open();
            for (const m of this.members.values()) {
              if (m.link === link)
                m.vrrp.settings.primaryAddress = this.sourceAddress(m) ?? m.vrrp.settings.primaryAddress;
            }
            this.setInterfaceTracks(ev.link.name, true);
          })
          .catch((e: Error) => this.log('error', `${link.name}: ${e.message}`));
        return;
      }
      if (was !== running) this.setInterfaceTracks(ev.link.name, running);
      return;
    }
    if (before !== running) this.setInterfaceTracks(ev.link.name, running);
  }

  private setInterfaceTracks(name: string, up: boolean): void {
    for (const m of this.members.values()) {
      if (m.cfg.interface === name)
        m.vrrp.setTrack(`interface:${name}`, { fault: !up }, `${name} ${up ? 'up' : 'down'}`);
      const t = m.cfg.trackInterfaces.find((r) => r.name === name);
      if (t)
        m.vrrp.setTrack(`interface:${name}`, trackInput(up, t.weight ?? 0), `${name} ${up ? 'up' : 'down'}`);
    }
  }
}
