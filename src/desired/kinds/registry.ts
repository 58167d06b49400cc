// Every desired-state kind gitfleet reads, in the order their files are
// reported. Adding a kind is one folder under kinds/ and one entry here
// (docs/architecture.md, "Adding a desired-state kind"). An entry holds no
// parser: load() imports it, which the loader does only when some file's
// parse is not remembered (desired/parse-memo.ts).
import type { AnyKindEntry } from './kind.js';
import { rosterAbout } from './roster/about.js';

export const KINDS: readonly AnyKindEntry[] = [
  { ...rosterAbout, load: async () => (await import('./roster/index.js')).rosterKind },
];
