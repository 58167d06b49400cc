// Where gitfleet's built CLI is: the program units and pinned settings run.
import path from 'node:path';
import { PACKAGE_ROOT } from '../package-root.js';

/**
 * gitfleet's built CLI, which the units run: dist/cli.js under the package
 * root, whether this runs from the bundle or from the sources (tests run the
 * sources; the units must still run the build).
 */
export const CLI_PATH = path.join(PACKAGE_ROOT, 'dist', 'cli.js');
