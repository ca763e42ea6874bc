// A long-lived TCP conversation for tests, run inside a client namespace:
// `node tcp-hold.js HOST PORT` connects once, sends a numbered line every 100 ms and reads the echoes,
// until SIGTERM; then prints one JSON line {"sent":N,"echoed":N,"lastEchoAt":ms,"error":null|"ECONNRESET"...}.
// The server side is `node tcp-hold.js --serve PORT` (an echo server).
import * as net from 'node:net';

const args = process.argv.slice(2);
if (args[0] === '--serve') {
  net.createServer((s) => s.pipe(s)).listen(Number(args[1]), () => process.stdout.write('listening\n'));
} else {
  const [host, port] = args;
  const state = { sent: 0, echoed: 0, lastEchoAt: 0, error: null as string | null, closed: false };
  const sock = net.connect(Number(port), host);
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('connect', () => process.stdout.write('connected\n'));
  sock.on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      buf = buf.slice(nl + 1);
      state.echoed++;
      state.lastEchoAt = Date.now();
    }
  });
  sock.on('error', (e: NodeJS.ErrnoException) => (state.error = e.code ?? e.message));
  sock.on('close', () => (state.closed = true));
  const timer = setInterval(() => {
    if (!state.closed) {
      sock.write(`ping ${state.sent}\n`);
      state.sent++;
    }
  }, 100);
  process.on('SIGTERM', () => {
    clearInterval(timer);
    process.stdout.write(JSON.stringify(state) + '\n');
    process.exit(0);
  });
}
