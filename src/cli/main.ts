// lbctl: ipvsadm's command line (every ipvsadm invocation works as it does with ipvsadm 1.31), plus
// configuration tools and the running daemon's commands. Modules are loaded on demand so that the
// ipvsadm path (lbctl -Sn on a big table) starts as fast as it can.

export const LBCTL_COMMANDS = `
lbd commands:
  lbctl validate [--format yaml|keepalived] [--host-checks error|warning|off] [-i ID] FILE
                                      check a configuration (YAML or keepalived.conf): 0 valid,
                                      1 invalid (every error printed), 2 unreadable
  lbctl import-keepalived [-i ID] FILE print the YAML equivalent of a keepalived.conf
  lbctl status|vrrp|checks [--json]   the running daemon's state
  lbctl drain VS RS | undrain VS RS   take a real server out gracefully / put it back
  lbctl reload                        reload the configuration (exit 1 and every error if invalid)
  lbctl events [--follow] [--json]    the daemon's ordered event stream
  (--socket PATH or $LBD_CONTROL_SOCKET: the daemon's control socket, default /run/lbd/lbd.sock)
`;

function configCommand(cmd: 'validate' | 'import-keepalived', rest: readonly string[]): number {
  let format: 'yaml' | 'keepalived' | undefined;
  let hostChecks: 'error' | 'warning' | 'off' | undefined;
  let configId: string | undefined;
  const files: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (cmd === 'validate' && (a === '--format' || a.startsWith('--format='))) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : rest[++i];
      if (v !== 'yaml' && v !== 'keepalived') {
        process.stderr.write(`lbctl: --format must be yaml or keepalived\n`);
        return 2;
      }
      format = v;
    } else if (cmd === 'validate' && (a === '--host-checks' || a.startsWith('--host-checks='))) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : rest[++i];
      if (v !== 'error' && v !== 'warning' && v !== 'off') {
        process.stderr.write(`lbctl: --host-checks must be error, warning or off\n`);
        return 2;
      }
      hostChecks = v;
    } else if (a === '-i' || a === '--config-id' || a.startsWith('--config-id=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : rest[++i];
      if (v === undefined || !/^\S+$/.test(v)) {
        process.stderr.write(`lbctl: ${a.replace(/=.*/, '')} needs a config id (a word without spaces)\n`);
        return 2;
      }
      configId = v;
    } else if (a.startsWith('-') && a !== '-') {
      process.stderr.write(`lbctl: unknown option '${a}' for '${cmd}'\n`);
      return 2;
    } else files.push(a);
  }
  if (files.length !== 1) {
    process.stderr.write(`lbctl: '${cmd}' needs exactly one FILE\n`);
    return 2;
  }
  const report = require('../config/report') as typeof import('../config/report');
  return cmd === 'validate'
    ? report.runValidate('lbctl', files[0], {
        ...(format ? { format } : {}),
        ...(hostChecks ? { hostChecks } : {}),
        ...(configId !== undefined ? { configId } : {}),
      })
    : report.runImport('lbctl', files[0], configId !== undefined ? { configId } : {});
}

export async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === 'validate' || first === 'import-keepalived') return configCommand(first, rest);
  // An ipvsadm command line starts with an option: only a word can be a daemon command, and only
  // then is the daemon client (node:net) loaded, keeping it off the start-up of lbctl -Sn.
  if (first !== undefined && !first.startsWith('-')) {
    const daemon = require('./daemon-commands') as typeof import('./daemon-commands');
    if (daemon.isDaemonCommand(first)) return daemon.runDaemonCommand(argv);
  }
  const { runIpvsadm, writeAll } = require('./ipvsadm/main') as typeof import('./ipvsadm/main');
  const code = await runIpvsadm([...argv]);
  if (argv.length === 1 && (first === '-h' || first === '--help')) writeAll(1, LBCTL_COMMANDS);
  return code;
}
