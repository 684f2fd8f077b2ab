import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { composeConfig, projectRoot } from '@scan-repro/core';
import { datasetPackage, findDatasetPackages, openDataset, registeredDatasets } from '@scan-repro/data';
import { datasetGenerator } from '@scan-repro/tools';
import { CliError } from '../src/errors';
import { registerAllDatasets } from '../src/datasets';
import { runStageCommand } from '../src/run-stage';
import type { StageSpec } from '../src/stages';
import { tempDir } from '@scan-repro/test-utils';

const tmp = tempDir('scan-cli-datasets');

function write(path: string, text: string) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

describe('dataset registration by the shell', () => {
  // First in this file: nothing has registered a dataset in this worker yet.
  it('runStageCommand registers every dataset package before the stage runs', async () => {
    expect(registeredDatasets()).toEqual([]);
    const spec: StageSpec = {
      name: 'pretext',
      description: 'test',
      module: join(__dirname, 'fixtures/registry-stage.ts'),
      exportName: 'runRegistryProbe',
      inputs: [],
    };
    const out = join(tmp, 'probe');
    const args = [
      'profile=ci',
      'backend.name=cpu',
      'dataset=cifar100-20',
      `run.root=${tmp}`,
      `tracking.results_dir=${join(tmp, 'results')}`,
      'tracking.uri=',
    ];
    const stdout = new Writable({
      write(_c, _e, cb) {
        cb();
      },
    });
    const m = await runStageCommand(spec, args, { out }, { stdout, cwd: tmp, env: {} });
    expect(m!.status).toBe('complete');
    const seen = JSON.parse(readFileSync(join(out, 'registered.json'), 'utf8'));
    // The canonical names the five dataset packages register (cifar100-20 is an alias of cifar20).
    for (const name of [
      'cifar10',
      'cifar100',
      'cifar20',
      'stl10',
      'imagenet',
      'imagenet_50',
      'imagenet_100',
      'imagenet_200',
      'imagenet_sample',
      'imagefolder',
    ]) {
      expect(seen.names).toContain(name);
    }
    expect([seen.opened, seen.numClasses]).toEqual(['cifar20', 20]);
  });

  it('loads every real dataset package without failures, and the registry knows which package registered each name', async () => {
    const r = await registerAllDatasets();
    expect(r.failed).toEqual([]);
    expect(r.loaded).toEqual(findDatasetPackages().map((p) => p.name));
    // What the nx-plugin asks (a stage task's inputs are its dataset package's files), computed, not listed.
    const expected: Record<string, string> = {
      cifar10: 'dataset-cifar10',
      'cifar100-20': 'dataset-cifar100',
      cifar100: 'dataset-cifar100',
      stl10: 'dataset-stl10',
      imagenet: 'dataset-imagenet',
      imagenet_50: 'dataset-imagenet',
      imagenet_sample: 'dataset-imagenet',
      imagefolder: 'dataset-imagefolder',
    };
    for (const [name, folder] of Object.entries(expected)) {
      expect(datasetPackage(name), name).toEqual({
        name: `@scan-repro/${folder}`,
        dir: join(projectRoot(), 'packages', folder),
      });
    }
  });

  it('turns a dataset nobody registered into a CliError that names the packages that failed to load', async () => {
    const ws = join(tmp, 'ws');
    mkdirSync(ws, { recursive: true });
    symlinkSync(join(projectRoot(), 'node_modules'), join(ws, 'node_modules'), 'dir');
    write(join(ws, 'package.json'), JSON.stringify({ name: 'ws', private: true, workspaces: ['packages/*'] }));
    write(
      join(ws, 'packages/dataset-broken/package.json'),
      JSON.stringify({ name: '@scan-repro/dataset-broken', type: 'module', main: './index.ts' }),
    );
    write(join(ws, 'packages/dataset-broken/index.ts'), `throw new Error('half-written reader');\n`);
    const missing = registerAllDatasets({ root: ws, need: 'broken-ws' });
    await expect(missing).rejects.toBeInstanceOf(CliError);
    await expect(missing).rejects.toThrow(
      /unknown dataset 'broken-ws'.* Dataset packages that failed to load: @scan-repro\/dataset-broken \(half-written reader\)/,
    );
  });

  it('registers a package made by the dataset generator as generated, without editing any list', async () => {
    const tree = createTreeWithEmptyWorkspace();
    await datasetGenerator(tree, { name: 'toy-gen', numClasses: 3, imageSize: 2 });
    // A workspace like ours: the generated files, our workspaces globs and tsconfig base, and our node_modules
    // (so the generated reader registers with the registry this test reads).
    const ws = join(tmp, 'ws-gen');
    for (const c of tree.listChanges()) {
      if (c.type !== 'DELETE' && /^(packages|configs)\//.test(c.path) && c.content)
        write(join(ws, c.path), c.content.toString());
    }
    write(join(ws, 'package.json'), readFileSync(join(projectRoot(), 'package.json'), 'utf8'));
    copyFileSync(join(projectRoot(), 'tsconfig.base.json'), join(ws, 'tsconfig.base.json'));
    symlinkSync(join(projectRoot(), 'node_modules'), join(ws, 'node_modules'), 'dir');

    expect(findDatasetPackages(ws).map((p) => p.name)).toEqual(['@scan-repro/dataset-toy-gen']);
    expect(registeredDatasets()).not.toContain('toy-gen');
    expect(await registerAllDatasets({ root: ws, need: 'toy-gen' })).toEqual({
      loaded: ['@scan-repro/dataset-toy-gen'],
      failed: [],
    });
    expect(registeredDatasets()).toContain('toy-gen');
    expect(datasetPackage('toy-gen')).toEqual({
      name: '@scan-repro/dataset-toy-gen',
      dir: join(ws, 'packages/dataset-toy-gen'),
    });

    // The registered factory is the generated reader: it reads the placeholder format's class list.
    const dataRoot = join(tmp, 'data');
    write(join(dataRoot, 'toy-gen', 'classes.txt'), 'ant\nbee\ncat\n');
    const cfg = {
      ...composeConfig([], { env: {} }).dataset,
      name: 'toy-gen',
      root: dataRoot,
      num_classes: 3,
      cache_dir: join(tmp, 'cache'),
    };
    const ds = openDataset(cfg);
    expect([ds.name, ds.numClasses, ds.classNames]).toEqual(['toy-gen', 3, ['ant', 'bee', 'cat']]);
  });
});
