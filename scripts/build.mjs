// Builds dist/ from src/ with esbuild, without typechecking (npm run typecheck does that): `npm ci` runs it
// (prepare), and it takes well under a second. One ESM bundle per entry point, dependencies included, because
// node starts a few large files much faster than hundreds of small ones (the ESM loader and the CJS lexer were most
// of a `--version`). Code splitting puts each command's modules in a chunk of its own that main.ts imports only when
// that command runs. Every file lands directly in dist/, one level below the package root, which is what
// src/package-root.ts relies on to find package.json, schemas/ and dist/cli.js.
//
// `--if-stale` builds only when dist/ is older than something it is built from (`npm run demo` right after
// `npm ci`, whose prepare step has just built it, would otherwise build a second time).
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.join(import.meta.dirname, '..');
const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

/** What the bundle is made of: every file under src/, and the files that say how it is built. */
function inputs() {
  const files = ['package.json', 'package-lock.json', 'tsconfig.json', 'scripts/build.mjs'].map((f) =>
    path.join(root, f),
  );
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else files.push(p);
    }
  };
  walk(path.join(root, 'src'));
  return files;
}

function upToDate() {
  const mtime = (f) => statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? null;
  const built = mtime(path.join(root, 'dist', 'cli.js'));
  return built !== null && inputs().every((f) => (mtime(f) ?? 0) <= built);
}

if (process.argv.includes('--if-stale') && upToDate()) process.exit(0);

rmSync(path.join(root, 'dist'), { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: {
    cli: 'src/cli.ts',
    // Not run by people: the integration tests hold the state dir's lock from another process with it.
    lock: 'src/lock.ts',
  },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Source maps beside the files, read only when an internal error's stack is printed (src/cli/mapped-stack.ts).
  sourcemap: 'linked',
  sourcesContent: false,
  define: { GITFLEET_VERSION: JSON.stringify(version) },
  // Bundled CommonJS dependencies (ajv) call require() for node's modules: an ES module has none of its own.
  banner: {
    js:
      "import { createRequire as __gitfleetRequire } from 'node:module';\n" +
      'const require = __gitfleetRequire(import.meta.url);',
  },
  logLevel: 'warning',
});
