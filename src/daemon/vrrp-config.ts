// The VRRP subsystem's view of the configuration (keepalived names, seconds).
import type {
  Config,
  ScriptCommand,
  TrackInterface,
  TrackScript,
  VirtualIpAddress,
  VrrpInstance,
} from '../config/model';
import type { NotifyConfig } from '../vrrp/notify';
import type { TrackRef, VipConfig, VrrpConfig, VrrpInstanceConfig } from '../vrrp/config';

const s = (ms: number) => ms / 1000;

function vip(v: VirtualIpAddress, instance: VrrpInstance): VipConfig {
  const out: VipConfig = { address: v.address, prefix: v.prefix, dev: v.dev ?? instance.interface };
  if (v.label !== undefined) out.label = v.label;
  if (v.scope !== undefined) out.scope = v.scope;
  return out;
}

function track(t: TrackInterface | TrackScript, name: string): TrackRef {
  return t.weight !== 0 ? { name, weight: t.reverse ? -t.weight : t.weight } : { name };
}

function command(c: ScriptCommand | undefined): string | undefined {
  return c?.command;
}

function notify(i: VrrpInstance): NotifyConfig {
  const out: NotifyConfig = {};
  const set = (k: keyof NotifyConfig, c: ScriptCommand | undefined) => {
    const cmd = command(c);
    if (cmd !== undefined) (out as Record<string, string>)[k] = cmd;
  };
  set('master', i.notify_master);
  set('backup', i.notify_backup);
  set('fault', i.notify_fault);
  set('stop', i.notify_stop);
  set('notify', i.notify);
  return out;
}

function instance(i: VrrpInstance): VrrpInstanceConfig {
  const out: VrrpInstanceConfig = {
    name: i.name,
    interface: i.interface ?? '',
    vrid: i.virtual_router_id,
    priority: i.priority,
    version: i.version,
    advertInt: s(i.advert_int),
    state: i.state,
    nopreempt: i.nopreempt,
    preemptDelay: s(i.preempt_delay),
    vips: i.virtual_ipaddress.map((v) => vip(v, i)),
    unicastPeers: i.unicast_peer,
    garp: {
      masterDelay: s(i.garp_master_delay),
      masterRepeat: i.garp_master_repeat,
      masterRefresh: s(i.garp_master_refresh),
      masterRefreshRepeat: i.garp_master_refresh_repeat,
      interval: s(i.garp_interval),
    },
    trackInterfaces: i.track_interface.map((t) => track(t, t.interface)),
    trackScripts: i.track_script.map((t) => track(t, t.script)),
    notify: notify(i),
  };
  if (i.authentication) out.auth = { type: 'PASS', pass: i.authentication.auth_pass };
  if (i.unicast_src_ip !== undefined) out.unicastSrcIp = i.unicast_src_ip;
  return out;
}

export function vrrpConfig(config: Config): VrrpConfig {
  return {
    instances: config.vrrp_instances.map(instance),
    scripts: config.vrrp_scripts.map((sc) => ({
      name: sc.name,
      script: sc.script,
      interval: s(sc.interval),
      timeout: s(sc.timeout),
      weight: sc.weight_reverse ? -sc.weight : sc.weight,
      rise: sc.rise,
      fall: sc.fall,
    })),
    syncGroups: config.vrrp_sync_groups.map((g) => {
      const n: NotifyConfig = {};
      if (g.notify_master) n.master = g.notify_master.command;
      if (g.notify_backup) n.backup = g.notify_backup.command;
      if (g.notify_fault) n.fault = g.notify_fault.command;
      if (g.notify_stop) n.stop = g.notify_stop.command;
      if (g.notify) n.notify = g.notify.command;
      return { name: g.name, instances: g.group, notify: n };
    }),
  };
}
