// A client for tests, run inside a namespace: `node http-probe.js URL COUNT [TIMEOUT_MS]` makes COUNT
// sequential HTTP/1.0 GET requests (a new connection each) and prints one JSON line per request:
// {"i":0,"status":200,"body":"rs1"} or {"i":0,"error":"ECONNREFUSED"}. Exits 0 when every request got
// a response, 1 otherwise.
import * as http from 'node:http';

function get(url: string, timeoutMs: number): Promise<{ status?: number; body?: string; error?: string }> {
  return new Promise((resolve) => {
    const req = http.get(
      url,
      { agent: false, timeout: timeoutMs, headers: { connection: 'close' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode, body: body.trim() }));
        res.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
  });
}

async function main(): Promise<number> {
  const [url, countArg, timeoutArg] = process.argv.slice(2);
  const count = Number(countArg ?? 1);
  const timeoutMs = Number(timeoutArg ?? 3000);
  let failures = 0;
  for (let i = 0; i < count; i++) {
    const r = await get(url, timeoutMs);
    if (r.error !== undefined) failures++;
    process.stdout.write(JSON.stringify({ i, ...r }) + '\n');
  }
  return failures === 0 ? 0 : 1;
}

void main().then((code) => (process.exitCode = code));
