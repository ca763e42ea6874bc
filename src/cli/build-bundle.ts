// Build step (run by make after tsc): bundles lbctl's compiled command line (dist/src/cli/main.js and
// the ipvsadm modules it loads) into one file, dist/src/cli/lbctl.cjs, which bin/lbctl loads. One file
// instead of a dozen saves the module resolution (stat, realpath, read of each file), a good part of
// the start-up of `lbctl -Sn`, most of all on a slow file system. What the ipvsadm path does not need
// (configuration tools, the daemon client, the addon loader's fallback) stays outside, loaded on
// demand from dist/ as before. Usage: node dist/src/cli/build-bundle.js
import * as path from 'node:path';
import { build, type Plugin } from 'esbuild';

const distCli = __dirname; // dist/src/cli
const entry = path.join(distCli, 'main.js');
const outfile = path.join(distCli, 'lbctl.cjs');
/** Modules left out of the bundle (required lazily, off the ipvsadm path), as main.ts and the ipvsadm
 * modules spell them. */
const OUTSIDE = new Set(['../config/report', './daemon-commands', '../../net/native']);

/** Keeps each bundled module's own directory: `__dirname` becomes that directory (relative to the
 * bundle's), and a module left outside is required by its path relative to the bundle. */
const keepPaths: Plugin = {
  name: 'keep-paths',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (!OUTSIDE.has(args.path)) return undefined;
      let rel = path.relative(distCli, path.resolve(args.resolveDir, args.path));
      if (!rel.startsWith('.')) rel = `./${rel}`;
      return { path: rel, external: true };
    });
    b.onLoad({ filter: /\.js$/ }, async (args) => {
      const fs = await import('node:fs/promises');
      let contents = await fs.readFile(args.path, 'utf8');
      const rel = path.relative(distCli, path.dirname(args.path));
      if (rel !== '') {
        contents = contents.replace(
          /\b__dirname\b/g,
          `require('node:path').join(__dirname, ${JSON.stringify(rel)})`,
        );
      }
      return { contents, loader: 'js' };
    });
  },
};

build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // less text to read and scan at start-up; identifiers kept (readable stack traces)
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [keepPaths],
}).catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
