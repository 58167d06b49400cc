// The dashboard's blob, remembered in the state dir across runs. status/<name>.md is a view of the status
// document (report/status-md.ts), and a no-op run builds the same document as the run before, so rendering the
// whole agent table again (~30 ms at 1000 agents) only to learn by hashing that the branch already holds it is
// waste. What the page is made from is the document, the status name and the renderer's code (GITFLEET_BUILD),
// so a hash of those is the key; the value is the git blob id of the page that render made. A run whose key
// matches, on a branch whose page has that blob, skips rendering; any other run renders, as before.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { readText, writeAtomic } from '../files.js';
import type { StatusDoc } from './types.js';

export const MD_MEMO_FILE = 'status-md-memo.json';

interface MemoFile {
  key: string;
  blob: string;
}

export class MarkdownMemo {
  private constructor(
    private readonly file: string,
    readonly key: string,
    private readonly known: MemoFile | null,
  ) {}

  /** The memo for this document; `build` null (running from the sources) keys nothing: every run renders. */
  static async load(stateDir: string, build: string | null, doc: StatusDoc, name: string): Promise<MarkdownMemo> {
    const file = path.join(stateDir, MD_MEMO_FILE);
    const key = build === null ? '' : keyOf(build, doc, name);
    let known: MemoFile | null = null;
    if (key) {
      try {
        const m = JSON.parse((await readText(file)) ?? 'null') as MemoFile | null;
        if (typeof m?.key === 'string' && typeof m.blob === 'string') known = m;
      } catch {
        /* damaged: render */
      }
    }
    return new MarkdownMemo(file, key, known);
  }

  /** The page's blob id when this document's page was rendered before by this build; null when it must render. */
  get blob(): string | null {
    return this.key && this.known?.key === this.key ? this.known.blob : null;
  }

  /** Remember the page rendered for this document (its blob id), in a state dir that exists; never fails a run. */
  async save(blob: string): Promise<void> {
    if (!this.key || (this.known?.key === this.key && this.known.blob === blob)) return;
    if (!existsSync(path.dirname(this.file))) return;
    const doc: MemoFile = { key: this.key, blob };
    await writeAtomic(this.file, `${JSON.stringify(doc)}\n`, 0o600, 0o700).catch(() => undefined);
  }
}

/** Everything the page is made from: the whole document (not only what the JSON file shows), the name, the build. */
function keyOf(build: string, doc: StatusDoc, name: string): string {
  return createHash('sha256')
    .update(JSON.stringify([build, name, doc]))
    .digest('hex');
}
