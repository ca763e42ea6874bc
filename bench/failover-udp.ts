// UDP helpers of the failover benchmark.
//   node failover-udp.js server <bind-ip> <port> <name>   answers every datagram with <name>
//   node failover-udp.js probe <ip> <port> <period-ms>    sends a datagram every period; prints
//     {"name":..,"t":<epoch ms, fractional>} each time the answering server changes
import * as dgram from 'node:dgram';

const now = () => performance.timeOrigin + performance.now();
const [mode, ip, portArg, arg] = process.argv.slice(2);
const port = Number(portArg);
const family = ip.includes(':') ? 'udp6' : 'udp4';

if (mode === 'server') {
  const s = dgram.createSocket(family);
  s.on('message', (_msg, rinfo) => s.send(arg, rinfo.port, rinfo.address));
  s.bind(port, ip, () => process.stdout.write('ready\n'));
} else if (mode === 'probe') {
  const s = dgram.createSocket(family);
  let last = '';
  s.on('message', (msg) => {
    const name = msg.toString();
    if (name === last) return;
    last = name;
    process.stdout.write(JSON.stringify({ name, t: now() }) + '\n');
  });
  s.on('error', () => undefined);
  const payload = Buffer.from('?');
  setInterval(() => s.send(payload, port, ip, () => undefined), Number(arg) || 1);
} else {
  process.stderr.write('usage: failover-udp.js server|probe ...\n');
  process.exit(2);
}
