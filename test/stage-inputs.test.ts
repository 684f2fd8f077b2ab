// A stage task's cache key covers the source of every workspace package the stage runs, transitively, and of no
// stage downstream of it: checked on Nx's own resolved inputs (`nx show target inputs`) against the import
// closure computed here from the packages' declared dependencies (which test/architecture.test.ts keeps complete).
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './experiments-workspace';

const packageDirs = new Map<string, string>(
  readdirSync(join(REPO, 'packages')).map((d) => [
    (JSON.parse(readFileSync(join(REPO, 'packages', d, 'package.json'), 'utf8')) as { name: string }).name,
    `packages/${d}`,
  ]),
);
const depsOf = (name: string): string[] =>
  Object.keys(
    (
      JSON.parse(readFileSync(join(REPO, packageDirs.get(name)!, 'package.json'), 'utf8')) as {
        dependencies?: Record<string, string>;
      }
    ).dependencies ?? {},
  ).filter((d) => packageDirs.has(d));

function closure(roots: string[]): Set<string> {
  const seen = new Set<string>();
  const visit = (n: string): void => {
    if (!seen.has(n)) {
      seen.add(n);
      depsOf(n).forEach(visit);
    }
  };
  roots.forEach(visit);
  return seen;
}

const STAGES = [
  '@scan-repro/pretext',
  '@scan-repro/mine',
  '@scan-repro/scan',
  '@scan-repro/selflabel',
  '@scan-repro/eval',
];
const shell = depsOf('@scan-repro/cli').filter((d) => !STAGES.includes(d));

function inputPackages(task: string): Set<string> {
  const out = execFileSync(join(REPO, 'node_modules/.bin/nx'), ['show', 'target', 'inputs', task, '--json'], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
  });
  const files = (JSON.parse(out) as { files: string[] }).files.filter((f) => /^packages\/[^/]+\/src\/.*\.ts$/.test(f));
  const byDir = new Map([...packageDirs].map(([n, d]) => [d, n]));
  return new Set(files.map((f) => byDir.get(f.split('/').slice(0, 2).join('/'))!));
}

// Three tasks cover the three kinds of target (the root stage, a stage below it, an experiment's eval); mine and
// selflabel nodes are built like scan's. Each `nx show` computes the project graph, so each case takes seconds.
describe('stage task inputs follow the project graph', () => {
  it.each([
    ['cifar10-simclr:pretext', '@scan-repro/pretext'],
    ['cifar10-simclr-mine-scan:scan', '@scan-repro/scan'],
    ['table1-components:eval--scan-selflabel', '@scan-repro/eval'],
  ])(
    '%s hashes the sources of every package %s runs with, and no other stage',
    (task, stage) => {
      const want = closure([stage, '@scan-repro/dataset-cifar10', ...shell]);
      want.add('@scan-repro/cli');
      const got = inputPackages(task);
      expect([...got].sort()).toEqual([...want].sort());
      for (const other of STAGES.filter((s) => !want.has(s))) expect(got.has(other), other).toBe(false);
    },
    120_000,
  );
});
