// The files the desired state makes in systemd mode (src/systemd/desired-files.ts):
// the pinned settings and the observed tmux version turned into fleet-units.ts's
// context, for the enabled agents only. Pure.
import { describe, expect, it } from 'vitest';
import type { Pinned } from '../../src/pinned.js';
import { type DesiredFilesContext, desiredUnitFiles } from '../../src/systemd/desired-files.js';
import { fleetFiles } from '../../src/systemd/fleet-units.js';
import { desired, FLEET, spec, STATE_DIR, UNIT_CTX, UNIT_DIR } from './builders.js';

/** The pinned settings UNIT_CTX was made from. */
const PINNED: Pinned = {
  formatVersion: 1,
  path: UNIT_CTX.path,
  lang: UNIT_CTX.lang!,
  tmuxTmpdir: null,
  node: UNIT_CTX.node,
  cli: UNIT_CTX.cli,
  tmux: UNIT_CTX.tmux,
};
const CTX: DesiredFilesContext = {
  fleet: FLEET,
  stateDir: STATE_DIR,
  unitDir: UNIT_DIR,
  pinned: PINNED,
  tmuxVersion: 'tmux 3.3a',
};
const d = desired(['a', { name: 'off', enabled: false }, 'b']);
const agents = [spec(d, 'a'), spec(d, 'off'), spec(d, 'b')];
const contents = (m: Map<string, { content: string }>) => [...m].map(([p, f]) => [p, f.content]);

describe('desiredUnitFiles', () => {
  it("renders fleet-units.ts's files from the pinned settings, for the enabled agents only", () => {
    const files = desiredUnitFiles(agents, CTX);
    expect(contents(files)).toEqual(contents(fleetFiles(UNIT_CTX, [spec(d, 'a'), spec(d, 'b')])));
    expect([...files.keys()].filter((p) => p.includes('off'))).toEqual([]);
  });

  it('the observed tmux version decides whether the server runs in the foreground', () => {
    const old = desiredUnitFiles(agents, { ...CTX, tmuxVersion: 'tmux 3.1c' });
    const expected = fleetFiles({ ...UNIT_CTX, tmuxForeground: false }, [spec(d, 'a'), spec(d, 'b')]);
    expect(contents(old)).toEqual(contents(expected));
    expect(contents(old)).not.toEqual(contents(desiredUnitFiles(agents, CTX)));
  });

  it('embeds the pinned TMUX_TMPDIR and leaves LANG out when none was pinned', () => {
    const files = desiredUnitFiles(agents, { ...CTX, pinned: { ...PINNED, lang: null, tmuxTmpdir: '/run/user/1000' } });
    const { lang: _, ...noLang } = UNIT_CTX;
    const expected = fleetFiles({ ...noLang, tmuxTmpdir: '/run/user/1000' }, [spec(d, 'a'), spec(d, 'b')]);
    expect(contents(files)).toEqual(contents(expected));
  });
});
