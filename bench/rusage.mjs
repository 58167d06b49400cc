// Preloaded into the gitfleet process by bench.mjs (`node --import <this> dist/cli.js ...`).
// When GITFLEET_BENCH_RUSAGE names a file, write to it on exit, as JSON:
//   maxRSS     process.resourceUsage().maxRSS: peak resident set, KiB
//   spawnCalls ChildProcess#spawn calls seen in this process (every async
//              child_process API ends there, whatever the program's name or
//              path), a cross-check for the PATH wrappers' count
//   spawned    the first words of each of those commands
// It changes nothing else: without the variable it does nothing at all.
import { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const out = process.env.GITFLEET_BENCH_RUSAGE;
if (out) {
  const spawned = [];
  const original = ChildProcess.prototype.spawn;
  ChildProcess.prototype.spawn = function spawn(options) {
    spawned.push((options?.args ?? [options?.file]).slice(0, 6).join(' '));
    return original.call(this, options);
  };
  process.on('exit', () => {
    writeFileSync(
      out,
      `${JSON.stringify({ maxRSS: process.resourceUsage().maxRSS, spawnCalls: spawned.length, spawned })}\n`,
    );
  });
}
