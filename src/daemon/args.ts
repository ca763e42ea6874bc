import { UsageError } from '../cli/usage-error';

export interface DaemonArgs {
  help: boolean;
  version: boolean;
  /** -f / --config-file: the configuration (YAML or keepalived.conf). */
  configFile?: string;
  /** --validate (or keepalived's -t / --config-test): check the configuration and exit. */
  validate: boolean;
  /** --format: the configuration syntax, detected from the content when absent. */
  format?: 'yaml' | 'keepalived';
  /** --host-checks: missing interfaces and scripts are errors, warnings, or not checked. */
  hostChecks?: 'error' | 'warning' | 'off';
  /** -i / --config-id: keepalived's config id for '@id' lines. */
  configId?: string;
}

const WITH_VALUE = new Set([
  '-f',
  '--config-file',
  '--use-file',
  '--format',
  '--host-checks',
  '-i',
  '--config-id',
]);

/** Parses lbd's command line. Throws UsageError on anything it does not know. */
export function parseDaemonArgs(argv: readonly string[]): DaemonArgs {
  const args: DaemonArgs = { help: false, version: false, validate: false };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value: string | undefined;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    if (eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if (WITH_VALUE.has(arg) && value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`option '${arg}' needs a value`);
      value = argv[++i];
    } else if (!WITH_VALUE.has(arg) && value !== undefined && arg.startsWith('--')) {
      throw new UsageError(`option '${arg}' takes no value`);
    }
    switch (arg) {
      case '-h':
      case '--help':
        args.help = true;
        break;
      case '-V':
      case '--version':
        args.version = true;
        break;
      case '-f':
      case '--config-file':
      case '--use-file':
        args.configFile = value;
        break;
      case '--validate':
      case '-t':
      case '--config-test':
        args.validate = true;
        break;
      case '--format':
        if (value !== 'yaml' && value !== 'keepalived')
          throw new UsageError(`--format must be yaml or keepalived, not '${value}'`);
        args.format = value;
        break;
      case '--host-checks':
        if (value !== 'error' && value !== 'warning' && value !== 'off')
          throw new UsageError(`--host-checks must be error, warning or off, not '${value}'`);
        args.hostChecks = value;
        break;
      case '-i':
      case '--config-id':
        args.configId = value;
        break;
      default:
        if (arg.startsWith('-')) throw new UsageError(`unknown option '${arg}'`);
        throw new UsageError(`unexpected argument '${arg}'`);
    }
  }
  return args;
}

export const DAEMON_USAGE = `Usage: lbd [options]

lbd programs the kernel's IPVS tables, checks the health of real servers and
holds the virtual IPs with VRRP.

Options:
  -f, --config-file FILE  the configuration: lbd YAML or a keepalived.conf
                          (detected from the content)
      --validate          check the configuration, print every error and exit:
                          0 valid, 1 invalid, 2 unreadable (also -t, --config-test)
      --format FMT        read the configuration as yaml or keepalived
      --host-checks MODE  missing interfaces and scripts: error, warning or off
                          (default: warning with --validate, error otherwise)
  -i, --config-id ID      keepalived's config id for '@ID' lines (default: host name)
  -h, --help              print this help and exit
  -V, --version           print the version and exit
`;
