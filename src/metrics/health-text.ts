// The per-real-server and per-virtual-service health series, written directly like the IPVS ones
// (lbd with 80,000 real servers has as many series per family: prom-client's label maps cost seconds),
// with each label buffer built once and kept while the virtual service and real server exist.
import type { VirtualServiceStatus } from '../health/virtual-service';
import { Arena, escapeLabel, rendered, Writer, type RenderedFamily } from './exposition';

type ServerStatus = VirtualServiceStatus['servers'][number];

interface Family<T> {
  name: string;
  kind: 'gauge';
  help: string;
  value: (x: T) => number;
}

const SERVER: Family<ServerStatus>[] = [
  {
    kind: 'gauge',
    name: 'lbd_health_server_up',
    help: 'Real server health: 1 up, 0 down (all its checks must pass).',
    value: (s) => (s.up ? 1 : 0),
  },
  {
    kind: 'gauge',
    name: 'lbd_health_server_weight',
    help: 'Weight the health checker wants for the real server (0 when down or removed).',
    value: (s) => (s.present ? s.weight : 0),
  },
  {
    kind: 'gauge',
    name: 'lbd_health_server_configured_weight',
    help: 'Configured weight of the real server.',
    value: (s) => s.configuredWeight,
  },
];

const SERVICE: Family<VirtualServiceStatus>[] = [
  {
    kind: 'gauge',
    name: 'lbd_health_quorum_up',
    help: 'Quorum of the virtual service: 1 met, 0 lost.',
    value: (v) => (v.quorumUp ? 1 : 0),
  },
  {
    kind: 'gauge',
    name: 'lbd_health_quorum_weight',
    help: 'Sum of the weights of the live real servers (compared with the quorum).',
    value: (v) => v.sum,
  },
  {
    kind: 'gauge',
    name: 'lbd_health_quorum_threshold',
    help: 'The configured quorum of the virtual service.',
    value: (v) => v.quorum,
  },
];

export const HEALTH_FAMILIES: readonly { name: string; kind: 'gauge'; help: string; labels: string }[] = [
  ...SERVER.map((f) => ({ name: f.name, kind: 'gauge' as const, help: f.help, labels: 'vs, server' })),
  ...SERVICE.map((f) => ({ name: f.name, kind: 'gauge' as const, help: f.help, labels: 'vs' })),
];

interface CachedService {
  labels: Buffer;
  servers: Map<string, Buffer>;
}

export class HealthRenderer {
  private cache = new Map<string, CachedService>();

  /** The health families, written into `arena` (by default one of their own). */
  render(statuses: readonly VirtualServiceStatus[], arena?: Arena): RenderedFamily[] {
    const next = new Map<string, CachedService>();
    const vsLabels: Buffer[] = [];
    const serverLabels: Buffer[] = [];
    const servers: ServerStatus[] = [];
    let vsBytes = 0;
    let serverBytes = 0;
    for (const st of statuses) {
      const was = this.cache.get(st.vs);
      const vs = escapeLabel(st.vs);
      const c: CachedService = { labels: was?.labels ?? Buffer.from(`{vs="${vs}"} `), servers: new Map() };
      next.set(st.vs, c);
      vsLabels.push(c.labels);
      vsBytes += c.labels.length;
      for (const s of st.servers) {
        const b =
          was?.servers.get(s.server) ?? Buffer.from(`{vs="${vs}",server="${escapeLabel(s.server)}"} `);
        c.servers.set(s.server, b);
        serverBytes += b.length;
        serverLabels.push(b);
        servers.push(s);
      }
    }
    this.cache = next;
    const into = arena ?? new Arena(SERVER.length * (serverBytes + servers.length * 64) + 4096);
    const out: RenderedFamily[] = [];
    for (const f of SERVER) {
      const name = Buffer.from(f.name);
      const w = new Writer(into, serverBytes + servers.length * (name.length + 22));
      for (let i = 0; i < servers.length; i++) {
        w.sample(name, serverLabels[i]);
        w.value(f.value(servers[i]));
      }
      out.push(rendered(f, w.take(), servers.length));
    }
    for (const f of SERVICE) {
      const name = Buffer.from(f.name);
      const w = new Writer(into, vsBytes + statuses.length * (name.length + 22));
      for (let i = 0; i < statuses.length; i++) {
        w.sample(name, vsLabels[i]);
        w.value(f.value(statuses[i]));
      }
      out.push(rendered(f, w.take(), statuses.length));
    }
    return out;
  }
}
