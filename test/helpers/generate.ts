// Vitest global setup: the tests run src/, which imports the schemas' validators that the build generates
// (src/generated/, not committed); generate them first so a test run never sees a missing or stale one.
// @ts-expect-error: a plain .mjs build script, without types
import { writeValidators } from '../../scripts/validators.mjs';

export default function setup(): void {
  writeValidators();
}
