// `lbctl` as ipvsadm 1.31: runIpvsadm(argv) parses the command line with ipvsadm's semantics, talks
// to the kernel through the IPVS netlink addon and prints what ipvsadm prints (byte for byte), or
// JSON with --json. Output is collected and written once at the end (fast for big tables).
import { Cmd, Opt } from './options';
import { FMT, IpvsadmExit, type CommandEntry, has, parseCommand, tryhelp } from './parse';
import type { Kernel, KernelServiceEntry } from './kernel';
import { ipvsStrerror, operationOf, serviceKey, strerror } from './ops';

export interface IpvsadmIo {
  /** Program name in messages (ipvsadm's argv[0]); default 'lbctl'. */
  prog?: string;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /** The whole standard input (for -R). */
  stdin?: () => Promise<string>;
}

/** LBCTL_TRACE=1: phase times (ms since the process started) on stderr, for start-up work. */
const TRACE = process.env.LBCTL_TRACE === '1';
export function trace(what: string): void {
  if (TRACE) process.stderr.write(`lbctl trace: ${what} at ${performance.now().toFixed(1)} ms\n`);
}

interface Ctx {
  prog: string;
  out: string[];
  err: string[];
  kernel: Kernel | null;
  io: IpvsadmIo;
}

async function kernelOf(ctx: Ctx): Promise<Kernel> {
  if (ctx.kernel !== null) return ctx.kernel;
  const { Kernel, KernelError } = await import('./kernel');
  try {
    ctx.kernel = await Kernel.open();
  } catch (e) {
    const errno = e instanceof KernelError ? e.errno : 0;
    const why = errno === 2 || errno === 0 ? 'Protocol not available' : ipvsStrerror(null, errno);
    throw new IpvsadmExit(
      2,
      `Can't initialize ipvs: ${why}\nAre you sure that IP Virtual Server is built in the kernel or as module?\n`,
    );
  }
  return ctx.kernel;
}

/** Reports a kernel failure of a listing the way ipvsadm does (message, exit 1). */
function listingError(e: unknown): never {
  const errno = (e as { errno?: number }).errno;
  if (typeof errno === 'number') throw new IpvsadmExit(1, `${ipvsStrerror(null, errno)}\n`);
  throw e;
}

async function names(format: number, addresses: () => string[]) {
  if (format & FMT.NUMERIC) return undefined;
  const { NameTable } = await import('./format');
  const t = new NameTable();
  await t.load(addresses());
  return t;
}

/** Runs a listing (-L/-l, -S) and appends its output. */
async function list(ctx: Ctx, e: CommandEntry): Promise<void> {
  const fmt = await import('./format');
  let format = e.format;
  if (e.cmd === Cmd.SAVE) format |= FMT.RULE;
  if (e.cmd === Cmd.LIST && has(e, Opt.CONNECTION)) {
    const fs = await import('node:fs');
    let text: string;
    try {
      text = fs.readFileSync('/proc/net/ip_vs_conn', 'latin1');
    } catch {
      throw new IpvsadmExit(1, 'cannot open file /proc/net/ip_vs_conn\n');
    }
    if (text === '') throw new IpvsadmExit(1, 'unexpected input from /proc/net/ip_vs_conn\n');
    const conns = fmt.parseConns(text);
    if (e.json) {
      const { connsDoc } = await import('./json');
      ctx.out.push(connsDoc(conns));
      return;
    }
    ctx.out.push(fmt.listConns(conns, format, await names(format, () => fmt.connAddresses(conns))));
    return;
  }
  const k = await kernelOf(ctx);
  if (e.cmd === Cmd.LIST && has(e, Opt.SERVICE)) {
    let svc: KernelServiceEntry | null;
    try {
      svc = await k.service(serviceKey(e));
    } catch (err) {
      return listingError(err);
    }
    if (svc === null) throw new IpvsadmExit(1, `${ipvsStrerror('get-service', 3)}\n`);
    if (e.json) {
      const { servicesDoc } = await import('./json');
      ctx.out.push(servicesDoc(null, [{ svc, dests: sortedDests(svc, format) }]));
      return;
    }
    ctx.out.push(
      fmt.listService(svc, format, await names(format, () => fmt.addressesOf([svc as KernelServiceEntry]))),
    );
    return;
  }
  if (e.cmd === Cmd.LIST && has(e, Opt.TIMEOUT)) {
    const t = await k.timeouts().catch(listingError);
    if (e.json) ctx.out.push((await import('./json')).timeoutsDoc(t));
    else ctx.out.push(fmt.listTimeout(t));
    return;
  }
  if (e.cmd === Cmd.LIST && has(e, Opt.DAEMON)) {
    const d = await k.daemons().catch(listingError);
    if (e.json) ctx.out.push((await import('./json')).daemonsDoc(d));
    else ctx.out.push(fmt.listDaemon(d));
    return;
  }
  trace('kernel open');
  const info = await k.info().catch(listingError);
  const detailed = FMT.STATS | FMT.RATE | FMT.THRESHOLDS | FMT.PERSISTENTCONN | FMT.TUN_INFO;
  const svcs = await k.services(!e.json && !(format & detailed)).catch(listingError);
  if (e.json) {
    const { servicesDoc } = await import('./json');
    const { cmpServices, glibcMergeSort } = await import('./sort');
    const list = format & FMT.NOSORT ? svcs : glibcMergeSort([...svcs], cmpServices);
    ctx.out.push(
      servicesDoc(
        info,
        list.map((svc) => ({ svc, dests: sortedDests(svc, format) })),
      ),
    );
    return;
  }
  trace(`table read (${svcs.length} services)`);
  ctx.out.push(fmt.listAll(info, svcs, format, await names(format, () => fmt.addressesOf(svcs))));
  trace('formatted');
}

