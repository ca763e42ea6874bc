/** Facts of the host: interfaces and programs the configuration names must exist where lbd runs. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Diagnostics } from './diagnostics';
import type { HostFact } from './build/reader';

export interface HostProbe {
  interfaceExists(name: string): boolean;
  /** undefined if runnable, else why not. */
  programProblem(file: string): string | undefined;
}

export const systemHost: HostProbe = {
  interfaceExists(name) {
    return fs.existsSync(path.join('/sys/class/net', name));
  },
  programProblem(file) {
    if (!file.startsWith('/')) return undefined; // found through PATH when run
    try {
      const st = fs.statSync(file);
      if (!st.isFile()) return 'is not a file';
      fs.accessSync(file, fs.constants.X_OK);
      return undefined;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return code === 'ENOENT'
        ? 'does not exist'
        : code === 'EACCES'
          ? 'is not executable'
          : `cannot be used (${code ?? 'error'})`;
    }
  },
};

/** Reports missing interfaces and programs, as warnings or as errors. */
export function checkHost(
  facts: HostFact[],
  diags: Diagnostics,
  severity: 'warning' | 'error',
  host: HostProbe = systemHost,
): void {
  const ifCache = new Map<string, boolean>();
  const progCache = new Map<string, string | undefined>();
  for (const f of facts) {
    if (f.kind === 'interface') {
      let ok = ifCache.get(f.name);
      if (ok === undefined) ifCache.set(f.name, (ok = host.interfaceExists(f.name)));
      if (!ok) report(diags, severity, f, `interface '${f.name}' (${f.what}) does not exist on this host`);
    } else {
      let problem = progCache.get(f.name);
      if (!progCache.has(f.name)) progCache.set(f.name, (problem = host.programProblem(f.name)));
      if (problem !== undefined)
        report(diags, severity, f, `program '${f.name}' (${f.what}) ${problem} on this host`);
    }
  }
}

function report(diags: Diagnostics, severity: 'warning' | 'error', f: HostFact, message: string): void {
  if (severity === 'error') diags.error(f.pos, message);
  else diags.warning(f.pos, message);
}
