// keepalived 2.2.7 as an interop peer in a test namespace: VRRP only, its own pid files and config.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ChildProcess } from 'node:child_process';
import { Topology } from '../support/netns';

export interface KeepalivedInstance {
  name?: string;
  interface?: string;
  vrid: number;
  priority: number;
  version: 2 | 3;
  advertInt: number;
  vips: string[];
  authPass?: string;
  nopreempt?: boolean;
  state?: 'MASTER' | 'BACKUP';
}

export function keepalivedConf(insts: KeepalivedInstance[]): string {
  const blocks = insts.map(
    (i) => `vrrp_instance ${i.name ?? 'VI_1'} {
    state ${i.state ?? 'BACKUP'}
    interface ${i.interface ?? 'eth0'}
    virtual_router_id ${i.vrid}
    priority ${i.priority}
    advert_int ${i.advertInt}
    version ${i.version}
${i.nopreempt ? '    nopreempt\n' : ''}${i.authPass ? `    authentication {\n        auth_type PASS\n        auth_pass ${i.authPass}\n    }\n` : ''}    virtual_ipaddress {
${i.vips.map((v) => `        ${v}`).join('\n')}
    }
}
`,
  );
  return `global_defs {
    router_id lbdtest
    vrrp_garp_master_delay 0
    vrrp_garp_master_repeat 2
}
${blocks.join('\n')}`;
}

export class Keepalived {
  readonly dir: string;
  child: ChildProcess | undefined;
  log = '';

  constructor(
    readonly topo: Topology,
    readonly host: string,
    readonly insts: KeepalivedInstance[],
  ) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `lbd-ka-${host}-`));
    fs.writeFileSync(path.join(this.dir, 'keepalived.conf'), keepalivedConf(insts));
  }

  start(): void {
    const d = this.dir;
    this.log = '';
    this.child = this.topo.spawn(this.host, [
      '/usr/sbin/keepalived',
      '-n',
      '-l',
      '-D',
      '-G',
      '-P',
      '-f',
      path.join(d, 'keepalived.conf'),
      '-p',
      path.join(d, 'keepalived.pid'),
      '-r',
      path.join(d, 'vrrp.pid'),
      '-c',
      path.join(d, 'checkers.pid'),
      '-b',
      path.join(d, 'bfd.pid'),
    ]);
    const add = (b: Buffer) => (this.log += b.toString());
    this.child.stdout?.on('data', add);
    this.child.stderr?.on('data', add);
  }

  /** Waits until the log shows instance entering state (MASTER / BACKUP), after char offset since. */
  async waitLog(re: RegExp, timeoutMs: number, since = 0): Promise<void> {
    const t0 = Date.now();
    while (!re.test(this.log.slice(since))) {
      if (Date.now() - t0 > timeoutMs)
        throw new Error(`keepalived on ${this.host}: no ${re} in ${timeoutMs} ms:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** SIGTERM (keepalived sends priority 0 and removes its VIPs) and wait for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const done = new Promise((r) => c.once('exit', r));
    if (signal === 'SIGKILL') {
      // The VRRP child process too, or it would carry on alone.
      const vrrpPid = Number(fs.readFileSync(path.join(this.dir, 'vrrp.pid'), 'utf8').trim());
      if (vrrpPid) process.kill(vrrpPid, 'SIGKILL');
    }
    c.kill(signal);
    await done;
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
