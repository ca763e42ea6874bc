/**
 * Benchmark helper: the real servers of bench/health, in their own process so their CPU is not
 * counted. Usage: node health-servers.js KIND:PREFIX:FIRST:COUNT:PORT... (KIND tcp accepts and
 * closes, http answers a GET with 200; server i listens on benchAddress(PREFIX, i):PORT). Prints
 * 'ready' once every listener is up.
 */
import * as net from 'node:net';

const HTTP_RESPONSE = Buffer.from(
  'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok',
);

function onTcp(s: net.Socket): void {
  s.on('error', noop);
  s.destroy();
}

/** HTTP requests served, by client: lbd's checks (User-Agent lbd-healthcheck) and the others. */
const served = { lbd: 0, other: 0 };

function onHttpData(this: net.Socket, data: Buffer): void {
  if (data.includes('lbd-healthcheck')) served.lbd++;
  else served.other++;
  this.end(HTTP_RESPONSE);
}

function onHttp(s: net.Socket): void {
  s.on('error', noop);
  s.once('data', onHttpData);
}

function noop(): void {}

/** Accepted TCP-check connections are closed at the handle level: no net.Socket per connection. */
function closeAccepted(_status: number, handle?: { close(): void }): void {
  if (handle !== undefined) handle.close();
}

/** The loopback address of server i under a two-byte prefix such as '127.77': 250 per /24. */
export function benchAddress(prefix: string, i: number): string {
  return `${prefix}.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

async function main(): Promise<void> {
  const listeners: [string, string, number][] = [];
  for (const arg of process.argv.slice(2)) {
    const [kind, prefix, first, count, port] = arg.split(':');
    for (let i = Number(first); i < Number(first) + Number(count); i++) {
      listeners.push([kind, benchAddress(prefix, i), Number(port)]);
    }
  }
  let pending = listeners.length;
  await new Promise<void>((resolve, reject) => {
    for (const [kind, host, port] of listeners) {
      const srv = net.createServer({ pauseOnConnect: kind === 'tcp' }, kind === 'http' ? onHttp : onTcp);
      srv.on('error', reject);
      srv.listen({ host, port, backlog: 1024 }, () => {
        const handle = (srv as unknown as { _handle?: { onconnection: unknown } })._handle;
        if (kind === 'tcp' && handle) handle.onconnection = closeAccepted;
        if (--pending === 0) resolve();
      });
    }
  });
  process.on('SIGUSR2', () => process.stdout.write(`served ${JSON.stringify(served)}\n`));
  process.stdout.write('ready\n');
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`health-servers: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
