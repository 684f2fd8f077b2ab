import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  datasetPackage,
  datasetSource,
  findDatasetPackages,
  loadDatasetPackages,
  openDataset,
  registerDataset,
  registeredDatasets,
  repoRoot,
} from '../src/index';
import { tempDir } from '@scan-repro/test-utils';

const tmp = tempDir('scan-data-packages');

function write(path: string, text: string) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** A workspace of its own whose node_modules is the repo's, so its packages register with the registry this test reads. */
function workspace(name: string, workspaces: string[]): string {
  const ws = join(tmp, name);
  mkdirSync(ws, { recursive: true });
  symlinkSync(join(repoRoot(), 'node_modules'), join(ws, 'node_modules'), 'dir');
  write(join(ws, 'package.json'), JSON.stringify({ name, private: true, workspaces }));
  return ws;
}

const registering = (...datasets: string[]) =>
  `import { registerDataset } from '@scan-repro/data';\n` +
  datasets
    .map(
      (d) =>
        `registerDataset('${d}', () => { throw new Error('not opened in this test'); }, { aliases: ['${d}-alias'] });\n`,
    )
    .join('');

describe('dataset packages of a workspace', () => {
  it('finds exactly the workspace packages in packages/dataset-* folders of this repository', () => {
    const root = repoRoot();
    const folders = readdirSync(join(root, 'packages'))
      .filter((d) => d.startsWith('dataset-'))
      .sort();
    const expected = folders
      .map((d) => JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8')).name)
      .sort();
    expect(expected.length).toBeGreaterThanOrEqual(5);
    const found = findDatasetPackages();
    expect(found.map((p) => p.name)).toEqual(expected);
    expect(found.map((p) => p.dir)).toEqual(folders.map((d) => join(root, 'packages', d)));
    expect(found.map((p) => p.entry)).toEqual(folders.map((d) => join(root, 'packages', d, 'src', 'index.ts')));
  });

  it('loads the packages of the workspaces globs, skips others, reports broken ones, and records who registered what', async () => {
    const ws = workspace('ws', ['packages/*', 'extra/one']);
    write(
      join(ws, 'packages/dataset-toy/package.json'),
      JSON.stringify({ name: '@scan-repro/dataset-toy', type: 'module', exports: { '.': './src/index.ts' } }),
    );
    write(join(ws, 'packages/dataset-toy/src/index.ts'), registering('toy-ws', 'toy-ws-2'));
    write(
      join(ws, 'extra/one/package.json'),
      JSON.stringify({
        name: '@scan-repro/dataset-extra',
        type: 'module',
        exports: { '.': { import: './lib/main.ts' } },
      }),
    );
    write(join(ws, 'extra/one/lib/main.ts'), registering('extra-ws'));
    write(
      join(ws, 'packages/models-like/package.json'),
      JSON.stringify({ name: '@scan-repro/not-a-dataset', type: 'module', exports: './index.ts' }),
    );
    write(join(ws, 'packages/models-like/index.ts'), registering('must-not-load'));
    write(
      join(ws, 'packages/dataset-broken/package.json'),
      JSON.stringify({ name: '@scan-repro/dataset-broken', type: 'module', main: './index.ts' }),
    );
    write(join(ws, 'packages/dataset-broken/index.ts'), `throw new Error('half-written reader');\n`);
    mkdirSync(join(ws, 'packages/no-manifest'), { recursive: true });

    expect(findDatasetPackages(ws).map((p) => [p.name, p.entry])).toEqual([
      ['@scan-repro/dataset-broken', join(ws, 'packages/dataset-broken/index.ts')],
      ['@scan-repro/dataset-extra', join(ws, 'extra/one/lib/main.ts')],
      ['@scan-repro/dataset-toy', join(ws, 'packages/dataset-toy/src/index.ts')],
    ]);
    const r = await loadDatasetPackages(ws);
    expect(r.loaded).toEqual(['@scan-repro/dataset-extra', '@scan-repro/dataset-toy']);
    expect(r.failed).toEqual([{ name: '@scan-repro/dataset-broken', error: 'half-written reader' }]);
    expect(await loadDatasetPackages(ws)).toBe(r); // once per root
    expect(registeredDatasets()).toEqual(expect.arrayContaining(['toy-ws', 'toy-ws-2', 'extra-ws']));
    expect(registeredDatasets()).not.toContain('must-not-load');

    // The registry knows each dataset's package (by name or alias): no map of names to packages is kept anywhere.
    expect(datasetPackage('toy-ws')).toEqual({
      name: '@scan-repro/dataset-toy',
      dir: join(ws, 'packages/dataset-toy'),
    });
    expect(datasetPackage('TOY_WS_2-alias')).toEqual({
      name: '@scan-repro/dataset-toy',
      dir: join(ws, 'packages/dataset-toy'),
    });
    expect(datasetPackage('extra-ws')).toEqual({ name: '@scan-repro/dataset-extra', dir: join(ws, 'extra/one') });

    // A dataset nobody registered: the error names the package that failed to load and why.
    expect(() => datasetSource('broken-ws')).toThrow(
      /unknown dataset 'broken-ws'.* Dataset packages that failed to load: @scan-repro\/dataset-broken \(half-written reader\)/,
    );
    expect(() => datasetPackage('broken-ws')).toThrow(/unknown dataset 'broken-ws'/);
  });

  it('says when a dataset was registered by a direct import, whose package it cannot know', () => {
    registerDataset('direct-ws', () => openDataset({} as never));
    expect(() => datasetPackage('direct-ws')).toThrow(
      "dataset 'direct-ws' was registered by a module imported directly, not by loadDatasetPackages()",
    );
  });

  it('names the package.json of a dataset package without an entry, and a root without workspaces', () => {
    const ws = workspace('ws-bad', ['packages/*']);
    write(join(ws, 'packages/dataset-x/package.json'), JSON.stringify({ name: '@scan-repro/dataset-x' }));
    expect(() => findDatasetPackages(ws)).toThrow(
      `${join(ws, 'packages/dataset-x/package.json')}: no "exports" "." entry or "main"`,
    );
    const plain = join(tmp, 'plain');
    write(join(plain, 'package.json'), JSON.stringify({ name: 'plain' }));
    expect(() => findDatasetPackages(plain)).toThrow(
      `${join(plain, 'package.json')}: no "workspaces"; expected the monorepo root`,
    );
  });
});
