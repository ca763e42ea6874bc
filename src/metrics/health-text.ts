// The per-real-server and per-virtual-service health series, written directly like the IPVS ones
// (lbd with 80,000 real servers has as many series per family: prom-client's label maps cost seconds).
import type { VirtualServiceStatus } from '../health/virtual-service';
import { Writer } from './ipvs-text';

type ServerStatus = VirtualServiceStatus['servers'][number];

interface Family<T> {
  name: string;
  help: string;
  value: (x: T) => number;
}

const SERVER: Family<ServerStatus>[] = [
  {
    name: 'lbd_health_server_up',
    help: 'Real server health: 1 up, 0 down (all its checks must pass).',
    value: (s) => (s.up ? 1 : 0),
  },
  {
    name: 'lbd_health_server_weight',
    help: 'Weight the health checker wants for the real server (0 when down or removed).',
    value: (s) => (s.present ? s.weight : 0),
  },
  {
    name: 'lbd_health_server_configured_weight',
    help: 'Configured weight of the real server.',
    value: (s) => s.configuredWeight,
  },
];

const SERVICE: Family<VirtualServiceStatus>[] = [
  {
    name: 'lbd_health_quorum_up',
    help: 'Quorum of the virtual service: 1 met, 0 lost.',
    value: (v) => (v.quorumUp ? 1 : 0),
  },
  {
    name: 'lbd_health_quorum_weight',
    help: 'Sum of the weights of the live real servers (compared with the quorum).',
    value: (v) => v.sum,
  },
  {
    name: 'lbd_health_quorum_threshold',
    help: 'The configured quorum of the virtual service.',
    value: (v) => v.quorum,
  },
];

export const HEALTH_FAMILIES: readonly { name: string; kind: 'gauge'; help: string; labels: string }[] = [
  ...SERVER.map((f) => ({ name: f.name, kind: 'gauge' as const, help: f.help, labels: 'vs, server' })),
  ...SERVICE.map((f) => ({ name: f.name, kind: 'gauge' as const, help: f.help, labels: 'vs' })),
];

export function escapeLabel(v: string): string {
  return /[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;
}

export function renderHealth(statuses: readonly VirtualServiceStatus[]): {
  chunks: Buffer[];
  series: number;
} {
  const vsLabels: Buffer[] = [];
  const serverLabels: Buffer[] = [];
  const servers: ServerStatus[] = [];
  let size = 0;
  for (const st of statuses) {
    const vs = escapeLabel(st.vs);
    vsLabels.push(Buffer.from(`{vs="${vs}"} `));
    for (const s of st.servers) {
      const b = Buffer.from(`{vs="${vs}",server="${escapeLabel(s.server)}"} `);
      size += b.length;
      serverLabels.push(b);
      servers.push(s);
    }
  }
  const chunks: Buffer[] = [];
  for (const f of SERVER) {
    const name = Buffer.from(f.name);
    const out = new Writer(size + servers.length * (name.length + 4) + 256);
    out.text(`# HELP ${f.name} ${f.help}\n# TYPE ${f.name} gauge\n`);
    for (let i = 0; i < servers.length; i++) {
      out.bytes(name);
      out.bytes(serverLabels[i]);
      out.value(f.value(servers[i]));
    }
    chunks.push(out.take());
  }
  for (const f of SERVICE) {
    const name = Buffer.from(f.name);
    const out = new Writer(statuses.length * (name.length + 64) + 256);
    out.text(`# HELP ${f.name} ${f.help}\n# TYPE ${f.name} gauge\n`);
    for (let i = 0; i < statuses.length; i++) {
      out.bytes(name);
      out.bytes(vsLabels[i]);
      out.value(f.value(statuses[i]));
    }
    chunks.push(out.take());
  }
  return { chunks, series: servers.length * SERVER.length + statuses.length * SERVICE.length };
}
