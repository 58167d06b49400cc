import { describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { HELP } from '../../src/cli/help.js';

describe('exit codes', () => {
  it('are said once, in the exit-code module, and --help lists every one of them', () => {
    const legend = HELP['']!.slice(HELP['']!.indexOf('Exit codes:'));
    const listed = [...legend.matchAll(/^ {2}(\d+) +\S/gm)].map((m) => Number(m[1]));
    expect(listed).toEqual(Object.values(EXIT));
    expect(new Set(Object.values(EXIT)).size).toBe(Object.keys(EXIT).length);
  });
});
