// Proves the real-kernel harness: in the guest, real ipvsadm builds NAT, DR and TUN virtual services over
// real servers in network namespaces, and requests through each VIP reach the real servers in the round
// robin order, with DR and TUN replies bypassing the director.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { Topology } from '../support/netns';
import { lvsLab, REAL_SERVERS as RS, VIP, type LvsLab } from '../support/lvs-lab';
import { probe } from '../support/servers';

/** Real servers as listed by `ipvsadm -Ln --nosort` (the kernel's list order; -L sorts by default). */
function listedServers(listing: string): string[] {
  return [...listing.matchAll(/->\s+(\d+\.\d+\.\d+\.\d+):80\s/g)].map((m) => m[1]);
}

/** In, out packets of the service from `ipvsadm -Ln --stats -t VIP:80`. */
function servicePackets(stats: string): { inPkts: number; outPkts: number } {
  const line = stats.split('\n').find((l) => l.startsWith('TCP'));
  assert.ok(line, `no service line in:\n${stats}`);
  const f = line.trim().split(/\s+/);
  return { inPkts: Number(f[3]), outPkts: Number(f[4]) };
}

/** Sends 6 requests through the VIP and checks they cycle through the 3 servers in the kernel's order. */
async function assertRoundRobin(topo: Topology, addrOf: Record<string, string>) {
  const order = listedServers(await topo.sh('director', `ipvsadm -Ln --nosort -t ${VIP}:80`));
  assert.equal(order.length, 3);
  const results = await probe(topo, 'client', `http://${VIP}/`, 6);
  for (const r of results) assert.equal(r.status, 200, JSON.stringify(r));
  const served = results.map((r) => addrOf[r.body as string]);
  // Round robin: period 3, each server once per period, in the kernel's list order (from any start).
  assert.deepEqual(served.slice(3), served.slice(0, 3));
  const start = order.indexOf(served[0]);
  assert.ok(start >= 0, `served by unknown ${served[0]}`);
  assert.deepEqual(
    served.slice(0, 3),
    [0, 1, 2].map((k) => order[(start + k) % 3]),
  );
}

async function statsAfterEstimator(topo: Topology) {
  // The kernel's estimator folds the per-cpu counters into the shown stats every 2 s.
  await new Promise((r) => setTimeout(r, 2500));
  return servicePackets(await topo.sh('director', `ipvsadm -Ln --stats -t ${VIP}:80`));
}

/** Programs the VIP with real ipvsadm in rr over the 3 real servers with the given forwarding flag. */
async function programWithIpvsadm({ topo, addrOf }: LvsLab, flag: string) {
  const rules = [
    `ipvsadm -A -t ${VIP}:80 -s rr`,
    ...RS.map((rs) => `ipvsadm -a -t ${VIP}:80 -r ${addrOf[rs]}:80 ${flag}`),
  ];
  await topo.sh('director', rules.join(' && '));
}

describe('IPVS forwarding in the real kernel, programmed with ipvsadm', () => {
  test('NAT: the director rewrites and carries both directions', async (t) => {
    const lab = await lvsLab('nat');
    t.after(() => lab.topo.destroy());
    await programWithIpvsadm(lab, '-m');
    await assertRoundRobin(lab.topo, lab.addrOf);
    const { inPkts, outPkts } = await statsAfterEstimator(lab.topo);
    assert.ok(inPkts > 0 && outPkts > 0, `NAT carries both directions: in ${inPkts} out ${outPkts}`);
  });

  test('DR: replies go from the real servers straight to the client', async (t) => {
    const lab = await lvsLab('dr');
    t.after(() => lab.topo.destroy());
    await programWithIpvsadm(lab, '-g');
    await assertRoundRobin(lab.topo, lab.addrOf);
    const { inPkts, outPkts } = await statsAfterEstimator(lab.topo);
    assert.ok(inPkts > 0, `requests went through the director: in ${inPkts}`);
    assert.equal(outPkts, 0, 'DR replies bypass the director');
  });

  test('TUN: IPIP to the real servers, replies bypass the director', async (t) => {
    const lab = await lvsLab('tun');
    t.after(() => lab.topo.destroy());
    await programWithIpvsadm(lab, '-i');
    await assertRoundRobin(lab.topo, lab.addrOf);
    const { inPkts, outPkts } = await statsAfterEstimator(lab.topo);
    assert.ok(inPkts > 0, `requests went through the director: in ${inPkts}`);
    assert.equal(outPkts, 0, 'TUN replies bypass the director');
  });
});