function sortedDests(svc: KernelServiceEntry, format: number) {
  if (format & FMT.NOSORT) return svc.destinations;
  const { cmpDests, glibcMergeSort } = require('./sort') as typeof import('./sort');
  return glibcMergeSort([...svc.destinations], cmpDests);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('latin1');
}

async function execute(ctx: Ctx, e: CommandEntry): Promise<number> {
  if (e.help !== undefined) {
    const { usageText, versionText } = await import('./usage');
    ctx.out.push(e.help === 'usage' ? usageText(ctx.prog) : versionText(ctx.prog));
    return 0;
  }
  if (e.cmd === Cmd.LIST || e.cmd === Cmd.SAVE) {
    await list(ctx, e);
    return 0;
  }
  if (e.cmd === Cmd.RESTORE) {
    const { restore } = await import('./restore');
    const text = await (ctx.io.stdin ?? readStdin)();
    return restore(ctx, text);
  }
  const op = operationOf(e);
  if (op === null) return tryhelp(ctx.prog);
  const k = await kernelOf(ctx);
  const [r] = await k.apply([op]);
  if (r.errno !== 0) {
    ctx.err.push(`${ipvsStrerror(op.op, r.errno)}\n`);
    return 255;
  }
  return 0;
}

export interface RestoreCtx {
  prog: string;
  out: string[];
  err: string[];
}

/** For restore: runs one parsed line that is not a kernel change (a listing), in order. */
export async function runListing(ctx: RestoreCtx, e: CommandEntry): Promise<number> {
  return execute(ctx as Ctx, e);
}

export async function kernelFor(ctx: RestoreCtx): Promise<Kernel> {
  return kernelOf(ctx as Ctx);
}

/** Writes all of text to fd (blocking; retries while a non-blocking pipe is full). `lbctl -Ln | head`:
 * a reader gone is not an error to report (ipvsadm just dies of SIGPIPE), exit 141 as a shell shows. */
export function writeAll(fd: number, text: string): void {
  const fs = require('node:fs') as typeof import('node:fs');
  const buf = Buffer.from(text);
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') process.exit(141);
      if (code !== 'EAGAIN') throw e;
    }
  }
}

/** Runs one ipvsadm command line (without the program name); returns the exit status. */
export async function runIpvsadm(argv: string[], io: IpvsadmIo = {}): Promise<number> {
  trace('runIpvsadm');
  const ctx: Ctx = { prog: io.prog ?? 'lbctl', out: [], err: [], kernel: null, io };
  // Written straight to the file descriptors: process.stdout and process.stderr are streams whose
  // set-up loads node's stream modules, a good part of the start-up of `lbctl -Sn`.
  const stdout = io.stdout ?? ((s: string) => writeAll(1, s));
  const stderr = io.stderr ?? ((s: string) => writeAll(2, s));
  let code: number;
  try {
    if (argv.length === 0) {
      await list(ctx, { ...(await import('./parse')).newEntry(), cmd: Cmd.LIST });
      code = 0;
    } else {
      const e = await parseCommand(ctx.prog, argv);
      code = await execute(ctx, e);
    }
  } catch (err) {
    if (!(err instanceof IpvsadmExit)) {
      ctx.kernel?.close();
      const errno = (err as { errno?: number }).errno;
      if (typeof errno === 'number') {
        ctx.err.push(`${strerror(errno)}\n`);
        code = 255;
      } else throw err;
    } else {
      ctx.out.push(err.stdout);
      ctx.err.push(err.stderr);
      code = err.code;
    }
  }
  ctx.kernel?.close();
  const out = ctx.out.join('');
  if (out !== '') stdout(out);
  const errText = ctx.err.join('');
  if (errText !== '') stderr(errText);
  trace('written');
  if (TRACE) process.on('exit', () => trace('exit'));
  return code;
}
