/**
 * lbd's in-memory configuration model, the single result of loading either a YAML file or a
 * keepalived.conf. Field names are keepalived's parameter names (snake_case) so that operators
 * recognise them; the YAML schema uses the same names (see config/README.md).
 *
 * Conventions:
 * - every duration is a number of milliseconds (possibly fractional for sub-millisecond GARP intervals);
 * - every default is resolved: a checker carries its effective connect_timeout, retry, delay_loop, ...
 *   (keepalived's inheritance virtual server -> real server -> checker is already applied);
 * - addresses are strings as written (validated IPv4 or IPv6), prefixes are numbers.
 */

export type AddressFamily = 'inet' | 'inet6';

/** A command run by lbd (notify scripts, quorum scripts): the command line and who runs it. */
export interface ScriptCommand {
  /** The command line as written (a path, optionally followed by arguments). */
  command: string;
  user?: string;
  group?: string;
}

export interface GlobalSettings {
  /** Identifies this director in logs and notifications. */
  router_id?: string;
  /** User and group for scripts (vrrp_script, notify, MISC_CHECK) when not given per script. */
  script_user?: string;
  script_group?: string;
  /** Refuse to run scripts writable by non-root users. */
  enable_script_security: boolean;
  /** Default VRRP version of instances (IPv6 instances always use 3). */
  vrrp_version: 2 | 3;
  vrrp_mcast_group4: string;
  vrrp_mcast_group6: string;
  /** Defaults for the instances' garp_* settings (durations in ms). */
  vrrp_garp_master_delay: number;
  vrrp_garp_master_repeat: number;
  vrrp_garp_master_refresh: number;
  vrrp_garp_master_refresh_repeat: number;
  vrrp_garp_lower_prio_delay: number;
  vrrp_garp_lower_prio_repeat: number;
  vrrp_garp_interval: number;
  vrrp_gna_interval: number;
  /** Send one gratuitous ARP/NA only, with no second burst. */
  vrrp_min_garp: boolean;
  vrrp_strict: boolean;
  vrrp_skip_check_adv_addr: boolean;
  /** Log every failed check, not only state changes (default of the checkers' log_all_failures). */
  checker_log_all_failures: boolean;
  /** Flush IPVS at start-up / on stop. */
  lvs_flush: boolean;
  lvs_flush_on_stop: boolean;
}

export interface VrrpScript {
  name: string;
  /** The command line run periodically; exit 0 is success. */
  script: string;
  interval: number;
  /** Time after which a running script counts as failed (default: interval). */
  timeout: number;
  /** Priority adjustment -253..253; 0 means fault on failure. */
  weight: number;
  weight_reverse: boolean;
  rise: number;
  fall: number;
  user?: string;
  group?: string;
  init_fail: boolean;
}

export type VipScope = 'global' | 'site' | 'link' | 'host' | 'nowhere';

export interface VirtualIpAddress {
  address: string;
  family: AddressFamily;
  /** Prefix length (default 32 for IPv4, 128 for IPv6). */
  prefix: number;
  /** Interface the address goes on (default: the instance's interface). */
  dev?: string;
  label?: string;
  scope?: VipScope;
  broadcast?: string;
  peer?: string;
  no_track: boolean;
}

export interface TrackInterface {
  interface: string;
  /** 0: fault when down; otherwise a priority adjustment -253..253. */
  weight: number;
  reverse: boolean;
}

export interface TrackScript {
  script: string;
  /** The effective weight: the one given here, else the vrrp_script's. */
  weight: number;
  reverse: boolean;
}

export interface VrrpAuthentication {
  auth_type: 'PASS';
  /** At most 8 characters (what goes in the VRRPv2 packet). */
  auth_pass: string;
}

