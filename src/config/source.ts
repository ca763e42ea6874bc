/** Reading configuration files, remembering which were read. */
import { isAscii } from 'node:buffer';
import * as fs from 'node:fs';

export class SourceFiles {
  /** Every file read, in order. */
  readonly paths: string[] = [];

  /** The file's text, or undefined if it cannot be read. */
  read(file: string): string | undefined {
    try {
      const buf = fs.readFileSync(file);
      // Configuration files are nearly always ASCII, which decodes faster as latin1 (the same text).
      const text = isAscii(buf) ? buf.toString('latin1') : buf.toString('utf8');
      this.paths.push(file);
      return text;
    } catch {
      return undefined;
    }
  }
}
