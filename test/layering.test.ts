import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');

/**
 * Who may import whom: a unit (a folder under src/, or a top-level file) imports only units of a lower
 * rank, or itself. Wave-two folders (control, http, notify) sit beside the supervisor.
 */
const RANK: Readonly<Record<string, number>> = {
  domain: 0,
  rules: 1,
  errors: 1,
  config: 2,
  runtime: 2,
  git: 3,
  pipeline: 3,
  state: 3,
  // Signature checks: keyrings and git's verify commands, which the cycle asks before a head may run.
  verify: 3.5,
  cycle: 4,
  supervisor: 5,
  control: 5,
  http: 5,
  notify: 5,
  cli: 6,
};

type Edges = ReadonlyMap<string, ReadonlySet<string>>;

function unitOf(file: string): string {
  const rel = path.relative(SRC, file).split(path.sep);
  return rel.length === 1 ? (rel[0] ?? '').replace(/\.ts$/, '') : (rel[0] ?? '');
}

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(full)));
    else if (entry.name.endsWith('.ts')) out.push(full);
  }
  return out;
}

/** Every relative import and re-export, `import type` included: a type cycle is still a cycle of design. */
async function importEdges(): Promise<{ edges: Edges; files: Map<string, string[]> }> {
  const edges = new Map<string, Set<string>>();
  const files = new Map<string, string[]>();
  for (const file of await sourceFiles(SRC)) {
    const text = await readFile(file, 'utf8');
    const from = unitOf(file);
    const targets: string[] = [];
    for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'|^\s*import\s+'(\.[^']+)'|import\('(\.[^']+)'\)/gm)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (spec === undefined) continue;
      const resolved = path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts'));
      // Outside src/ (package.json for the version): not part of the layering.
      if (path.relative(SRC, resolved).startsWith('..')) continue;
      const target = unitOf(resolved);
      targets.push(target);
      if (target !== from) {
        if (!edges.has(from)) edges.set(from, new Set());
        edges.get(from)?.add(target);
      }
    }
    files.set(path.relative(SRC, file), targets);
  }
  return { edges, files };
}

/** Each import that goes up or sideways in RANK, as `from → to`. */
export function layeringViolations(edges: Edges): string[] {
  const out: string[] = [];
  for (const [from, targets] of edges) {
    for (const to of targets) {
      const a = RANK[from];
      const b = RANK[to];
      if (a === undefined) out.push(`${from}: not in the layering table`);
      else if (b === undefined) out.push(`${to}: not in the layering table`);
      else if (b >= a) out.push(`${from} → ${to}`);
    }
  }
  return [...new Set(out)].sort();
}

/** A cycle between units, as the path around it, or undefined. */
export function findCycle(edges: Edges): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      if (state.get(next) === 'open') return [...stack.slice(stack.indexOf(next)), next];
      if (state.get(next) === undefined) {
        const found = visit(next);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of edges.keys()) {
    if (state.get(node) === undefined) {
      const found = visit(node);
      if (found) return found;
    }
  }
  return undefined;
}

describe('layering', () => {
  test('the checks catch what they look for', () => {
    const graph = new Map([
      ['git', new Set(['config'])],
      ['config', new Set(['git'])],
    ]);
    assert.deepEqual(findCycle(graph), ['git', 'config', 'git']);
    assert.deepEqual(layeringViolations(graph), ['config → git']);
    assert.deepEqual(layeringViolations(new Map([['runtime', new Set(['state'])]])), ['runtime → state']);
    assert.equal(findCycle(new Map([['cli', new Set(['cycle'])]])), undefined);
  });

  test('src/ has no import cycle between folders', async () => {
    const { edges } = await importEdges();
    assert.ok(edges.size >= 8, `read the imports of ${edges.size} units under ${SRC}`);
    assert.equal(findCycle(edges)?.join(' → '), undefined);
  });

  test('every import follows cli → supervisor → cycle → verify → git, pipeline, state → runtime, config → rules, errors → domain', async () => {
    const { edges } = await importEdges();
    assert.deepEqual(layeringViolations(edges), []);
  });

  test('only the CLI entry makes git clients, so every one is closed when its command ends', async () => {
    const makers: string[] = [];
    for (const file of await sourceFiles(SRC)) {
      if (/\bnew GitClient\(/.test(await readFile(file, 'utf8'))) makers.push(path.relative(SRC, file));
    }
    assert.deepEqual(makers, [path.join('cli', 'boundary.ts')], 'a command gets its git client from CommandContext.gitClient');
  });

  test('every file in src/ is at most 400 lines: one reason to change each', async () => {
    const long: string[] = [];
    for (const file of await sourceFiles(SRC)) {
      const lines = (await readFile(file, 'utf8')).split('\n').length - 1;
      if (lines > 400) long.push(`${path.relative(SRC, file)}: ${lines} lines`);
    }
    assert.deepEqual(long, []);
  });

  test('the daemon’s parts each live in a file of their own', async () => {
    const files = (await sourceFiles(path.join(SRC, 'supervisor'))).map((f) => path.basename(f)).sort();
    for (const part of ['worker.ts', 'repo-worker.ts', 'glob-worker.ts', 'supervisor.ts']) assert.ok(files.includes(part), part);
    const { files: imports } = await importEdges();
    // The rules a worker asks (admission, schedule, failure kinds) live in cycle/, never in the supervisor.
    assert.ok(imports.get(path.join('supervisor', 'worker.ts'))?.includes('cycle'));
  });

  test('domain.ts imports nothing', async () => {
    const { files } = await importEdges();
    const text = await readFile(path.join(SRC, 'domain.ts'), 'utf8');
    assert.deepEqual(files.get('domain.ts'), []);
    assert.doesNotMatch(text, /^\s*import\b/m);
  });
});
