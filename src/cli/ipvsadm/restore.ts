// -R: reads rules (what ipvsadm -S and lbctl -S write: one ipvsadm command per line, split at white
// space) and applies them through the addon's pipelined batch path.
//
// Unlike ipvsadm, which executes line after line and stops at the first bad line with some rules
// applied, lbctl first parses every line: a bad line is reported with its number and nothing at all
// is applied. Kernel errors are reported per line (number and ipvsadm's message), followed by a
// summary of what was applied; the exit status is then 255.
import type { Operation } from '../../ipvs/types';
import { Cmd } from './options';
import { IpvsadmExit, parseCommand, tryhelp, type CommandEntry } from './parse';
import { ipvsStrerror, operationOf } from './ops';
import { kernelFor, runListing, type RestoreCtx } from './main';

interface Step {
  line: number;
  entry: CommandEntry;
  op: Operation | null;
}

export async function restore(ctx: RestoreCtx, text: string): Promise<number> {
  const lines = text.split('\n');
  const steps: Step[] = [];
  for (let i = 0; i < lines.length; i++) {
    const words = lines[i].split(/[ \t\r\v\f]+/).filter((w) => w !== '');
    if (words.length === 0 || words[0].startsWith('#')) continue;
    let entry: CommandEntry;
    try {
      entry = await parseCommand(ctx.prog, words);
      if (entry.cmd === Cmd.RESTORE) tryhelp(ctx.prog);
    } catch (err) {
      if (err instanceof IpvsadmExit) {
        ctx.out.push(err.stdout);
        ctx.err.push(err.stderr);
        ctx.err.push(`${ctx.prog}: restore: line ${i + 1} rejected: ${lines[i].trim()}; nothing applied\n`);
        return err.code;
      }
      throw err;
    }
    steps.push({ line: i + 1, entry, op: operationOf(entry) });
  }

  let applied = 0;
  let total = 0;
  const failed: number[] = [];
  let pending: Step[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const k = await kernelFor(ctx);
    const results = await k.apply(pending.map((s) => s.op as Operation));
    results.forEach((r, i) => {
      const s = pending[i];
      total++;
      if (r.errno === 0) applied++;
      else {
        failed.push(s.line);
        ctx.err.push(`line ${s.line}: ${ipvsStrerror((s.op as Operation).op, r.errno)}\n`);
      }
    });
    pending = [];
  };
  for (const s of steps) {
    if (s.op !== null) {
      pending.push(s);
      continue;
    }
    await flush();
    await runListing(ctx, s.entry);
  }
  await flush();
  if (failed.length > 0) {
    ctx.err.push(
      `${ctx.prog}: restore: ${applied} of ${total} rules applied; failed: line${failed.length > 1 ? 's' : ''} ${failed.join(', ')}\n`,
    );
    return 255;
  }
  return 0;
}
