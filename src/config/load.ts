/** Loading a configuration file (YAML or keepalived.conf, detected by content) into the model. */
import * as os from 'node:os';
import { type BuildResult, VirtualServerStream, buildConfig } from './build/index';
import { ConfigError, type Diagnostic, Diagnostics } from './diagnostics';
import type { MapNode } from './document';
import { type HostProbe, checkHost } from './host';
import { KeepalivedMapper } from './keepalived/map';
import { parseKeepalived } from './keepalived/parse';
import type { Config } from './model';
import { SourceFiles } from './source';
import { loadYamlDocument } from './yaml/load';

export type ConfigFormat = 'yaml' | 'keepalived';

export interface LoadOptions {
  /** Default: detected from the content. */
  format?: ConfigFormat;
  /**
   * Missing interfaces and scripts: 'warning' when validating (possibly on another host), 'error' when
   * lbd starts, 'off' to skip the check. Default 'warning'.
   */
  hostChecks?: 'warning' | 'error' | 'off';
  /** keepalived's config id for '@id' lines (keepalived -i); default: the host name up to the first dot. */
  configId?: string;
  /** For tests: what the host has. */
  host?: HostProbe;
}

export interface ValidationResult {
  file: string;
  format: ConfigFormat;
  /** The model, when there are no errors. */
  config?: Config;
  /** Every error and warning, sorted by file and position. */
  diagnostics: Diagnostic[];
  errors: number;
  warnings: number;
  /** Every file read (the main one and its includes). */
  files: string[];
  /** Could not read the main file. */
  unreadable: boolean;
}

/** YAML or keepalived.conf, from the first meaningful line. */
export function detectFormat(text: string, file = ''): ConfigFormat {
  for (const raw of text.split('\n', 200)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('!') || line.startsWith('@') || line.startsWith('$') || line.startsWith('~'))
      return 'keepalived';
    if (line === '---' || line.startsWith('- ') || line.startsWith('%')) return 'yaml';
    if (/^[A-Za-z_][\w-]*\s*:(\s|$)/.test(line) || /^["'][^"']*["']\s*:/.test(line)) return 'yaml';
    if (/^[A-Za-z_][\w-]*(\s|\{|$)/.test(line)) return 'keepalived';
    break;
  }
  return /\.ya?ml$/i.test(file) ? 'yaml' : 'keepalived';
}

/** keepalived's config id: the one given, else the host name up to the first dot. */
export function defaultConfigId(configId?: string): string {
  return configId ?? os.hostname().split('.')[0];
}

/** The document (YAML-shaped) of a file in either syntax; for import-keepalived and the loader. */
export function readDocument(
  file: string,
  text: string,
  format: ConfigFormat,
  diags: Diagnostics,
  files: SourceFiles,
  configId?: string,
  stream?: VirtualServerStream,
): MapNode {
  if (format === 'yaml') return loadYamlDocument(file, text, diags, files);
  const km = new KeepalivedMapper(diags, file, stream && ((vs) => void stream.builder.add(vs)));
  const opts = { configId: defaultConfigId(configId) };
  parseKeepalived(file, text, diags, files, opts, (s) => km.add(s));
  return km.top;
}

/** Validates a file: never throws for configuration problems, reports them all. */
export function validateConfigFile(file: string, opts: LoadOptions = {}): ValidationResult {
  const files = new SourceFiles();
  const diags = new Diagnostics();
  const text = files.read(file);
  if (text === undefined) {
    diags.error({ file, line: 0, column: 0 }, `cannot read '${file}'`);
    return {
      file,
      format: opts.format ?? 'yaml',
      diagnostics: diags.sorted(),
      errors: 1,
      warnings: 0,
      files: [],
      unreadable: true,
    };
  }
  return validateText(file, text, opts, files, diags);
}

/** Validates configuration text as if read from file. */
export function validateConfigText(file: string, text: string, opts: LoadOptions = {}): ValidationResult {
  const files = new SourceFiles();
  files.paths.push(file);
  return validateText(file, text, opts, files, new Diagnostics());
}

function validateText(
  file: string,
  text: string,
  opts: LoadOptions,
  files: SourceFiles,
  diags: Diagnostics,
): ValidationResult {
  const format = opts.format ?? detectFormat(text, file);
  // keepalived.conf: virtual servers are built as they are read (a large file is never held whole).
  const stream = format === 'keepalived' ? new VirtualServerStream(diags) : undefined;
  const doc = readDocument(file, text, format, diags, files, opts.configId, stream);
  return validationResult(file, format, buildConfig(doc, diags, stream), opts, files, diags);
}

/** Host checks, and the result of a load. */
export function validationResult(
  file: string,
  format: ConfigFormat,
  built: BuildResult,
  opts: LoadOptions,
  files: SourceFiles,
  diags: Diagnostics,
): ValidationResult {
  if ((opts.hostChecks ?? 'warning') !== 'off')
    checkHost(built.facts, diags, opts.hostChecks === 'error' ? 'error' : 'warning', opts.host);
  const diagnostics = diags.sorted();
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const result: ValidationResult = {
    file,
    format,
    diagnostics,
    errors,
    warnings: diagnostics.length - errors,
    files: files.paths,
    unreadable: false,
  };
  if (errors === 0) result.config = built.config;
  return result;
}

/**
 * Loads a file into the model for lbd to run: throws ConfigError (every error, `unreadable` set if the
 * file cannot be read) unless it is valid. Host checks are errors by default here.
 */
export function loadConfigFile(
  file: string,
  opts: LoadOptions = {},
): { config: Config; warnings: Diagnostic[]; format: ConfigFormat; files: string[] } {
  const r = validateConfigFile(file, { hostChecks: 'error', ...opts });
  if (!r.config) throw new ConfigError(r.diagnostics, r.unreadable);
  return { config: r.config, warnings: r.diagnostics, format: r.format, files: r.files };
}

/** A one-line summary of a valid configuration. */
export function summarize(r: ValidationResult): string {
  const c = r.config;
  if (!c) return `${r.file}: ${r.errors} error${r.errors === 1 ? '' : 's'}`;
  const rs = c.virtual_servers.reduce((n, v) => n + v.real_servers.length, 0);
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  return `${r.file}: valid ${r.format === 'yaml' ? 'YAML' : 'keepalived'} configuration: ${plural(c.vrrp_instances.length, 'VRRP instance')}, ${plural(c.virtual_servers.length, 'virtual server')}, ${plural(rs, 'real server')}, ${plural(r.warnings, 'warning')}`;
}
