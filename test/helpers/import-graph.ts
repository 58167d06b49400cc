// The import graph of src/, for the layering rules in test/unit/safety.test.ts.
// Parsed with TypeScript's own parser, so comments and strings never read as
// imports and `import type` / `import { type A }` / `typeof import('x')` are
// told apart from imports that load a module at run time.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export interface Import {
  /** Importing file, e.g. `src/apply/systemd.ts`. */
  from: string;
  /** Imported file (resolved), or the specifier as written when it does not resolve. */
  to: string;
  /** Erased by the compiler: loads nothing at run time. */
  typeOnly: boolean;
  /** What is imported (`*` for a namespace or `export *`, nothing for a side-effect import). */
  names: string[];
  line: number;
}

interface Specifier {
  specifier: string;
  typeOnly: boolean;
  names: string[];
  line: number;
}

/** Every import and re-export of one file, static or dynamic. */
export function parseImports(file: string, text: string): Specifier[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: Specifier[] = [];
  const add = (node: ts.Node, spec: ts.Node | undefined, typeOnly: boolean, names: string[]) => {
    if (!spec || !ts.isStringLiteral(spec)) return;
    const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
    out.push({ specifier: spec.text, typeOnly, names, line });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings : null;
      const names = [
        ...(clause?.name ? [clause.name.text] : []),
        ...(clause?.namedBindings && ts.isNamespaceImport(clause.namedBindings) ? ['*'] : []),
        ...(named?.elements.map((e) => (e.propertyName ?? e.name).text) ?? []),
      ];
      // `import { type A, type B }` is erased whole (no verbatimModuleSyntax in tsconfig.json).
      const allTypes =
        !!named && !clause?.name && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
      add(node, node.moduleSpecifier, !!clause && (clause.isTypeOnly || allTypes), names);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      const named = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause : null;
      const names = named ? named.elements.map((e) => (e.propertyName ?? e.name).text) : ['*'];
      const allTypes = !!named && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
      add(node, node.moduleSpecifier, node.isTypeOnly || allTypes, names);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node, node.arguments[0], false, ['*']);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node, node.argument.literal, true, node.qualifier ? [node.qualifier.getText(sf)] : ['*']);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The .ts files under dir, as relative paths (`src/a/b.ts`), sorted. */
export function tsFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((f) => {
      const p = path.join(dir, f);
      return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
    })
    .sort();
}

/**
 * The relative imports between these files (path → source text): `./x.js`
 * resolves to `x.ts` beside the importer, as NodeNext resolves it. Packages
 * and `node:` modules are left out; a relative specifier that names no file
 * in the set is listed in `unresolved`.
 */
export function importGraph(sources: ReadonlyMap<string, string>): { imports: Import[]; unresolved: Import[] } {
  const imports: Import[] = [];
  const unresolved: Import[] = [];
  for (const [from, text] of sources) {
    for (const s of parseImports(from, text)) {
      if (!s.specifier.startsWith('./') && !s.specifier.startsWith('../')) continue;
      const to = path.join(path.dirname(from), s.specifier.replace(/\.js$/, '.ts'));
      const edge = { from, to, typeOnly: s.typeOnly, names: s.names, line: s.line };
      if (sources.has(to)) imports.push(edge);
      else unresolved.push({ ...edge, to: s.specifier });
    }
  }
  return { imports, unresolved };
}

export function readSources(dir: string): Map<string, string> {
  return new Map(tsFiles(dir).map((f) => [f, readFileSync(f, 'utf8')]));
}

/**
 * One cycle per strongly connected component of the graph (type-only imports
 * included), each as the path of files that leads back to its first file:
 * [a, b, c, a]. Empty when the graph is acyclic.
 */
export function findCycles(imports: readonly Import[]): string[][] {
  const next = new Map<string, string[]>();
  for (const i of imports) next.set(i.from, [...(next.get(i.from) ?? []), i.to]);
  const nodes = [...new Set(imports.flatMap((i) => [i.from, i.to]))].sort();
  // Tarjan's algorithm.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || next.get(v)?.includes(v)) components.push(component.sort());
  };
  for (const v of nodes) if (!index.has(v)) connect(v);
  return components.map((c) => shortestCycle(c[0]!, new Set(c), next));
}

/** Breadth-first from start, inside its component, back to start. */
function shortestCycle(start: string, within: ReadonlySet<string>, next: ReadonlyMap<string, string[]>): string[] {
  const came = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of next.get(v) ?? []) {
      if (w === start) {
        const cycle = [start];
        for (let u = v; u !== start; u = came.get(u)!) cycle.unshift(u);
        return [start, ...cycle];
      }
      if (within.has(w) && !came.has(w)) {
        came.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

/** `src/a.ts:3 imports src/b.ts (type X, Y)`, for test messages. */
export function describeImport(i: Import): string {
  return `${i.from}:${i.line} imports ${i.to} (${i.typeOnly ? 'type ' : ''}${i.names.join(', ') || 'side effect'})`;
}
