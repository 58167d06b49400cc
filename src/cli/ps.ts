// `gitfleet ps [--json] [--all-hosts]`: the fleet table. Read-only: no lock,
// no apply, no commit. A constant number of processes whatever the fleet size:
// one tmux call per socket, one systemctl call in systemd mode, file reads.
import { readAliveRecords } from '../git/alive.js';
import { liveRows, reconcilerRows, statusRows, type PsResult, type PsRow } from '../ps.js';
import { observe, readSource } from '../reconcile.js';
import { renderPsJson } from '../report/ps-json.js';
import { renderPs } from '../report/ps-text.js';
import { readStatus } from '../status/read.js';
import { stdoutStyle } from './colour.js';
import { EXIT } from './exit-codes.js';
import type { Io } from './io.js';
import { reconcileOptions } from './settings.js';
import type { GlobalOptions } from './options.js';

export async function ps(opts: GlobalOptions, _p: string[], io: Io): Promise<number> {
  const ro = reconcileOptions(opts, io);
  const src = await readSource(ro);
  const seen = await observe(src, ro);
  const result: PsResult & { otherHosts?: { host: string; commit: string; rows: PsRow[] }[] } = liveRows(
    src,
    seen,
    ro,
    ro.clock(),
  );
  if (opts.allHosts) {
    const head = await src.repo.resolve(src.desired.config.statusBranch);
    const others = head
      ? (await src.repo.listDir(head, 'status'))
          .map((e) => e.path)
          .filter((p) => p.endsWith('.json'))
          .map((p) => p.slice(0, -5))
      : [];
    // Every other host's status, and every other tenant's of this host (status/<host>@<tenant>.json).
    const statuses = [{ name: src.statusName, host: ro.host, tenant: ro.tenant }];
    for (const name of others.filter((n) => n !== src.statusName).sort()) {
      const doc = await readStatus(src.repo, head!, name);
      if (!doc) continue;
      statuses.push({ name, host: doc.host, tenant: doc.tenant_id });
      const commit = (await src.repo.lastChange(head!, `status/${name}.json`)) ?? head!;
      result.agents.push(...statusRows(doc, commit));
    }
    // Which of them still run: their liveness refs (status/liveness.ts).
    result.reconcilers = reconcilerRows(await readAliveRecords(src, ro.clock(), true), statuses, ro.clock());
  }
  io.stdout(opts.json ? `${JSON.stringify(renderPsJson(result), null, 2)}\n` : renderPs(result, stdoutStyle(io)));
  return EXIT.ok;
}
