// diff(current, desired): the minimal ordered list of operations turning one IPVS table into another.
// Settings that changed are edited in place (never delete + add, never a flush). Order: new services
// (each followed by its real servers), edited services, then in kept services new and edited real servers
// before removed ones (capacity is added before it is taken away), and removed services last.
import { describeService } from './errors';
import {
  destinationId,
  destinationSettings,
  sameDestinationSettings,
  sameServiceSettings,
  serviceId,
  serviceSettings,
} from './model';
import type { Destination, Operation, VirtualService } from './types';

export class DiffError extends Error {
  override name = 'DiffError';
}

function index<T>(items: readonly T[], id: (t: T) => string, what: (t: T) => string): Map<string, T> {
  const m = new Map<string, T>();
  for (const it of items) {
    const k = id(it);
    if (m.has(k)) throw new DiffError(`duplicate ${what(it)}`);
    m.set(k, it);
  }
  return m;
}

export function diff(current: readonly VirtualService[], desired: readonly VirtualService[]): Operation[] {
  const svcWhat = (s: VirtualService) => `virtual service ${describeService(s.key)}`;
  const cur = index(current, (s) => serviceId(s.key), svcWhat);
  const want = index(desired, (s) => serviceId(s.key), svcWhat);
  const adds: Operation[] = [];
  const edits: Operation[] = [];
  const destAdds: Operation[] = [];
  const destDels: Operation[] = [];
  const dels: Operation[] = [];

  for (const [id, d] of want) {
    const destWhat = (x: Destination) => `real server ${x.address}:${x.port} in ${svcWhat(d)}`;
    const wantDests = index(d.destinations, destinationId, destWhat);
    const c = cur.get(id);
    if (c === undefined) {
      adds.push({ op: 'add-service', service: serviceSettings(d) });
      for (const x of wantDests.values()) {
        adds.push({ op: 'add-destination', service: d.key, destination: destinationSettings(x) });
      }
      continue;
    }
    if (!sameServiceSettings(c, d)) edits.push({ op: 'edit-service', service: serviceSettings(d) });
    const curDests = index(c.destinations, destinationId, destWhat);
    for (const [did, x] of wantDests) {
      const y = curDests.get(did);
      if (y === undefined) {
        destAdds.push({ op: 'add-destination', service: d.key, destination: destinationSettings(x) });
      } else if (!sameDestinationSettings(y, x)) {
        destAdds.push({ op: 'edit-destination', service: d.key, destination: destinationSettings(x) });
      }
    }
    for (const [did, y] of curDests) {
      if (!wantDests.has(did))
        destDels.push({ op: 'delete-destination', service: d.key, address: y.address, port: y.port });
    }
  }
  for (const [id, c] of cur) {
    if (!want.has(id)) dels.push({ op: 'delete-service', key: c.key });
  }
  return [...adds, ...edits, ...destAdds, ...destDels, ...dels];
}