export interface VrrpInstance {
  name: string;
  state: 'MASTER' | 'BACKUP';
  interface?: string;
  virtual_router_id: number;
  priority: number;
  /** Advertisement interval in ms (whole seconds for v2, centiseconds for v3). */
  advert_int: number;
  version: 2 | 3;
  family: AddressFamily;
  authentication?: VrrpAuthentication;
  virtual_ipaddress: VirtualIpAddress[];
  virtual_ipaddress_excluded: VirtualIpAddress[];
  mcast_src_ip?: string;
  unicast_src_ip?: string;
  unicast_peer: string[];
  unicast_ttl?: number;
  track_interface: TrackInterface[];
  track_script: TrackScript[];
  dont_track_primary: boolean;
  notify_master?: ScriptCommand;
  notify_backup?: ScriptCommand;
  notify_fault?: ScriptCommand;
  notify_stop?: ScriptCommand;
  notify?: ScriptCommand;
  nopreempt: boolean;
  preempt_delay: number;
  accept: boolean;
  strict_mode: boolean;
  skip_check_adv_addr: boolean;
  down_timer_adverts: number;
  garp_master_delay: number;
  garp_master_repeat: number;
  garp_master_refresh: number;
  garp_master_refresh_repeat: number;
  garp_lower_prio_delay: number;
  garp_lower_prio_repeat: number;
  garp_interval: number;
  gna_interval: number;
  /** Name of the sync group the instance belongs to, if any. */
  sync_group?: string;
}

export interface VrrpSyncGroup {
  name: string;
  group: string[];
  track_interface: TrackInterface[];
  track_script: TrackScript[];
  notify_master?: ScriptCommand;
  notify_backup?: ScriptCommand;
  notify_fault?: ScriptCommand;
  notify_stop?: ScriptCommand;
  notify?: ScriptCommand;
}

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export const SCHEDULERS = [
  'rr',
  'wrr',
  'lc',
  'wlc',
  'lblc',
  'lblcr',
  'dh',
  'sh',
  'mh',
  'sed',
  'nq',
  'fo',
  'ovf',
  'twos',
] as const;
export type Scheduler = (typeof SCHEDULERS)[number];

export const SCHED_FLAGS = [
  'flag-1',
  'flag-2',
  'flag-3',
  'sh-port',
  'sh-fallback',
  'mh-port',
  'mh-fallback',
] as const;
export type SchedFlag = (typeof SCHED_FLAGS)[number];

export type ForwardingMethod = 'NAT' | 'DR' | 'TUN';

export interface TunnelOptions {
  type: 'ipip' | 'gue' | 'gre';
  /** UDP port, GUE only. */
  port?: number;
  checksum?: 'nocsum' | 'csum' | 'remcsum';
}

export interface Forwarding {
  method: ForwardingMethod;
  /** Only with method TUN. */
  tunnel?: TunnelOptions;
}

export interface HttpUrl {
  path: string;
  /** MD5 of the body, lower-case hex, as keepalived's genhash prints it. */
  digest?: string;
  /** Accepted status codes as inclusive ranges (default [[200, 299]]). */
  status_code: Array<[number, number]>;
  virtualhost?: string;
  regex?: string;
  regex_no_match: boolean;
}

/** Parameters every checker has (MISC_CHECK has only the timing ones). */
export interface CheckCommon {
  connect_ip?: string;
  connect_port?: number;
  bindto?: string;
  bind_if?: string;
  bind_port?: number;
  fwmark?: number;
  connect_timeout: number;
  retry: number;
  delay_before_retry: number;
  delay_loop: number;
  /** Maximum random delay before the first check (0: none). */
  warmup: number;
  alpha: boolean;
  log_all_failures: boolean;
}

export interface TcpCheck extends CheckCommon {
  checker: 'TCP_CHECK';
}

export interface HttpCheck extends CheckCommon {
  checker: 'HTTP_GET' | 'SSL_GET';
  http_protocol: '1.0' | '1.0C' | '1.1';
  fast_recovery: boolean;
  /** SSL_GET only: send SNI (the virtualhost, else connect_ip). */
  enable_sni: boolean;
  virtualhost?: string;
  url: HttpUrl[];
}

export interface MiscCheck extends CheckCommon {
  checker: 'MISC_CHECK';
  misc_path: string;
  misc_timeout: number;
  misc_dynamic: boolean;
  user?: string;
  group?: string;
}

