// Every desired-state kind gitfleet reads, in the order their files are
// reported. Adding a kind is one folder under kinds/ and one entry here
// (docs/architecture.md, "Adding a desired-state kind").
import type { AnyKind } from './kind.js';
import { rosterKind } from './roster/index.js';

export const KINDS: readonly AnyKind[] = [rosterKind];
