// Loads the node-addon-api addon built from native/ (node-gyp-build looks in native/build/Release).
import * as path from 'node:path';

/** Exports of the addon: one object per native module, as registered in native/src/registry.h. */
export type NativeAddon = Record<string, unknown> & { modules: string[] };

let cached: NativeAddon | undefined;

export function nativeAddon(): NativeAddon {
  if (cached === undefined) {
    const load = require('node-gyp-build') as (dir: string) => NativeAddon;
    // dist/src/net/native.js -> <checkout>/native
    cached = load(path.resolve(__dirname, '..', '..', '..', 'native'));
  }
  return cached;
}

/** One native module of the addon, or a clear error when the addon was built without it. */
export function nativeModule<T>(name: string): T {
  const addon = nativeAddon();
  const mod = addon[name];
  if (mod === undefined) {
    throw new Error(
      `native module '${name}' missing from the addon (have: ${addon.modules.join(', ')}); run make`,
    );
  }
  return mod as T;
}
