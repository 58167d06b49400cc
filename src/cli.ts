#!/usr/bin/env node
// Readable stack traces from the bundle (dist/*.js.map): node reads a module's map only when it loads that module
// with source maps on, so they are turned on before main and each command's chunk are imported.
process.setSourceMapsEnabled(true);
const { main } = await import('./cli/main.js');

const code = await main(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  env: process.env,
});
process.exitCode = code;
