/** The configuration library: what the daemon and lbctl use. */
export * from './model';
export { ConfigError, type Diagnostic, type Position, type Severity, formatDiagnostic } from './diagnostics';
export {
  type ConfigFormat,
  type LoadOptions,
  type ValidationResult,
  detectFormat,
  loadConfigFile,
  summarize,
  validateConfigFile,
  validateConfigText,
} from './load';
export { importKeepalived } from './yaml/emit';
export { formatDuration, parseDuration } from './duration';
