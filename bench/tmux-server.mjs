// tmux for bench.mjs and profile.mjs: stopping a server one of them started, on its own socket, until it is gone
// (tmux waits for its utmp helper again as each pane closes, so a big server takes seconds to go: 14 s for 1000
// panes on a 2-core VM; a run started before then meets a server that answers no command), and the command file
// of the cold-start floor both measure.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

/** Whether `pid` is still a tmux process (a pid the kernel gave to something else since is not waited for). */
export function isTmuxServer(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('tmux');
  } catch {
    return false;
  }
}

export function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** `tmux -L socket kill-server` (no server: nothing), then wait for its process to end, at most `limitMs`. */
export function stopTmuxServer(tmux, socket, env, limitMs = 120_000) {
  const r = spawnSync(tmux, ['-L', socket, 'display-message', '-p', '#{pid}'], { env, encoding: 'utf8' });
  const pid = Number(r.stdout?.trim());
  spawnSync(tmux, ['-L', socket, 'kill-server'], { env, stdio: 'ignore', timeout: 10_000 });
  for (let waited = 0; pid && isTmuxServer(pid); waited += 50) {
    if (waited >= limitMs)
      throw new Error(`the tmux server of ${socket} (pid ${pid}) still runs ${limitMs} ms after kill-server`);
    sleepSync(50);
  }
}

/** A word in a tmux command file (or sh): single-quoted. */
export const shq = (s) => `'${s.replaceAll("'", "'\\''")}'`;

/**
 * The floor under a cold start of `names` (bench.mjs "tmux alone", profile.mjs --panes): a tmux command file making
 * each session with `sleep infinity` exec'd by the server itself (no shell), in `cwd`, and with `logDir` a
 * `pipe-pane` into `<logDir>/<name>.log` each, as gitfleet's panes keep their logs; null `logDir`: sessions only.
 */
export function floorCommands(names, cwd, logDir) {
  const lines = names.flatMap((name) => [
    `new-session -d -s ${shq(name)} -c ${shq(cwd)} sleep infinity`,
    ...(logDir ? [`pipe-pane -o -t ${shq(`=${name}:`)} ${shq(`exec cat >> ${logDir}/${name}.log`)}`] : []),
  ]);
  return `${lines.join('\n')}\n`;
}
