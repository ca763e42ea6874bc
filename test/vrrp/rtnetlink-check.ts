// Run inside a test namespace by rtnetlink.test.ts: exercises the RtNetlink wrapper on a veth pair
// and prints one JSON object with what it saw.
import { execFileSync } from 'node:child_process';
import { LinkEvent, NetlinkError, RtNetlink } from '../../src/net/rtnetlink';

async function main(): Promise<void> {
  const rt = new RtNetlink();
  const events: LinkEvent[] = [];
  const stop = rt.watchLinks((e) => events.push(e));
  await new Promise((r) => setTimeout(r, 50));
  execFileSync('ip', ['link', 'add', 'rtv0', 'type', 'veth', 'peer', 'name', 'rtv1']);
  execFileSync('ip', ['link', 'set', 'rtv1', 'up']);
  execFileSync('ip', ['link', 'set', 'rtv0', 'up']);
  const link = await rt.link('rtv0');
  if (!link) throw new Error('rtv0 not listed');
  await rt.addAddress({ ifindex: link.ifindex, address: '192.0.2.7', prefix: 24, label: 'rtv0:vip' });
  await rt.addAddress({ ifindex: link.ifindex, address: '2001:db8::7', prefix: 64 });
  await rt.addAddress({ ifindex: link.ifindex, address: '192.0.2.8', prefix: 32, scope: 'host' });
  let dup: { errno: number; code: string } | undefined;
  try {
    await rt.addAddress({ ifindex: link.ifindex, address: '192.0.2.7', prefix: 24 });
  } catch (e) {
    if (e instanceof NetlinkError) dup = { errno: e.errno, code: e.code };
  }
  // Several dumps in flight at once.
  const concurrent = await Promise.all([
    rt.listAddresses(),
    rt.listLinks(),
    rt.listAddresses({ ifindex: link.ifindex }),
  ]);
  const listed = concurrent[2];
  const ipOut = execFileSync('ip', ['-j', 'addr', 'show', 'dev', 'rtv0'], { encoding: 'utf8' });
  await rt.deleteAddress({ ifindex: link.ifindex, address: '192.0.2.7', prefix: 24 });
  await rt.deleteAddress({ ifindex: link.ifindex, address: '2001:db8::7', prefix: 64 });
  let missing: string | undefined;
  try {
    await rt.deleteAddress({ ifindex: link.ifindex, address: '192.0.2.7', prefix: 24 });
  } catch (e) {
    missing = (e as NetlinkError).code;
  }
  const after = await rt.listAddresses({ ifindex: link.ifindex });
  execFileSync('ip', ['link', 'set', 'rtv0', 'down']);
  execFileSync('ip', ['link', 'del', 'rtv0']);
  await new Promise((r) => setTimeout(r, 200));
  stop();
  rt.close();
  const ev = events
    .filter((e) => e.link.name === 'rtv0')
    .map((e) => `${e.type}:${e.link.up ? 'up' : 'down'}`);
  process.stdout.write(
    JSON.stringify({
      link,
      dup,
      listed,
      ipOut: JSON.parse(ipOut),
      missing,
      after,
      events: ev,
      links: concurrent[1].length,
    }) + '\n',
  );
}

main().catch((e) => {
  process.stderr.write(String((e as Error).stack));
  process.exit(1);
});
