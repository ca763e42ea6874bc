import * as fs from 'node:fs';
import * as path from 'node:path';

/** The package version, read once from package.json (dist/src/version.js -> ../../package.json). */
export const VERSION: string = (
  JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as {
    version: string;
  }
).version;
