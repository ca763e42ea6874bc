/** Reading configuration files, remembering which were read. */
import * as fs from 'node:fs';

export class SourceFiles {
  /** Every file read, in order. */
  readonly paths: string[] = [];

  /** The file's text, or undefined if it cannot be read. */
  read(file: string): string | undefined {
    try {
      const text = fs.readFileSync(file, 'utf8');
      this.paths.push(file);
      return text;
    } catch {
      return undefined;
    }
  }
}
