// The dashboard as people see it on a forge: status/<host>.md turned into
// HTML as GitHub, Gitea and GitLab do (GitHub Flavored Markdown, by marked),
// then laid out by a real headless Chromium. The screenshot is kept under
// test-output/ to look at; the assertions read the DOM Chromium built.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { marked } from 'marked';
import { describe, expect, it } from 'vitest';
import { renderStatusMarkdown } from '../../src/report/status-md.js';
import { GOLF_LINE, LAB, richStatus } from '../unit/status-md-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const OUT = path.resolve('test-output/dashboard');

/** Roughly a forge's Markdown styles: enough to judge layout, widths and what stands out. */
const STYLE = `
body { font: 16px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; color: #1f2328;
  max-width: 1100px; margin: 24px auto; padding: 0 32px; }
h1, h2 { border-bottom: 1px solid #d1d9e0; padding-bottom: .3em; }
h1 { font-size: 2em; } h2 { font-size: 1.5em; margin-top: 24px; } h3 { font-size: 1.25em; margin-top: 24px; }
code { background: #eff1f3; border-radius: 6px; padding: .2em .4em; font-size: 85%; }
table { border-collapse: collapse; display: block; overflow: auto; }
th, td { border: 1px solid #d1d9e0; padding: 6px 13px; } tr:nth-child(2n) { background: #f6f8fa; }
a { color: #0969da; text-decoration: none; }
`;

/**
 * Runs after layout and leaves what the test reads in the DOM Chromium
 * dumps: the headings in order, every link's href as written, the text.
 */
const PROBE = `<script>
const probe = {
  headings: [...document.querySelectorAll('h1, h2, h3')].map((h) => h.tagName + ' ' + h.textContent.trim()),
  links: [...document.querySelectorAll('a')].map((a) => a.getAttribute('href')),
  text: document.body.innerText,
};
const out = document.createElement('script');
out.type = 'application/json';
out.id = 'probe';
out.textContent = JSON.stringify(probe).replace(/</g, '\\\\u003c');
document.body.appendChild(out);
</script>`;

function chromium(args: string[]): string {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'gitfleet-chromium-'));
  try {
    const r = spawnSync(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        `--user-data-dir=${profile}`,
        '--window-size=1200,1600',
        ...args,
      ],
      { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
    );
    if (r.status !== 0) throw new Error(`chromium ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
    return r.stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

describe('dashboard in a browser', () => {
  it('renders on a forge with the headline first, needs attention before the table, links to roster lines', () => {
    if (!existsSync(CHROMIUM))
      expect.fail(
        `${CHROMIUM} is missing: this test renders the dashboard in Debian's chromium. ` +
          'Install it with `apt-get install -y chromium` (.ci/run does).',
      );
    const { status } = richStatus();
    const md = renderStatusMarkdown(status);
    const body = marked.parse(md, { gfm: true, async: false });
    // Where a forge serves it: status/<host>.md, so ../rosters/... resolves within the repository.
    const page = path.join(OUT, 'status', `${status.host}.html`);
    mkdirSync(path.dirname(page), { recursive: true });
    writeFileSync(path.join(OUT, 'status', `${status.host}.md`), md);
    const html = (probe: string) =>
      `<!doctype html><html><head><meta charset="utf-8"><title>status/${status.host}.md</title>` +
      `<style>${STYLE}</style></head><body>${body}${probe}</body></html>`;
    writeFileSync(page, html(''));
    const shot = path.join(OUT, `${status.host}.png`);
    chromium([`--screenshot=${shot}`, `file://${page}`]);
    expect(statSync(shot).size).toBeGreaterThan(10_000);

    const probed = path.join(OUT, 'status', `${status.host}.probe.html`);
    writeFileSync(probed, html(PROBE));
    const dom = chromium(['--dump-dom', `file://${probed}`]);
    const json = /<script type="application\/json" id="probe">(.*?)<\/script>/s.exec(dom)?.[1];
    expect(json, 'the probe ran in Chromium').toBeDefined();
    const { headings, links, text } = JSON.parse(json!) as { headings: string[]; links: string[]; text: string };

    expect(headings[0]).toBe('H1 ⚠️ lab on box1: not converged');
    expect(headings.indexOf('H2 Needs attention')).toBe(1);
    expect(headings.indexOf('H2 Needs attention')).toBeLessThan(headings.indexOf('H2 All agents'));
    expect(text.indexOf('6 agents: 3 ready, 2 not ready, 1 disabled')).toBeGreaterThan(0);
    expect(text.indexOf('6 agents')).toBeLessThan(text.indexOf('Needs attention'));
    expect(links).toContain(`../${LAB}#L${GOLF_LINE}`);
    expect(links).toContain(`../evidence/${status.host}/`);
    // Escaped Markdown comes out as the words it escaped, and no table cell spilled over.
    expect(text).toContain(`agents[1].runtime: "gpt" is not declared under runtimes`);
    expect(text).not.toMatch(/\\[[\]<>|_*]/);
    expect(text).not.toContain('| ');
  }, 120_000);
});
