// lbd's pid file: created exclusively; a file left by a dead lbd is replaced, one naming a live lbd is
// an error, so two daemons never drive the same kernel tables.
import * as fs from 'node:fs';
import * as path from 'node:path';

export class PidFileError extends Error {
  override name = 'PidFileError';
}

/** Writes `pid` to `file`; throws PidFileError when another live lbd owns it. Returns a remover. */
export function acquirePidFile(file: string, pid = process.pid): () => void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx', 0o644);
      fs.writeSync(fd, `${pid}\n`);
      fs.closeSync(fd);
      return () => releasePidFile(file, pid);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new PidFileError(`cannot create pid file ${file}: ${(err as Error).message}`);
      }
    }
    const owner = readPid(file);
    if (owner !== undefined && owner !== pid && isLbd(owner)) {
      throw new PidFileError(`lbd is already running with pid ${owner} (pid file ${file})`);
    }
    fs.rmSync(file, { force: true });
  }
  throw new PidFileError(`cannot take the pid file ${file}: another process keeps creating it`);
}

function releasePidFile(file: string, pid: number): void {
  if (readPid(file) === pid) fs.rmSync(file, { force: true });
}

function readPid(file: string): number | undefined {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** True when `pid` is a live process with an argument named lbd (a recycled pid is not an lbd). */
function isLbd(pid: number): boolean {
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.some((arg) => path.basename(arg) === 'lbd');
  } catch {
    return false;
  }
}
