// The roster kind: agent rosters under fleet.yaml `paths.rosters`.
import type { DesiredKind } from '../kind.js';
import { parseRoster, ROSTER_SCHEMA } from './parse.js';
import { ROSTER_RULES_ACROSS_FILES, rosterRulesAcrossFiles } from './rules.js';
import type { Roster } from './types.js';

export const rosterKind: DesiredKind<Roster> = {
  name: 'rosters',
  pathKey: 'rosters',
  schema: ROSTER_SCHEMA,
  parse: (file, ctx) => {
    const { roster, problems } = parseRoster(file.path, file.text, ctx);
    return { value: roster, problems };
  },
  acrossFiles: { what: ROSTER_RULES_ACROSS_FILES, apply: rosterRulesAcrossFiles },
};
