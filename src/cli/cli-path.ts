// Where gitfleet's built CLI is: the program units and pinned settings run.
import { fileURLToPath } from 'node:url';

/**
 * gitfleet's built CLI, which the units run. `../../dist/cli.js` from both
 * dist/cli/cli-path.js and src/cli/cli-path.ts (tests run the sources; the
 * units must still run the build).
 */
export const CLI_PATH = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
