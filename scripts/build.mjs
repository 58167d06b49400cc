// Builds dist/ from src/ with esbuild, without typechecking (npm run typecheck does that): `npm ci` runs it
// (prepare), and it takes well under a second. One ESM bundle per entry point, dependencies included, because
// node starts a few large files much faster than hundreds of small ones (the ESM loader and the CJS lexer were most
// of a `--version`). Code splitting puts each command's modules in a chunk of its own that main.ts imports only when
// that command runs. Every file lands directly in dist/, one level below the package root, which is what
// src/package-root.ts relies on to find package.json, schemas/ and dist/cli.js.
//
// `--if-stale` builds only when dist/ is older than something it is built from (`npm run demo` right after
// `npm ci`, whose prepare step has just built it, would otherwise build a second time).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { writeValidators } from './validators.mjs';

const root = path.join(import.meta.dirname, '..');
const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

/** What the bundle is made of: every file under src/, and the files that say how it is built. */
function buildInputs() {
  const files = [
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'scripts/build.mjs',
    'scripts/validators.mjs',
  ].map((f) => path.join(root, f));
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else files.push(p);
    }
  };
  walk(path.join(root, 'src'));
  walk(path.join(root, 'schemas'));
  return files;
}

function upToDate() {
  const mtime = (f) => statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? null;
  const built = mtime(path.join(root, 'dist', 'cli.js'));
  return built !== null && buildInputs().every((f) => (mtime(f) ?? 0) <= built);
}

if (process.argv.includes('--if-stale') && upToDate()) process.exit(0);

// The schemas' validators as code (src/generated/validators.ts), bundled like any module: no ajv at run time.
writeValidators();
rmSync(path.join(root, 'dist'), { recursive: true, force: true });
// What was built, as a hash of every input: a parse remembered in the state dir (src/desired/parse-memo.ts) is
// reused only by the build that made it.
const inputs = ['src', 'schemas']
  .flatMap((dir) => readdirSync(path.join(root, dir), { recursive: true, withFileTypes: true }))
  .filter((e) => e.isFile())
  .map((e) => path.join(e.parentPath, e.name))
  .concat(['package.json', 'package-lock.json'].map((f) => path.join(root, f)))
  .sort();
const buildHash = createHash('sha256');
for (const file of inputs) buildHash.update(`${path.relative(root, file)}\0`).update(readFileSync(file));
const buildId = buildHash.digest('hex').slice(0, 16);
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
  define: { GITFLEET_VERSION: JSON.stringify(version), GITFLEET_BUILD: JSON.stringify(buildId) },
  // Bundled CommonJS dependencies (ajv) call require() for node's modules: an ES module has none of its own.
  banner: {
    js:
      "import { createRequire as __gitfleetRequire } from 'node:module';\n" +
      'const require = __gitfleetRequire(import.meta.url);',
  },
  logLevel: 'warning',
});
