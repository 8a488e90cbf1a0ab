// The layers of shared/, enforced: every import of a shared/ file is read (TypeScript's own
// preprocessor, so comments and strings do not count) and the test fails on an import that runs back
// up the table below, on an import cycle between files, and on a cycle between folders. A folder
// (or a file at shared/'s root) may import its own layer and those beneath it, never one above.
//
// A newcomer reads the table bottom up: pure rules, then one adapter per AWS service's state, then
// what brings work in, then the orchestration, then the views; functions/ and cli/ sit on top and
// nothing in shared/ imports them.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const LAYERS: Record<string, number> = {
  // Pure rules and the plain types that flow between layers (sequencer order, fix plans' words,
  // posture changes, Batch settings): no I/O.
  domain: 0,
  // SDK clients, the one retry policy, error classification.
  aws: 1,
  // One adapter per kind of state: the findings table (its every item), S3/KMS reads, S3 fixes,
  // inventory reports, the metadata table, the queue; settings and the policy file.
  'config.ts': 2,
  'policy-loader.ts': 2,
  findings: 2,
  inspect: 2,
  remediation: 2,
  inventory: 2,
  metadata: 2,
  queue: 2,
  // What brings work in: queue messages, S3 and KMS events.
  events: 3,
  // Orchestration: audits, sweeps, Batch jobs, posture, cost estimates, delivery, accounts.
  audit: 4,
  sweep: 4,
  'batch-operations': 4,
  posture: 4,
  cost: 4,
  delivery: 4,
  accounts: 4,
  deploy: 4,
  'runtime.ts': 4,
  // Views of the findings: the report, the evidence pack, and the API that serves both.
  report: 5,
  evidence: 5,
  'report-api': 6,
};

const root = resolve(import.meta.dirname, '../..');
const shared = join(root, 'shared');

interface Import {
  from: string;
  to: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every import, export-from and import() of shared/ that names a file of the project. */
function projectImports(): Import[] {
  return sourceFiles(shared).flatMap((file) => {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    return importedFiles.flatMap(({ fileName }) => {
      let target: string;
      if (fileName.startsWith('.')) target = resolve(dirname(file), fileName);
      else if (fileName.startsWith('#shared/')) target = join(shared, fileName.slice('#shared/'.length));
      else if (fileName.startsWith('#')) target = join(root, 'functions', fileName);
      else return [];
      return [{ from: relative(root, file), to: relative(root, target) }];
    });
  });
}

/** shared/<folder>/… → the folder; shared/<file> → the file; anything else → where it is. */
const unitOf = (path: string): string => {
  const [top, name] = path.split('/');
  return top === 'shared' && name ? name : path;
};

/** Strongly connected components of more than one node (Tarjan): each one is an import cycle. */
function cycles(edges: Iterable<[string, string]>): string[][] {
  const next = new Map<string, Set<string>>();
  for (const [a, b] of edges) {
    if (a === b) continue;
    if (!next.has(a)) next.set(a, new Set());
    next.get(a)!.add(b);
    if (!next.has(b)) next.set(b, new Set());
  }
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

function upwardImports(imports: Import[]): string[] {
  return imports.flatMap(({ from, to }) => {
    const a = LAYERS[unitOf(from)];
    const b = LAYERS[unitOf(to)];
    return a !== undefined && b !== undefined && b > a ? [`${from} → ${to} (layer ${a} imports layer ${b})`] : [];
  });
}

describe('shared/ layers', () => {
  const imports = projectImports();

  it('reads the imports it judges (a parser that found none would pass anything)', () => {
    expect(imports.length).toBeGreaterThan(300);
    expect(imports).toContainEqual({ from: 'shared/audit/audit-object.ts', to: 'shared/domain/evaluate.ts' });
  });

  it('names every folder and root file of shared/ in the layer table', () => {
    const units = new Set(sourceFiles(shared).map((file) => unitOf(relative(root, file))));
    expect([...units].filter((unit) => LAYERS[unit] === undefined)).toEqual([]);
  });

  it('keeps shared/ beneath functions/ and cli/', () => {
    expect(imports.filter(({ to }) => !to.startsWith('shared/')).map(({ from, to }) => `${from} → ${to}`)).toEqual([]);
  });

  it('has no import running back up the layers', () => {
    expect(upwardImports(imports)).toEqual([]);
  });

  it('has no import cycle between files', () => {
    expect(cycles(imports.map(({ from, to }) => [from, to]))).toEqual([]);
  });

  it('has no import cycle between folders', () => {
    expect(cycles(imports.map(({ from, to }) => [unitOf(from), unitOf(to)]))).toEqual([]);
  });

  it('finds what it is looking for, in a graph made to have it', () => {
    expect(cycles([['a', 'b'], ['b', 'c'], ['c', 'a'], ['c', 'd']])).toEqual([['a', 'b', 'c']]);
    expect(upwardImports([{ from: 'shared/findings/store.ts', to: 'shared/posture/remediate.ts' }])).toHaveLength(1);
    expect(upwardImports([{ from: 'shared/posture/remediate.ts', to: 'shared/findings/store.ts' }])).toEqual([]);
  });
});
