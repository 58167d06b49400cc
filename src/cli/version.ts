// gitfleet's version, for --version.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../package-root.js';

/** Replaced by the build (scripts/build.mjs, esbuild `define`) with package.json's version. */
declare const GITFLEET_VERSION: string | undefined;

/** The version the build injected; running from the sources (vitest), package.json's. */
export function version(): string {
  if (typeof GITFLEET_VERSION === 'string') return GITFLEET_VERSION;
  const pkg = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}
