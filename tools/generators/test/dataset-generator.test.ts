import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { readJson, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { datasetGenerator } from '../src/dataset/generator';

function read(tree: Tree, path: string): string {
  const text = tree.read(path, 'utf-8');
  if (text === null) throw new Error(`${path} was not generated`);
  return text;
}

describe('dataset generator', () => {
  it('scaffolds the package files and the config group file', async () => {
    const tree = createTreeWithEmptyWorkspace();
    const done = await datasetGenerator(tree, { name: 'flowers-102', numClasses: 102, imageSize: 64 });
    const root = 'packages/dataset-flowers-102';
    const files = tree
      .listChanges()
      .map((c) => c.path)
      .filter((p) => p.startsWith(root) || p.startsWith('configs/'))
      .sort();
    expect(files).toEqual([
      'configs/dataset/flowers-102.yaml',
      `${root}/package.json`,
      `${root}/src/index.ts`,
      `${root}/src/reader.ts`,
      `${root}/test/reader.test.ts`,
      `${root}/tsconfig.json`,
      `${root}/vitest.config.ts`,
    ]);

    const pkg = readJson(tree, `${root}/package.json`);
    expect(pkg.name).toBe('@scan-repro/dataset-flowers-102');
    expect(pkg.type).toBe('module');
    expect(pkg.exports).toEqual({ '.': './src/index.ts' });
    expect(readJson(tree, `${root}/tsconfig.json`).extends).toBe('../../tsconfig.base.json');
    expect(read(tree, `${root}/vitest.config.ts`)).toContain("name: 'dataset-flowers-102'");

    const index = read(tree, `${root}/src/index.ts`);
    expect(index).toContain("registerDataset('flowers-102', openFlowers102,");
    const reader = read(tree, `${root}/src/reader.ts`);
    expect(reader).toContain('export function openFlowers102(cfg: DatasetConfig): Dataset');
    expect(reader).toContain('export const FLOWERS102_IMAGE_SIZE = 64;');
    expect(read(tree, `${root}/test/reader.test.ts`)).toContain('Array.from({ length: 102 }');
    // No template syntax may survive.
    for (const f of files) expect(read(tree, f)).not.toMatch(/<%|%>|__tmpl__/);

    const yaml = read(tree, 'configs/dataset/flowers-102.yaml');
    // The group file layout of configs/dataset/*.yaml: a defaults list, then the `dataset:` block.
    expect(yaml).toMatch(
      /^defaults:\n {2}- backbone: resnet18_stl\n {2}- pretext: simclr\ndataset:\n {2}name: flowers-102\n/m,
    );
    expect(yaml).toMatch(/^ {2}num_classes: 102$/m);
    expect(yaml).toMatch(/^ {2}image_size: 64$/m);
    expect(yaml).toMatch(/^ {2}crop_size: 64$/m);
    expect(typeof done).toBe('function');
  });

  it('uses the schema defaults when only the name is given, and the config file repeats none of them', async () => {
    const tree = createTreeWithEmptyWorkspace();
    await datasetGenerator(tree, { name: 'toy' });
    const yaml = read(tree, 'configs/dataset/toy.yaml');
    // 10 classes and 32 px are the schema defaults: like every configs/dataset file, only what differs is set
    expect(yaml).not.toMatch(/num_classes|image_size|crop_size/);
    expect(yaml).toMatch(
      /^dataset:\n {2}name: toy\n(?: {2}#.*\n)? {2}mean: \[0\.5, 0\.5, 0\.5\]\n {2}std: \[0\.25, 0\.25, 0\.25\]\n$/m,
    );
    expect(yaml).toMatch(/^ {2}- backbone: resnet18_cifar$/m);
    expect(read(tree, 'packages/dataset-toy/src/reader.ts')).toContain('export const TOY_IMAGE_SIZE = 32;');
  });

  it('refuses bad names and existing datasets, naming the problem', async () => {
    const tree = createTreeWithEmptyWorkspace();
    await expect(datasetGenerator(tree, { name: 'Bad Name' })).rejects.toThrow(
      /dataset name 'Bad Name': expected lower-case/,
    );
    await expect(datasetGenerator(tree, { name: 'x', numClasses: 0 })).rejects.toThrow(/--numClasses 0/);
    tree.write('configs/dataset/cifar10.yaml', 'name: cifar10\n');
    await expect(datasetGenerator(tree, { name: 'cifar10' })).rejects.toThrow(
      /configs\/dataset\/cifar10\.yaml already exists/,
    );
  });

  it('is reachable by Nx through generators.json and the CommonJS entry (as `nx g` loads it)', () => {
    // A separate Node process without vitest's loader: the same require() path Nx takes.
    const out = execFileSync(
      process.execPath,
      [
        '-e',
        `const g = require('@scan-repro/tools/generators.json').generators.dataset;
         const m = require(require('path').join(require.resolve('@scan-repro/tools/package.json'), '..', g.factory));
         console.log(typeof m.default, typeof m.datasetGenerator);`,
      ],
      { encoding: 'utf8' },
    );
    expect(out.trim()).toBe('function function');
  });
});
