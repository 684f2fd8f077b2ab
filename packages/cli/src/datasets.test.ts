import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { composeConfig, projectRoot } from '@scan-repro/core';
import { openDataset, registeredDatasets } from '@scan-repro/data';
import { datasetGenerator } from '@scan-repro/tools';
import { CliError } from './errors';
import { findDatasetPackages, registerAllDatasets } from './datasets';
import { runStageCommand } from './run-stage';
import type { StageSpec } from './stages';

const tmp = mkdtempSync(join(tmpdir(), 'scan-cli-datasets-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function write(path: string, text: string) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

describe('dataset registration by the shell', () => {
  // First in this file: nothing has registered a dataset in this worker yet.
  it('runStageCommand registers every dataset package before the stage runs', async () => {
    expect(registeredDatasets()).toEqual([]);
    const spec: StageSpec = { name: 'pretext', description: 'test', module: join(__dirname, '../test/fixtures/registry-stage.ts'), exportName: 'runRegistryProbe', inputs: [] };
    const out = join(tmp, 'probe');
    const args = ['profile=ci', 'backend.name=cpu', 'dataset=cifar100-20', `run.root=${tmp}`, `tracking.results_dir=${join(tmp, 'results')}`, 'tracking.uri='];
    const stdout = new Writable({ write(_c, _e, cb) { cb(); } });
    const m = await runStageCommand(spec, args, { out }, { stdout, cwd: tmp, env: {} });
    expect(m!.status).toBe('complete');
    const seen = JSON.parse(readFileSync(join(out, 'registered.json'), 'utf8'));
    // The canonical names the five dataset packages register (cifar100-20 is an alias of cifar20).
    for (const name of ['cifar10', 'cifar100', 'cifar20', 'stl10', 'imagenet', 'imagenet_50', 'imagenet_100', 'imagenet_200', 'imagenet_sample', 'imagefolder']) {
      expect(seen.names).toContain(name);
    }
    expect([seen.opened, seen.numClasses]).toEqual(['cifar20', 20]);
  });

  it('finds exactly the workspace packages in packages/dataset-* folders', () => {
    const root = projectRoot();
    const folders = readdirSync(join(root, 'packages')).filter((d) => d.startsWith('dataset-')).sort();
    const expected = folders.map((d) => JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8')).name).sort();
    expect(expected.length).toBeGreaterThanOrEqual(5);
    const found = findDatasetPackages();
    expect(found.map((p) => p.name)).toEqual(expected);
    expect(found.map((p) => p.entry)).toEqual(folders.map((d) => join(root, 'packages', d, 'src', 'index.ts')));
  });

  it('loads every real dataset package without failures', async () => {
    const r = await registerAllDatasets();
    expect(r.failed).toEqual([]);
    expect(r.loaded).toEqual(findDatasetPackages().map((p) => p.name));
  });

  it('picks up new packages from the workspaces globs, skips others, and reports broken ones', async () => {
    // A workspace of its own whose node_modules is the repo's, so its packages resolve @scan-repro/data as ours do.
    const ws = join(tmp, 'ws');
    mkdirSync(ws, { recursive: true });
    symlinkSync(join(projectRoot(), 'node_modules'), join(ws, 'node_modules'), 'dir');
    write(join(ws, 'package.json'), JSON.stringify({ name: 'ws', private: true, workspaces: ['packages/*', 'extra/one'] }));
    const registering = (dataset: string) =>
      `import { registerDataset } from '@scan-repro/data';\n` +
      `registerDataset('${dataset}', () => { throw new Error('not opened in this test'); });\n`;
    write(join(ws, 'packages/dataset-toy/package.json'), JSON.stringify({ name: '@scan-repro/dataset-toy', type: 'module', exports: { '.': './src/index.ts' } }));
    write(join(ws, 'packages/dataset-toy/src/index.ts'), registering('toy-ws'));
    write(join(ws, 'extra/one/package.json'), JSON.stringify({ name: '@scan-repro/dataset-extra', type: 'module', exports: { '.': { import: './lib/main.ts' } } }));
    write(join(ws, 'extra/one/lib/main.ts'), registering('extra-ws'));
    write(join(ws, 'packages/models-like/package.json'), JSON.stringify({ name: '@scan-repro/not-a-dataset', type: 'module', exports: './index.ts' }));
    write(join(ws, 'packages/models-like/index.ts'), registering('must-not-load'));
    write(join(ws, 'packages/dataset-broken/package.json'), JSON.stringify({ name: '@scan-repro/dataset-broken', type: 'module', main: './index.ts' }));
    write(join(ws, 'packages/dataset-broken/index.ts'), `throw new Error('half-written reader');\n`);
    mkdirSync(join(ws, 'packages/no-manifest'), { recursive: true });

    expect(findDatasetPackages(ws).map((p) => [p.name, p.entry])).toEqual([
      ['@scan-repro/dataset-broken', join(ws, 'packages/dataset-broken/index.ts')],
      ['@scan-repro/dataset-extra', join(ws, 'extra/one/lib/main.ts')],
      ['@scan-repro/dataset-toy', join(ws, 'packages/dataset-toy/src/index.ts')],
    ]);
    const r = await registerAllDatasets({ root: ws, need: 'toy_ws' });
    expect(r.loaded).toEqual(['@scan-repro/dataset-extra', '@scan-repro/dataset-toy']);
    expect(r.failed).toEqual([{ name: '@scan-repro/dataset-broken', error: 'half-written reader' }]);
    expect(registeredDatasets()).toEqual(expect.arrayContaining(['toy-ws', 'extra-ws']));
    expect(registeredDatasets()).not.toContain('must-not-load');

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
      if (c.type !== 'DELETE' && /^(packages|configs)\//.test(c.path) && c.content) write(join(ws, c.path), c.content.toString());
    }
    write(join(ws, 'package.json'), readFileSync(join(projectRoot(), 'package.json'), 'utf8'));
    copyFileSync(join(projectRoot(), 'tsconfig.base.json'), join(ws, 'tsconfig.base.json'));
    symlinkSync(join(projectRoot(), 'node_modules'), join(ws, 'node_modules'), 'dir');

    expect(findDatasetPackages(ws).map((p) => p.name)).toEqual(['@scan-repro/dataset-toy-gen']);
    expect(registeredDatasets()).not.toContain('toy-gen');
    expect(await registerAllDatasets({ root: ws, need: 'toy-gen' })).toEqual({ loaded: ['@scan-repro/dataset-toy-gen'], failed: [] });
    expect(registeredDatasets()).toContain('toy-gen');

    // The registered factory is the generated reader: it reads the placeholder format's class list.
    const dataRoot = join(tmp, 'data');
    write(join(dataRoot, 'toy-gen', 'classes.txt'), 'ant\nbee\ncat\n');
    const cfg = { ...composeConfig([], { env: {} }).dataset, name: 'toy-gen', root: dataRoot, num_classes: 3, cache_dir: join(tmp, 'cache') };
    const ds = openDataset(cfg);
    expect([ds.name, ds.numClasses, ds.classNames]).toEqual(['toy-gen', 3, ['ant', 'bee', 'cat']]);
  });

  it('names the package.json of a dataset package without an entry', () => {
    const ws = join(tmp, 'ws-bad');
    write(join(ws, 'package.json'), JSON.stringify({ workspaces: ['packages/*'] }));
    write(join(ws, 'packages/dataset-x/package.json'), JSON.stringify({ name: '@scan-repro/dataset-x' }));
    expect(() => findDatasetPackages(ws)).toThrow(`${join(ws, 'packages/dataset-x/package.json')}: no "exports" "." entry or "main"`);
  });
});
