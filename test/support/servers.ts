// Real servers and clients for namespace tests: busybox httpd answering with the host's name, and the
// http-probe client (test/support/http-probe.ts) run inside a client namespace.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Topology } from './netns';

export interface ProbeResult {
  i: number;
  status?: number;
  body?: string;
  error?: string;
}

/**
 * Starts `busybox httpd` on port 80 in each host, answering "/" with the host's name. httpd binds before
 * it daemonizes, so the servers accept connections when this resolves; destroy() kills them.
 */
export async function startHttpd(topo: Topology, hosts: readonly string[], port = 80): Promise<void> {
  await Promise.all(
    hosts.map(async (host) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `lbd-httpd-${host}-`));
      fs.writeFileSync(path.join(dir, 'index.html'), `${host}\n`);
      await topo.sh(host, `busybox httpd -p ${port} -h ${dir}`);
    }),
  );
}

/** Makes `count` sequential HTTP requests from a host's namespace; one result per request. */
export async function probe(topo: Topology, host: string, url: string, count: number, timeoutMs = 3000) {
  const script = path.join(__dirname, 'http-probe.js');
  const r = await topo.exec(host, [process.execPath, script, url, String(count), String(timeoutMs)], {
    timeoutMs: count * timeoutMs + 30_000,
  });
  const results = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ProbeResult);
  if (results.length !== count)
    throw new Error(`probe from ${host} to ${url} printed ${results.length} of ${count}: ${r.stderr}`);
  return results;
}

export interface LoadSummary {
  ok: number;
  failed: number;
  byBody: Record<string, number>;
  errors: Record<string, number>;
  failures: { at: number; error: string }[];
}

/** Steady traffic from a host's namespace (test/support/http-load.ts) until stop() returns its summary. */
export async function startLoad(topo: Topology, host: string, url: string, intervalMs = 50) {
  const child = topo.spawn(host, [
    process.execPath,
    path.join(__dirname, 'http-load.js'),
    url,
    String(intervalMs),
  ]);
  let out = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => (out += d));
  while (!out.startsWith('started\n')) {
    if (child.exitCode !== null) throw new Error(`load client exited ${child.exitCode}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    stop: async (): Promise<LoadSummary> => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      return JSON.parse(out.trim().split('\n').pop() as string) as LoadSummary;
    },
  };
}
