// The plan printed before `nx run-many -t reproduce` and the summary after it: which tasks a command line selects,
// what counts as done, where the time estimates come from, and the wording a user reads.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatRunSummary, loadPlan, makeRunPlan, parseNxArgv } from '@scan-repro/nx-plugin/src';
import { REPO } from './experiments-workspace';
import { tempDir } from '@scan-repro/test-utils';

const nx = (...args: string[]) => ['/usr/bin/node', '/repo/node_modules/.bin/nx', ...args];
const ws = tempDir('scan-plan');
const plan = await loadPlan(REPO);

describe('parseNxArgv', () => {
  it('reads run-many, run and the short project:target:configuration form', () => {
    expect(parseNxArgv(nx('run-many', '-t', 'reproduce'))).toEqual({
      targets: ['reproduce'],
      projects: null,
      configuration: 'cpu',
    });
    expect(parseNxArgv(nx('run-many', '--targets=reproduce,eval', '-p', 'table1-components', '-c', 'ci'))).toEqual({
      targets: ['reproduce', 'eval'],
      projects: ['table1-components'],
      configuration: 'ci',
    });
    expect(parseNxArgv(nx('run', 'table2-pretext:reproduce:paper'))).toEqual({
      targets: ['reproduce'],
      projects: ['table2-pretext'],
      configuration: 'paper',
    });
    expect(parseNxArgv(nx('graph'))).toBeNull();
  });
});

describe("makeRunPlan on the repository's experiments", () => {
  it('stays silent for targets that run no stage', () => {
    expect(makeRunPlan(plan, ws, nx('run-many', '-t', 'typecheck'), {})).toBeNull();
  });

  it("lists one experiment's tasks with their upstream, once each, and counts a complete run folder as done", () => {
    const dir = join(ws, 'runs/ci/cifar10-simclr/pretext');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ status: 'complete', backend: 'wasm', wallTimeS: 30 }));
    const p = makeRunPlan(plan, ws, nx('run', 'table1-components:reproduce:ci'), {
      SCAN_BACKEND: 'wasm',
      SCAN_WASM_THREADS: '1',
    })!;
    expect(p.backend).toEqual({ name: 'wasm', threads: 1, why: 'set by SCAN_BACKEND' });
    const ids = p.tasks.map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.slice(0, 2)).toEqual(['cifar10-simclr:pretext:ci', 'cifar10-simclr-mine:mine:ci']);
    expect(ids.filter((i) => i.startsWith('table1-components:eval--'))).toHaveLength(4);
    expect(p.tasks[0]).toMatchObject({ done: true, estimateS: 30 });
    expect(p.tasks.slice(1).every((t) => !t.done)).toBe(true);
    expect(p.missing).toEqual([]); // Table 1 is CIFAR-10 only
  });

  it('estimates a task without a record from recorded tasks of the same stage, and says so', () => {
    const rec = join(ws, 'results/runs/cpu/cifar10-simclr-mine-scan/scan');
    for (const s of [0, 1]) {
      mkdirSync(join(rec, `seed-${s}`), { recursive: true });
      writeFileSync(
        join(rec, `seed-${s}`, 'manifest.json'),
        JSON.stringify({ status: 'complete', backend: 'tensorflow', wallTimeS: 100 + s * 20 }),
      );
    }
    const p = makeRunPlan(plan, ws, nx('run', 'table1-components:reproduce'), { SCAN_BACKEND: 'tensorflow' })!;
    const scan = p.tasks.find((t) => t.id === 'cifar10-simclr-mine-scan:scan:cpu')!;
    expect(scan).toMatchObject({ seeds: 2, estimateS: 220 });
    const simclrAug = p.tasks.find((t) => t.id === 'cifar10-simclr-mine-scan-augmentation-simclr:scan:cpu')!;
    // the one recorded scan task: 220 s over 2 seeds = 110 s per seed, times this task's 2 seeds
    expect(simclrAug).toMatchObject({ estimateS: 220, estimateFromSimilar: true });
    expect(p.tasks.find((t) => t.id === 'cifar10-simclr:pretext:cpu')!.estimateS).toBeNull();
  });
});

describe('formatRunSummary', () => {
  it('counts ran / cached / failed and lists the slowest first', () => {
    const text = formatRunSummary(
      [
        { id: 'a:pretext:cpu', status: 'success', seconds: 600 },
        { id: 'b:mine:cpu', status: 'local-cache', seconds: 0 },
        { id: 'c:scan:cpu', status: 'failure', seconds: 65 },
      ],
      700,
    );
    const lines = text.split('\n');
    expect(lines[0]).toBe('scan-repro summary: 3 stage tasks in 12 min: 2 ran, 1 from the cache, 1 failed');
    expect(lines[1]).toMatch(/^ {2}\+ a:pretext:cpu +10 min$/);
    expect(lines[2]).toMatch(/^ {2}x c:scan:cpu +1 min {2}FAILED$/);
    expect(lines[3]).toMatch(/^ {2}= b:mine:cpu +cache$/);
  });
});
