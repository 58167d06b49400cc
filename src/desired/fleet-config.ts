// fleet.yaml: fleet-wide settings, every key optional.
import type { Problem } from '../errors.js';
import { validateAgainst } from './schema.js';
import type { FleetConfig } from './types.js';
import { parseYaml } from './yaml.js';

export const FLEET_FILE = 'fleet.yaml';

interface RawFleet {
  fleet?: string;
  branch?: string;
  paths?: Partial<FleetConfig['paths']>;
  status?: { branch?: string };
  git?: { author?: { name?: string; email?: string } };
  hosts?: string[];
  reconcile?: { prune?: boolean };
  supervisor?: FleetConfig['supervisor'];
}

export interface FleetDefaults {
  /** Default fleet name: the repository's directory name. */
  fleet: string;
  /** Branch given on the command line, if any (wins over the default, not over fleet.yaml's status.branch). */
  branch: string;
  host: string;
}

export function defaultConfig(d: FleetDefaults): FleetConfig {
  return {
    fleet: d.fleet,
    branch: d.branch,
    statusBranch: d.branch,
    paths: { rosters: 'rosters', boards: 'boards', huts: 'huts', vault: 'vault' },
    author: { name: 'gitfleet', email: `gitfleet@${d.host}` },
    hosts: [],
    prune: true,
    supervisor: 'auto',
  };
}

export function parseFleetConfig(text: string | null, d: FleetDefaults): { config: FleetConfig | null; problems: Problem[] } {
  const base = defaultConfig(d);
  if (text === null) return { config: base, problems: [] };
  const parsed = parseYaml(FLEET_FILE, text, () => false);
  if (!parsed.yaml) return { config: null, problems: parsed.problems };
  const problems = [...parsed.problems, ...validateAgainst('fleet', parsed.yaml)];
  if (problems.length > 0) return { config: null, problems };
  const raw = (parsed.yaml.value ?? {}) as RawFleet;
  const branch = raw.branch ?? base.branch;
  return {
    config: {
      fleet: raw.fleet ?? base.fleet,
      branch,
      statusBranch: raw.status?.branch ?? branch,
      paths: { ...base.paths, ...stripSlashes(raw.paths ?? {}) },
      author: { name: raw.git?.author?.name ?? base.author.name, email: raw.git?.author?.email ?? base.author.email },
      hosts: raw.hosts ?? [],
      prune: raw.reconcile?.prune ?? true,
      supervisor: raw.supervisor ?? 'auto',
    },
    problems,
  };
}

function stripSlashes(paths: Partial<FleetConfig['paths']>): Partial<FleetConfig['paths']> {
  const out: Partial<FleetConfig['paths']> = {};
  for (const [k, v] of Object.entries(paths)) if (v) out[k as keyof FleetConfig['paths']] = v.replace(/\/+$/, '');
  return out;
}