export const DNS_TYPES = ['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA'] as const;
export type DnsType = (typeof DNS_TYPES)[number];

export interface DnsCheck extends CheckCommon {
  checker: 'DNS_CHECK';
  type: DnsType;
  name: string;
}

export type HealthCheck = TcpCheck | HttpCheck | MiscCheck | DnsCheck;
export type CheckerType = HealthCheck['checker'];

export interface RealServer {
  address: string;
  family: AddressFamily;
  /** The service's port when not given; absent for a fwmark service without one. */
  port?: number;
  weight: number;
  forwarding: Forwarding;
  inhibit_on_failure: boolean;
  /** lbd extension: ms over which a real server coming back ramps up to its weight (0: at once). */
  slow_start: number;
  /** Connection thresholds (0: none). */
  uthreshold: number;
  lthreshold: number;
  notify_up?: ScriptCommand;
  notify_down?: ScriptCommand;
  alpha: boolean;
  virtualhost?: string;
  checks: HealthCheck[];
}

export interface SorryServer {
  address: string;
  port?: number;
  forwarding: Forwarding;
  inhibit: boolean;
}

/** What a virtual service listens on: an address and port, a firewall mark, or a group. */
export type ServiceKey =
  | { kind: 'address'; address: string; port: number; protocol: Protocol }
  | { kind: 'fwmark'; fwmark: number }
  | { kind: 'group'; group: string; protocol: Protocol };

export interface VirtualServer {
  /** A stable name: "TCP 192.168.4.15:80", "FWM 1", "GROUP name TCP". */
  id: string;
  key: ServiceKey;
  family: AddressFamily;
  protocol: Protocol;
  lvs_sched: Scheduler;
  sched_flags: SchedFlag[];
  /** One-packet scheduling (UDP). */
  ops: boolean;
  forwarding: Forwarding;
  /** Persistence timeout in ms, absent when not persistent. */
  persistence_timeout?: number;
  /** Persistence netmask: a dotted IPv4 mask or an IPv6 prefix length. */
  persistence_granularity?: string;
  quorum: number;
  hysteresis: number;
  quorum_up?: ScriptCommand;
  quorum_down?: ScriptCommand;
  sorry_server?: SorryServer;
  virtualhost?: string;
  alpha: boolean;
  omega: boolean;
  ha_suspend: boolean;
  inhibit_on_failure: boolean;
  /** lbd extension: default slow_start of the real servers, ms (0: off). */
  slow_start: number;
  /** The defaults the real servers' checks inherited. */
  delay_loop: number;
  real_servers: RealServer[];
}

export type VirtualServerGroupEntry =
  | { kind: 'range'; family: AddressFamily; first: string; last: string; port?: number }
  | { kind: 'fwmark'; fwmark: number; family?: AddressFamily };

export interface VirtualServerGroup {
  name: string;
  entries: VirtualServerGroupEntry[];
}

export interface LvsSyncDaemon {
  interface: string;
  /** The VRRP instance whose state selects master or backup; both run when absent. */
  instance?: string;
  sync_id: number;
  maxlen?: number;
  port: number;
  ttl?: number;
  group?: string;
}

export interface LvsTimeouts {
  tcp?: number;
  tcp_fin?: number;
  udp?: number;
}

export interface MetricsSettings {
  enabled: boolean;
  address: string;
  port: number;
  path: string;
}

export interface ControlSettings {
  socket: string;
  /** File mode of the socket. */
  mode: number;
  group?: string;
}

export interface Config {
  global: GlobalSettings;
  vrrp_scripts: VrrpScript[];
  vrrp_instances: VrrpInstance[];
  vrrp_sync_groups: VrrpSyncGroup[];
  virtual_server_groups: VirtualServerGroup[];
  virtual_servers: VirtualServer[];
  lvs_sync_daemon?: LvsSyncDaemon;
  lvs_timeouts?: LvsTimeouts;
  metrics: MetricsSettings;
  control: ControlSettings;
}
