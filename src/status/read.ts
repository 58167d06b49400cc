// Read a host's committed status (the last one written).
import type { Repo } from '../git/repo.js';
import type { StatusDoc } from './types.js';

export const statusPaths = (host: string) => ({ json: `status/${host}.json`, md: `status/${host}.md` });

/** The committed status of `host`, or null when absent or not a status we can read. */
export async function readStatus(repo: Repo, commit: string, host: string): Promise<StatusDoc | null> {
  const file = await repo.readFileAt(commit, statusPaths(host).json);
  if (!file) return null;
  try {
    const doc = JSON.parse(file.text) as StatusDoc;
    return doc && doc.formatVersion === 1 && Array.isArray(doc.agents) ? doc : null;
  } catch {
    return null;
  }
}
