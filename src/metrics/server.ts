// The metrics HTTP listener: GET <path> (default /metrics, Prometheus text or OpenMetrics by Accept),
// / (status page), /status.json, /healthz. Read-only: anything else is 404/405.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { statusPage } from './page';
import { Scraper, wantsOpenMetrics, type ScrapeOptions } from './scrape';
import type { MetricsSource } from './source';
import { statusDocument } from './status';

export interface MetricsServerOptions extends ScrapeOptions {
  /** Listen address; default 127.0.0.1 (loopback only). */
  address?: string;
  /** Default 10100 (as the configuration); 0 picks a free port. */
  port?: number;
  /** Path of the metrics; default /metrics. */
  path?: string;
}

// The configuration's default (src/config): 127.0.0.1:10100, outside the exporters' range 9100-9999.
export const DEFAULT_METRICS_PORT = 10100;

export interface MetricsServer {
  readonly address: string;
  readonly port: number;
  readonly scraper: Scraper;
  readonly server: http.Server;
  close(): Promise<void>;
}

export async function startMetricsServer(
  source: MetricsSource,
  opts: MetricsServerOptions = {},
): Promise<MetricsServer> {
  const scraper = new Scraper(source, opts);
  const metricsPath = opts.path ?? '/metrics';
  const page = statusPage();
  const server = http.createServer((req, res) => {
    void handle(req, res).catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`error: ${err.message}\n`);
    });
  });
  server.keepAliveTimeout = 65_000;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://lbd');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('read-only\n');
      return;
    }
    const head = req.method === 'HEAD';
    if (url.pathname === metricsPath) {
      const rates = url.searchParams.get('server_rates');
      const r = await scraper.scrape(
        wantsOpenMetrics(req.headers.accept),
        rates === null ? undefined : rates === '1' || rates === 'true',
      );
      try {
        res.writeHead(200, {
          'content-type': r.contentType,
          'content-length': r.bytes,
          'cache-control': 'no-store',
        });
        if (head) return void res.end();
        await send(res, r.chunks);
      } finally {
        r.release();
      }
    } else if (url.pathname === '/') {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy':
          "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
      });
      res.end(head ? undefined : page);
    } else if (url.pathname === '/status.json') {
      const doc = statusDocument(source, await scraper.table());
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(head ? undefined : JSON.stringify(doc));
    } else if (url.pathname === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end(head ? undefined : 'ok\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(head ? undefined : 'not found\n');
    }
  }

  /** Writes the chunks (the snapshot's buffers, not copied) as the socket drains; resolves once they are
   * all handed to the kernel ('finish') or the connection is gone ('close'): only then may a refresh
   * reuse their memory. */
  async function send(res: http.ServerResponse, chunks: readonly (string | Buffer)[]): Promise<void> {
    const done = new Promise<void>((resolve) => {
      if (res.destroyed || res.writableFinished) return resolve();
      res.once('finish', resolve);
      res.once('close', resolve);
    });
    for (const c of chunks) {
      if (res.destroyed) break;
      if (!res.write(c))
        await Promise.race([new Promise<void>((resolve) => res.once('drain', resolve)), done]);
    }
    if (!res.destroyed) res.end();
    await done;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? DEFAULT_METRICS_PORT, opts.address ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  return {
    address: a.address,
    port: a.port,
    scraper,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        scraper.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
