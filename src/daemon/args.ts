import { UsageError } from '../cli/usage-error';
import { LEVELS, SUBSYSTEMS, type Level, type Subsystem } from './log-levels';

export interface DaemonArgs {
  help: boolean;
  version: boolean;
  /** Validate the configuration and exit (lbd --validate / keepalived -t). */
  validate: boolean;
  configFile: string;
  format?: 'yaml' | 'keepalived';
  /** Missing interfaces and scripts: errors or warnings (default: warnings in --validate, errors at start). */
  hostChecks?: 'error' | 'warning' | 'off';
  /** keepalived's config id (-i): selects the '@ID' lines of a keepalived.conf; default: the host name. */
  configId?: string;
  pidFile: string;
  socketPath?: string;
  stateFile: string;
  logLevel: Level;
  logLevels: Partial<Record<Subsystem, Level>>;
  /** Seconds between comparisons of the kernel's table with what lbd wants. */
  driftInterval: number;
  /** Seconds a drain waits for active connections. */
  drainTimeout: number;
  /** --metrics-listen ADDR:PORT: serve metrics there whatever the configuration says. */
  metricsListen?: { address: string; port: number };
}

export const DEFAULT_CONFIG = '/etc/lbd/lbd.yaml';

/** Parses lbd's command line. Throws UsageError on anything it does not know. */
export function parseDaemonArgs(argv: readonly string[]): DaemonArgs {
  const args: DaemonArgs = {
    help: false,
    version: false,
    validate: false,
    configFile: DEFAULT_CONFIG,
    pidFile: '/run/lbd/lbd.pid',
    stateFile: '/run/lbd/managed.json',
    logLevel: 'info',
    logLevels: {},
    driftInterval: 10,
    drainTimeout: 300,
  };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i];
    const eq = raw.startsWith('--') ? raw.indexOf('=') : -1;
    const arg = eq > 0 ? raw.slice(0, eq) : raw;
    const value = (): string => {
      if (eq > 0) return raw.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`option '${arg}' needs a value`);
      return v;
    };
    switch (arg) {
      case '-h':
      case '--help':
        args.help = true;
        break;
      case '-V':
      case '--version':
        args.version = true;
        break;
      case '-t':
      case '--validate':
        args.validate = true;
        break;
      case '-f':
      case '--config':
      case '--use-file':
        args.configFile = value();
        break;
      case '--format': {
        const f = value();
        if (f !== 'yaml' && f !== 'keepalived')
          throw new UsageError(`--format must be yaml or keepalived, not '${f}'`);
        args.format = f;
        break;
      }
      case '--host-checks': {
        const h = value();
        if (h !== 'error' && h !== 'warning' && h !== 'off')
          throw new UsageError(`--host-checks must be error, warning or off, not '${h}'`);
        args.hostChecks = h;
        break;
      }
      case '-i':
      case '--config-id':
        args.configId = configId(arg, value());
        break;
      case '-n':
      case '--foreground':
      case '--dont-fork':
        // lbd always runs in the foreground (systemd Type=notify); accepted for keepalived habits.
        break;
      case '--pid-file':
        args.pidFile = value();
        break;
      case '--socket':
        args.socketPath = value();
        break;
      case '--state-file':
        args.stateFile = value();
        break;
      case '--log-level':
        parseLogLevels(value(), args);
        break;
      case '--metrics-listen':
        args.metricsListen = listenAddress(arg, value());
        break;
      case '--drift-interval':
        args.driftInterval = seconds(arg, value());
        break;
      case '--drain-timeout':
        args.drainTimeout = seconds(arg, value());
        break;
      default:
        if (arg.startsWith('-')) throw new UsageError(`unknown option '${arg}'`);
        throw new UsageError(`unexpected argument '${arg}'`);
    }
  }
  return args;
}

/** ADDR:PORT, [IPv6]:PORT or :PORT (loopback). */
function listenAddress(option: string, text: string): { address: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535)
    throw new UsageError(`${option} needs ADDRESS:PORT (e.g. 127.0.0.1:10100 or [::1]:10100), not '${text}'`);
  return { address: m[1] ?? (m[2] || '127.0.0.1'), port };
}

/** A config id is a non-empty word ('@ID' compares with it). */
export function configId(option: string, text: string): string {
  if (!/^\S+$/.test(text))
    throw new UsageError(`${option} needs a config id (a word without spaces), not '${text}'`);
  return text;
}

function seconds(option: string, text: string): number {
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || n <= 0)
    throw new UsageError(`${option} needs a positive number of seconds, not '${text}'`);
  return n;
}

/** "info" or "info,vrrp=debug,health=warn". */
function parseLogLevels(spec: string, args: DaemonArgs): void {
  for (const part of spec.split(',')) {
    const [a, b] = part.split('=');
    if (b === undefined) {
      if (!LEVELS.includes(a as Level))
        throw new UsageError(`unknown log level '${a}' (${LEVELS.join(', ')})`);
      args.logLevel = a as Level;
    } else {
      if (!SUBSYSTEMS.includes(a as Subsystem))
        throw new UsageError(`unknown subsystem '${a}' in --log-level (${SUBSYSTEMS.join(', ')})`);
      if (!LEVELS.includes(b as Level))
        throw new UsageError(`unknown log level '${b}' (${LEVELS.join(', ')})`);
      args.logLevels[a as Subsystem] = b as Level;
    }
  }
}

export const DAEMON_USAGE = `Usage: lbd [options]

lbd programs the kernel's IPVS tables, checks the health of real servers and
holds the virtual IPs with VRRP. It reads YAML or keepalived.conf (detected by
content) and runs in the foreground (for systemd: Type=notify, see config/lbd.service).

Options:
  -f, --config FILE     configuration file (default ${DEFAULT_CONFIG})
      --format FORMAT   yaml or keepalived (default: detected from the content)
  -t, --validate        check the configuration, print every error, and exit:
                        0 valid, 1 invalid, 2 unreadable
      --host-checks error|warning|off
                        interfaces and scripts missing on this host: warnings in
                        --validate, errors at start, unless set here
  -i, --config-id ID    keepalived.conf: keep the '@ID' lines, drop '@^ID' and other '@' lines
                        (default: the host name up to the first dot)
      --pid-file FILE   pid file (default /run/lbd/lbd.pid)
      --socket PATH     control socket (default from the configuration, /run/lbd/lbd.sock)
      --state-file FILE where lbd remembers the IPVS services it manages (default /run/lbd/managed.json)
      --log-level SPEC  level, with per-subsystem overrides: info,vrrp=debug,health=warn
                        (subsystems: ${SUBSYSTEMS.join(', ')})
      --metrics-listen ADDR:PORT
                        serve /metrics (Prometheus), the status page (/) and /healthz there,
                        whatever the configuration's metrics block says
      --drift-interval S  seconds between checks of the kernel's table for changes made
                        behind lbd's back, which it repairs (default 10)
      --drain-timeout S how long a drained real server may keep its active connections
                        before it is removed (default 300)
  -n, --foreground      accepted for keepalived habits; lbd always stays in the foreground
  -h, --help            print this help and exit
  -V, --version         print the version and exit

Signals: SIGHUP reloads (like lbctl reload), SIGTERM stops gracefully (VRRP priority 0,
VIPs removed, IPVS left as it is).
Exit codes: 0 stopped, 1 invalid configuration, 2 bad command line or unreadable
configuration, 3 could not start (another lbd, no IPVS, socket), 4 fatal error.
`;
