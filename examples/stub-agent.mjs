#!/usr/bin/env node
// A stand-in for an agent runtime (claude, codex, pi ...) for demos and
// tests: a line-oriented REPL that answers each line it receives.
import readline from 'node:readline';

const runtime = process.argv[2] ?? 'stub';
const name = process.env.GITFLEET_AGENT ?? 'unknown';
process.stdout.write(`[${runtime}] agent ${name} ready\n> `);
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  process.stdout.write(`[${runtime}] ${name} got: ${line}\n> `);
});
rl.on('close', () => process.exit(0));
