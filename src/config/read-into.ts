// A file's bytes into a buffer kept from call to call (the daemon reads its configuration again on each
// reload): a large file allocates no new memory, which would make the collector walk a large daemon's
// whole heap. A regular file is mapped and copied by the addon (native/src/mapped_file.cc), which in the
// qemu guest loads bench/reload's 5.6 MB file for a reload in 20.0 ms median against 28.2 with read(2):
// read(2) steps through the page cache one page at a time. Anything else (a pipe, /proc, a file that
// shrank during the copy, no addon) is read(2).
import * as fs from 'node:fs';
import { nativeModule } from '../net/native';

interface MappedFileNative {
  /** n <= into.length: copied; n > into.length: its size, nothing copied; -1: not mappable; -2: shrank. */
  read(path: string, into: Buffer): number;
}

let mapped: MappedFileNative | null | undefined;

/** Turns the addon's mapped reads off (false) or back on: read(2) alone, for tests of that path. */
export function useMappedFiles(on: boolean): void {
  mapped = on ? undefined : null;
}

function mappedFile(): MappedFileNative | null {
  if (mapped === undefined) {
    try {
      mapped = nativeModule<MappedFileNative>('mappedFile');
    } catch {
      mapped = null;
    }
  }
  return mapped;
}

/**
 * Reads the file into `into` and returns the part of it that holds the file. When the file does not
 * fit, `grow(size)` gives a buffer of at least size + 1 bytes (and the caller keeps it for next time).
 * Throws what opening or reading the file throws.
 */
export function readInto(file: string, into: Buffer, grow: (size: number) => Buffer): Buffer {
  let b = into;
  const native = mappedFile();
  if (native) {
    for (let tries = 0; tries < 3; tries++) {
      const n = native.read(file, b);
      if (n < 0) break;
      if (n <= b.length) return b.subarray(0, n);
      b = grow(n);
    }
  }
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    if (b.length < size + 1) b = grow(size);
    let n = 0;
    for (;;) {
      if (n === b.length) {
        const bigger = grow(b.length * 2);
        b.copy(bigger, 0, 0, n);
        b = bigger;
      }
      const got = fs.readSync(fd, b, n, b.length - n, null);
      if (got === 0) break;
      n += got;
    }
    return b.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}
