/**
 * Test helpers for the health checks: loopback servers, certificates made with the openssl CLI, and
 * event collection with bounded waits.
 */
import * as net from 'node:net';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { HealthChecker, HealthCheckerOptions } from '../../src/health';
import {
  AttemptEvent,
  FailureEvent,
  QuorumEvent,
  ServerStateEvent,
  WeightEvent,
} from '../../src/health/events';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A TCP server on loopback that tracks and can destroy its connections. */
export class TestServer {
  readonly server: net.Server;
  readonly sockets = new Set<net.Socket>();
  connections = 0;
  port = 0;

  constructor(handler: (s: net.Socket) => void = (s) => s.destroy()) {
    this.server = net.createServer((s) => {
      this.connections++;
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => {});
      handler(s);
    });
  }

  async listen(host = '127.0.0.1', port = 0): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port, exclusive: true }, () => resolve());
    });
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    if (!this.server.listening) return;
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** A raw HTTP server: `respond` gets the request head and returns the raw response (or handles the socket). */
export function httpServer(respond: (head: string, s: net.Socket) => string | Buffer | void): TestServer {
  return new TestServer((s) => {
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const out = respond(buf.slice(0, end), s);
      buf = '';
      if (out !== undefined) s.end(out);
    });
  });
}

export function response(status: number, body: string, headers: Record<string, string> = {}): string {
  const h = Object.entries({ 'Content-Length': String(Buffer.byteLength(body)), ...headers })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return `HTTP/1.1 ${status} X\r\n${h}\r\n${body}`;
}

/** Collects the checker's events. */
export class Recorder {
  readonly server: (ServerStateEvent & { t: number })[] = [];
  readonly weight: (WeightEvent & { t: number })[] = [];
  readonly quorum: (QuorumEvent & { t: number })[] = [];
  readonly failure: (FailureEvent & { t: number })[] = [];
  readonly attempt: (AttemptEvent & { t: number })[] = [];
  readonly t0 = performance.now();

  constructor(readonly hc: HealthChecker) {
    hc.on('server', (e) => this.server.push({ ...e, t: this.now() }));
    hc.on('weight', (e) => this.weight.push({ ...e, t: this.now() }));
    hc.on('quorum', (e) => this.quorum.push({ ...e, t: this.now() }));
    hc.on('failure', (e) => this.failure.push({ ...e, t: this.now() }));
    hc.on('attempt', (e) => this.attempt.push({ ...e, t: this.now() }));
  }

  now(): number {
    return performance.now() - this.t0;
  }

  /** Completed attempts of the checks of a port (TCP_CHECK's native prober never reaches accept()). */
  attempts(port: number, ok?: boolean): (AttemptEvent & { t: number })[] {
    return this.attempt.filter((a) => a.port === port && (ok === undefined || a.ok === ok));
  }

  /** Transitions after the initial 'added' one. */
  transitions(server?: string): (ServerStateEvent & { t: number })[] {
    return this.server.filter((e) => !e.initial && (server === undefined || e.server === server));
  }

  async waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 8000): Promise<T> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const v = probe();
      if (v !== undefined && v !== false) return v;
      if (performance.now() > deadline) {
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what}; events: ${JSON.stringify(this.server)}`,
        );
      }
      await sleep(5);
    }
  }

  /** Waits for the n-th transition (1-based) of a server. */
  transition(server: string, n = 1, timeoutMs = 8000): Promise<ServerStateEvent & { t: number }> {
    return this.waitFor(`transition ${n} of ${server}`, () => this.transitions(server)[n - 1], timeoutMs);
  }
}

export function checker(opts: HealthCheckerOptions = {}): { hc: HealthChecker; rec: Recorder } {
  const hc = new HealthChecker(opts);
  return { hc, rec: new Recorder(hc) };
}

export function tmpdir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `lbd-health-${prefix}-`));
}

export interface TestCerts {
  dir: string;
  ca: string;
  /** Valid for good.test, signed by ca. */
  good: { key: string; cert: string };
  /** Valid for good.test, but expired in 2020. */
  expired: { key: string; cert: string };
  /** Valid, but for other.test only. */
  wrongName: { key: string; cert: string };
}

/** Makes a CA and three server certificates with the openssl CLI. */
export function makeCerts(): TestCerts {
  const dir = tmpdir('certs');
  const run = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  run(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-subj',
    '/CN=lbd test CA',
    '-days',
    '30',
  );
  fs.writeFileSync(path.join(dir, 'index.txt'), '');
  fs.writeFileSync(path.join(dir, 'serial'), '1000\n');
  fs.writeFileSync(
    path.join(dir, 'ca.cnf'),
    [
      '[ca]',
      'default_ca = testca',
      '[testca]',
      `dir = ${dir}`,
      'database = $dir/index.txt',
      'serial = $dir/serial',
      'new_certs_dir = $dir',
      'certificate = $dir/ca.crt',
      'private_key = $dir/ca.key',
      'default_md = sha256',
      'policy = anything',
      'copy_extensions = copy',
      'unique_subject = no',
      '[anything]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  const leaf = (name: string, dns: string, dates: string[]): { key: string; cert: string } => {
    run(
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${dns}`,
      '-addext',
      `subjectAltName=DNS:${dns}`,
    );
    run(
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-notext',
      '-in',
      `${name}.csr`,
      '-out',
      `${name}.crt`,
      ...dates,
    );
    return {
      key: fs.readFileSync(path.join(dir, `${name}.key`), 'utf8'),
      cert: fs.readFileSync(path.join(dir, `${name}.crt`), 'utf8'),
    };
  };
  return {
    dir,
    ca: fs.readFileSync(path.join(dir, 'ca.crt'), 'utf8'),
    good: leaf('good', 'good.test', ['-days', '30']),
    expired: leaf('expired', 'good.test', ['-startdate', '20200101000000Z', '-enddate', '20200201000000Z']),
    wrongName: leaf('wrong', 'other.test', ['-days', '30']),
  };
}

/**
 * A port on loopback where connections never complete: a listener in a stopped child process whose
 * accept queue is full, so the kernel drops further SYNs.
 */
export async function unansweredPort(): Promise<{ port: number; close: () => void }> {
  const { spawn } = await import('node:child_process');
  const code =
    "require('net').createServer().listen({port:0,host:'127.0.0.1',backlog:1},function(){console.log(this.address().port)})";
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
  });
  process.kill(child.pid as number, 'SIGSTOP');
  const fillers: net.Socket[] = [];
  // Fill the accept queue until a connection no longer completes.
  for (let i = 0; i < 8; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    fillers.push(s);
    const done = await Promise.race([
      new Promise<boolean>((r) => s.once('connect', () => r(true))),
      sleep(200).then(() => false),
    ]);
    if (!done) break;
  }
  return {
    port,
    close: () => {
      for (const s of fillers) s.destroy();
      child.kill('SIGKILL');
    },
  };
}
