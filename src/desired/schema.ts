// JSON Schema validation (ajv, draft 2020-12) with errors mapped to
// file:line:col and worded as "what is wrong, what is allowed".
// The validators are ajv's standalone code, generated from schemas/ before every build, typecheck and test run
// (scripts/validators.mjs): nothing is compiled at start and ajv itself is never loaded, only its types.
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { Problem } from '../errors.js';
import { validators } from '../generated/validators.js';
import { keyAsWritten, problemAt, showPath, type Path, type YamlFile } from './yaml.js';

/** The validator of a schema file, by its path from the repository root (`schemas/roster.schema.json`). */
export function schemaValidator(schema: string): ValidateFunction {
  const fn = validators[schema];
  if (!fn) throw new Error(`no validator generated for ${schema} (scripts/validators.mjs compiles schemas/*.json)`);
  return fn;
}

/** Every schema error of `yaml` as a problem. */
export function validateAgainst(schema: string, yaml: YamlFile): Problem[] {
  return schemaCheck(schema, yaml).problems;
}

/**
 * Every schema error as a problem, and where each one is (`broken`): a rule
 * that reads a value at or under one of those paths cannot trust it, so the
 * rules of a file with schema errors still run on every part that is sound.
 */
export function schemaCheck(schema: string, yaml: YamlFile): { problems: Problem[]; broken: Path[] } {
  const validate = schemaValidator(schema);
  if (validate(yaml.value)) return { problems: [], broken: [] };
  // A bad property name yields its own error plus a vague 'propertyNames' one: keep the first.
  const errors = (validate.errors ?? []).filter((e) => e.keyword !== 'propertyNames');
  return {
    problems: errors.map((e) => toProblem(yaml, e)),
    broken: errors.map(brokenPath),
  };
}

/** The value an error is about: the object itself, or for a key that is unknown, missing or badly named, that key. */
function brokenPath(e: ErrorObject): Path {
  const params = e.params as { additionalProperty?: string; missingProperty?: string };
  const key = e.propertyName ?? params.additionalProperty ?? params.missingProperty;
  return key === undefined ? errorPath(e) : [...errorPath(e), key];
}

function errorPath(e: ErrorObject): Path {
  return e.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function toProblem(yaml: YamlFile, e: ErrorObject): Problem {
  const path = errorPath(e);
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
    case 'const': {
      const wanted = JSON.stringify((e.params as { allowedValue: unknown }).allowedValue);
      return problemAt(yaml, path, `${where}: must be ${wanted}, not ${JSON.stringify(e.data)}`);
    }
    case 'pattern': {
      const description = (e.parentSchema as { description?: string }).description;
      const hint = description ?? `must match ${(e.params as { pattern: string }).pattern}`;
      // A bad property name (propertyNames): point at the key itself.
      if (e.propertyName !== undefined) {
        return problemAt(
          yaml,
          [...path, e.propertyName],
          `${where}: key ${JSON.stringify(e.propertyName)} is not allowed; ${hint}`,
          'key',
        );
      }
      return problemAt(yaml, path, `${where}: ${JSON.stringify(e.data)} is not allowed; ${hint}`);
    }
    case 'dependentRequired': {
      // A key that means nothing without another (heartbeat_grace without heartbeat): point at it.
      const { property, missingProperty } = e.params as { property: string; missingProperty: string };
      return problemAt(
        yaml,
        [...path, property],
        `${showPath([...path, property])}: only with "${missingProperty}" beside it; ` +
          `add ${missingProperty} or remove ${keyAsWritten(yaml, [...path, property])}`,
        'key',
      );
    }
    case 'type': {
      const types = String((e.params as { type: string | string[] }).type).replace(',', ' or ');
      return problemAt(yaml, path, `${where}: must be ${types}, not ${describe(e.data)}`);
    }
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
