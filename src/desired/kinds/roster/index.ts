// The roster kind with its parser: agent rosters under fleet.yaml `paths.rosters`. The registry lists the kind
// without it (./about.ts): this module, and the YAML parser and validators with it, load only when a file's parse
// is not remembered.
import type { DesiredKind } from '../kind.js';
import { rosterAbout } from './about.js';
import { parseRoster } from './parse.js';
import type { Roster } from './types.js';

export const rosterKind: DesiredKind<Roster> = {
  ...rosterAbout,
  parse: (file, ctx) => {
    const { roster, problems } = parseRoster(file.path, file.text, ctx);
    return { value: roster, problems };
  },
};
