// The VRRP subsystem's public API, for the daemon (see README.md in this directory).
export { VrrpService } from './service';
export type { InstanceStatus, VrrpServiceOptions } from './service';
export { VrrpConfigError, normaliseInstance, parseVip, validateConfig } from './config';
export type { VipConfig, TrackRef, VrrpConfig, VrrpInstanceConfig, VrrpScriptConfig } from './config';
export { EventStream } from './events';
export type { VrrpEvent, VrrpEventBody, VrrpState } from './events';
export type { NotifyConfig } from './notify';
export { DROP_REASONS } from './packet';
export type { DropReason } from './packet';
