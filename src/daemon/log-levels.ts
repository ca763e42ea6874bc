// The subsystems and levels of lbd's logs: what the command line accepts, without loading the logger
// (pino) for commands that never log, such as lbd --validate.
export const SUBSYSTEMS = [
  'daemon',
  'config',
  'ipvs',
  'reconcile',
  'health',
  'vrrp',
  'control',
  'metrics',
] as const;
export type Subsystem = (typeof SUBSYSTEMS)[number];
export type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export const LEVELS: readonly Level[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
