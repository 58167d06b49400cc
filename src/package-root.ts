// Where gitfleet's package is installed, found the same way from the sources and from the bundle.
import { fileURLToPath } from 'node:url';

/**
 * The package root (holding package.json, schemas/, dist/). This module sits
 * one level below it both as src/package-root.ts (tests run the sources) and
 * inside the bundle, whose files all sit in dist/: so '../' is right in both.
 */
export const PACKAGE_ROOT_URL = new URL('../', import.meta.url);
export const PACKAGE_ROOT = fileURLToPath(PACKAGE_ROOT_URL);
