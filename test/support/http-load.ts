// Steady client traffic for tests, run inside a namespace: `node http-load.js URL [INTERVAL_MS] [TIMEOUT_MS]`
// sends one HTTP/1.0 request every INTERVAL_MS (a new connection each) until SIGTERM, then prints one JSON
// line: {"ok":N,"failed":N,"byBody":{"rs1":N,...},"errors":{"ECONNREFUSED":N},"firstFailureAt":...}.
import * as http from 'node:http';

const [url, intervalArg, timeoutArg] = process.argv.slice(2);
const intervalMs = Number(intervalArg ?? 50);
const timeoutMs = Number(timeoutArg ?? 2000);
const summary = {
  ok: 0,
  failed: 0,
  byBody: {} as Record<string, number>,
  errors: {} as Record<string, number>,
  failures: [] as { at: number; error: string }[],
};
let inflight = 0;
let stopping = false;

function fail(error: string) {
  summary.failed++;
  summary.errors[error] = (summary.errors[error] ?? 0) + 1;
  if (summary.failures.length < 50) summary.failures.push({ at: Date.now(), error });
}

function once() {
  inflight++;
  const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => (body += c));
    res.on('end', () => {
      inflight--;
      if (res.statusCode === 200) {
        summary.ok++;
        const k = body.trim();
        summary.byBody[k] = (summary.byBody[k] ?? 0) + 1;
      } else fail(`status ${res.statusCode}`);
    });
    res.on('error', (e: NodeJS.ErrnoException) => {
      inflight--;
      fail(e.code ?? e.message);
    });
  });
  req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
  req.on('error', (e: NodeJS.ErrnoException) => {
    inflight--;
    fail(e.code ?? e.message);
  });
}

const timer = setInterval(() => {
  if (!stopping) once();
}, intervalMs);
process.stdout.write('started\n');

process.on('SIGTERM', () => {
  stopping = true;
  clearInterval(timer);
  const done = () => {
    if (inflight > 0) return setTimeout(done, 20);
    process.stdout.write(JSON.stringify(summary) + '\n');
    process.exit(0);
  };
  done();
});
