// The dashboard memo (src/status/md-memo.ts): a page's blob is known again only for the same document, status
// name and build; anything else (or running from the sources, build null) must render.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MarkdownMemo, MD_MEMO_FILE } from '../../src/status/md-memo.js';
import type { StatusDoc } from '../../src/status/types.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gitfleet-md-memo-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const doc = (ready: number) => ({ host: 'h', summary: { ready } }) as unknown as StatusDoc;
const BLOB = 'a'.repeat(40);

describe('MarkdownMemo', () => {
  it('knows the blob again for the same document, name and build only', async () => {
    expect((await MarkdownMemo.load(dir, 'b1', doc(1), 'h')).blob).toBeNull();
    await (await MarkdownMemo.load(dir, 'b1', doc(1), 'h')).save(BLOB);
    expect((await MarkdownMemo.load(dir, 'b1', doc(1), 'h')).blob).toBe(BLOB);
    expect((await MarkdownMemo.load(dir, 'b1', doc(2), 'h')).blob).toBeNull();
    expect((await MarkdownMemo.load(dir, 'b1', doc(1), 'h@t')).blob).toBeNull();
    expect((await MarkdownMemo.load(dir, 'b2', doc(1), 'h')).blob).toBeNull();
  });

  it('keys nothing when running from the sources (no build id): never known, never saved', async () => {
    const memo = await MarkdownMemo.load(dir, null, doc(1), 'h');
    await memo.save(BLOB);
    expect(memo.blob).toBeNull();
    expect(() => readFileSync(path.join(dir, MD_MEMO_FILE))).toThrow();
  });

  it('treats a damaged file as empty, and never creates a missing state dir', async () => {
    writeFileSync(path.join(dir, MD_MEMO_FILE), '{"key": 1');
    expect((await MarkdownMemo.load(dir, 'b1', doc(1), 'h')).blob).toBeNull();
    const gone = path.join(dir, 'missing');
    await (await MarkdownMemo.load(gone, 'b1', doc(1), 'h')).save(BLOB);
    expect((await MarkdownMemo.load(gone, 'b1', doc(1), 'h')).blob).toBeNull();
  });
});
