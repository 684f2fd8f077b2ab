// A dataset added the documented way reaches the experiments with no other file touched: in a throw-away copy of
// the workspace, `nx g @scan-repro/tools:dataset` makes the package and its configs/dataset file, the test writes a
// few dozen tiny images in the generated reader's format and an experiment that names the dataset, and
// `nx run <experiment>:reproduce -c ci` runs every stage on it (the nx-plugin and the CLI find the package through
// the registry; nothing lists it, and `npm install` is not run).
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { nx, removeWorkspace, type NxResult } from './experiments-workspace';
import { copyWorkspace } from './workspace-copy';
import { tempDir } from '@scan-repro/test-utils';

const NAME = 'toyds';
const CLASSES = ['red', 'green', 'blue'];
const SIZE = 16;
const PER_CLASS = { train: 32, test: 12 };
const EXPERIMENT = 'toy-dataset';

/** Files (relative path -> sha256) of the workspace's own sources, without what runs write. */
function sources(ws: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      const rel = relative(ws, p);
      if (['node_modules', '.nx', 'runs', 'results', '.cache'].includes(rel.split('/')[0]) || e === 'node_modules')
        continue;
      if (statSync(p).isDirectory()) walk(p);
      else out.set(rel, createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  walk(ws);
  return out;
}

function changed(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...new Set([...before.keys(), ...after.keys()])].filter((f) => before.get(f) !== after.get(f)).sort();
}

/**
 * The generated reader's format: <root>/<name>/classes.txt and <split>.bin of records 1 label byte + SIZE*SIZE*3
 * RGB bytes. Each class is one colour plus seeded noise, so the images differ and the classes are separable.
 */
function writeData(root: string): void {
  const dir = join(root, NAME);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'classes.txt'), CLASSES.join('\n') + '\n');
  let state = 12345;
  const noise = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 24) % 64;
  for (const [split, n] of Object.entries(PER_CLASS)) {
    const record = 1 + SIZE * SIZE * 3;
    const bytes = new Uint8Array(CLASSES.length * n * record);
    for (let i = 0; i < CLASSES.length * n; i++) {
      const label = i % CLASSES.length;
      bytes[i * record] = label;
      for (let p = 0; p < SIZE * SIZE; p++) {
        for (let c = 0; c < 3; c++) bytes[i * record + 1 + p * 3 + c] = (c === label ? 160 : 40) + noise();
      }
    }
    writeFileSync(join(dir, `${split}.bin`), bytes);
  }
}

let ws: string;
const data = tempDir('scan-toyds-data');
let generate: NxResult;
let run: NxResult;
let generatedFiles: string[];
let touchedByRun: string[];
const json = <T>(rel: string): T => JSON.parse(readFileSync(join(ws, rel), 'utf8')) as T;

beforeAll(async () => {
  ws = copyWorkspace();
  writeData(data);
  const pristine = sources(ws);
  generate = await nx(ws, [
    'g',
    '@scan-repro/tools:dataset',
    NAME,
    `--numClasses=${CLASSES.length}`,
    `--imageSize=${SIZE}`,
    '--no-interactive',
  ]);
  const generated = sources(ws);
  generatedFiles = changed(pristine, generated);
  mkdirSync(join(ws, 'experiments', EXPERIMENT), { recursive: true });
  writeFileSync(
    join(ws, 'experiments', EXPERIMENT, 'experiment.yaml'),
    [
      'title: "A generated dataset, end to end"',
      'feeds: toy',
      `dataset: ${NAME}`,
      'seeds: {paper: 1, cpu: 1, ci: 1}',
      'rows:',
      '  - row: scan-selflabel',
      '    label: "SCAN + self-labeling"',
      '    ablation: {factor: components, value: scan+selflabel}',
      '',
    ].join('\n'),
  );
  const withExperiment = sources(ws);
  run = await nx(ws, ['run', `${EXPERIMENT}:reproduce`, '-c', 'ci'], {
    SCAN_DATA_DIR: data,
    SCAN_BACKEND: 'wasm',
    SCAN_WASM_THREADS: '1',
  });
  touchedByRun = changed(withExperiment, sources(ws));
}, 1_200_000);
afterAll(() => {
  if (ws) removeWorkspace(ws);
});

describe('a dataset package made by the generator', () => {
  it('is the package and the config group file, nothing else', () => {
    expect(generate.status, generate.out).toBe(0);
    expect(generatedFiles).toEqual([
      `configs/dataset/${NAME}.yaml`,
      ...[
        'package.json',
        'src/index.ts',
        'src/reader.ts',
        'test/reader.test.ts',
        'tsconfig.json',
        'vitest.config.ts',
      ].map((f) => `packages/dataset-${NAME}/${f}`),
    ]);
  });

  it(`runs end to end: nx run ${EXPERIMENT}:reproduce -c ci completes every stage on it`, () => {
    expect(run.status, run.out.slice(-6000)).toBe(0);
    for (const task of [
      `${NAME}-simclr:pretext`,
      `${NAME}-simclr-mine:mine`,
      `${NAME}-simclr-mine-scan:scan`,
      `${NAME}-simclr-mine-scan-selflabel:selflabel`,
      `${EXPERIMENT}:eval--scan-selflabel`,
    ]) {
      expect(run.out).toContain(`nx run ${task}:ci`);
    }
    const row = json<{ rows: { id: string; status: string; results: { dir: string; status: string }[] }[] }>(
      `runs/ci/${EXPERIMENT}/reproduce.json`,
    ).rows[0];
    expect([row.id, row.status, row.results.map((r) => r.status)]).toEqual([
      'scan-selflabel',
      'complete',
      ['complete'],
    ]);
    const metrics = json<{ metrics: Record<string, number> }>(join(row.results[0].dir, 'manifest.json')).metrics;
    // every test image, 3 clusters; Hungarian accuracy is at least 1/C whatever the clusters are
    expect([metrics.num_val, metrics.num_clusters]).toEqual([CLASSES.length * PER_CLASS.test, CLASSES.length]);
    expect(metrics.acc).toBeGreaterThanOrEqual(1 / CLASSES.length);
    expect(metrics.acc).toBeLessThanOrEqual(1);
  });

  it('ran with the generated config group file (its classes, size and normalisation)', () => {
    const cfg = YAML.parse(readFileSync(join(ws, `runs/ci/${NAME}-simclr/pretext/config.yaml`), 'utf8')) as {
      dataset: Record<string, unknown>;
    };
    expect(cfg.dataset).toMatchObject({
      name: NAME,
      num_classes: CLASSES.length,
      image_size: SIZE,
      crop_size: SIZE,
      mean: [0.5, 0.5, 0.5],
      std: [0.25, 0.25, 0.25],
    });
  });

  it('is an input of the stage tasks on it: the registry names its package to the nx-plugin', async () => {
    const show = await nx(ws, ['show', 'project', `${NAME}-simclr`, '--json']);
    expect(show.status, show.out).toBe(0);
    const project = JSON.parse(show.out.slice(show.out.indexOf('{'))) as { implicitDependencies: string[] };
    expect(project.implicitDependencies).toContain(`@scan-repro/dataset-${NAME}`);
  });

  it('touched no source file of the workspace while running', () => {
    expect(touchedByRun).toEqual([]);
  });
});
