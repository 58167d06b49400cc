#!/usr/bin/env node
import { main } from './cli/main.js';

const code = await main(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  env: process.env,
  tty: { stdout: process.stdout.isTTY === true, stderr: process.stderr.isTTY === true },
});
process.exitCode = code;
