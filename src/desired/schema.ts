// JSON Schema validation (ajv, draft 2020-12) with errors mapped to
// file:line:col and worded as "what is wrong, what is allowed".
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Problem } from '../errors.js';
import { PACKAGE_ROOT_URL } from '../package-root.js';
import { keyAsWritten, problemAt, showPath, type Path, type YamlFile } from './yaml.js';

const schemaDir = fileURLToPath(new URL('schemas/', PACKAGE_ROOT_URL));
const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
const compiled = new Map<string, ValidateFunction>();

export function schemaValidator(name: 'roster' | 'fleet'): ValidateFunction {
  let fn = compiled.get(name);
  if (!fn) {
    const schema = JSON.parse(readFileSync(`${schemaDir}${name}.schema.json`, 'utf8')) as object;
    fn = ajv.compile(schema);
    compiled.set(name, fn);
  }
  return fn;
}

export function validateAgainst(name: 'roster' | 'fleet', yaml: YamlFile): Problem[] {
  const validate = schemaValidator(name);
  if (validate(yaml.value)) return [];
  // A bad property name yields its own error plus a vague 'propertyNames' one: keep the first.
  return (validate.errors ?? []).filter((e) => e.keyword !== 'propertyNames').map((e) => toProblem(yaml, e));
}

function toProblem(yaml: YamlFile, e: ErrorObject): Problem {
  const path: Path = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  const where = showPath(path);
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String((e.params as { additionalProperty: string }).additionalProperty);
      // The schema lists camelCase spellings too (for editors); gitfleet validates snake_case, and names that.
      const allowed = Object.keys((e.parentSchema as { properties?: object }).properties ?? {})
        .filter((k) => !/[A-Z]/.test(k))
        .join(', ');
      return problemAt(
        yaml,
        [...path, key],
        `${where}: unknown key "${keyAsWritten(yaml, [...path, key])}"; allowed: ${allowed}`,
        'key',
      );
    }
    case 'required': {
      const key = String((e.params as { missingProperty: string }).missingProperty);
      return problemAt(yaml, path, `${where}: missing required key "${key}"`);
    }
    case 'enum': {
      const allowed = ((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map((v) => JSON.stringify(v));
      return problemAt(
        yaml,
        path,
        `${where}: ${JSON.stringify(e.data)} is not allowed; allowed: ${allowed.join(', ')}`,
      );
    }
    case 'const':
      return problemAt(
        yaml,
        path,
        `${where}: must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}, not ${JSON.stringify(e.data)}`,
      );
    case 'pattern': {
      const hint = (e.parentSchema as { description?: string }).description;
      // A bad property name (propertyNames): point at the key itself.
      if (e.propertyName !== undefined) {
        return problemAt(
          yaml,
          [...path, e.propertyName],
          `${where}: key ${JSON.stringify(e.propertyName)} is not allowed; ${hint ?? `must match ${(e.params as { pattern: string }).pattern}`}`,
          'key',
        );
      }
      return problemAt(
        yaml,
        path,
        `${where}: ${JSON.stringify(e.data)} is not allowed; ${hint ?? `must match ${(e.params as { pattern: string }).pattern}`}`,
      );
    }
    case 'type':
      return problemAt(
        yaml,
        path,
        `${where}: must be ${String((e.params as { type: string | string[] }).type).replace(',', ' or ')}, not ${describe(e.data)}`,
      );
    default:
      return problemAt(yaml, path, `${where}: ${e.message ?? 'is invalid'}`);
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}
