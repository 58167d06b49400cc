// The roster kind without its parser: its folder, schema and rules across files, which every run uses. The
// registry (../registry.ts) lists it so; its parser (./index.ts, with the YAML parser and the schema validators)
// is imported only when a roster's parse is not remembered.
import type { KindAbout } from '../kind.js';
import { ROSTER_RULES_ACROSS_FILES, rosterRulesAcrossFiles } from './rules.js';
import type { Roster } from './types.js';

/** The roster's JSON Schema, from the repository root. */
export const ROSTER_SCHEMA = 'schemas/roster.schema.json';

export const rosterAbout: KindAbout<Roster> = {
  name: 'rosters',
  pathKey: 'rosters',
  schema: ROSTER_SCHEMA,
  acrossFiles: { what: ROSTER_RULES_ACROSS_FILES, apply: rosterRulesAcrossFiles },
};
