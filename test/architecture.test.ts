// The workspace keeps the dependency directions of docs/architecture.md and declares what it imports
// (tools/check-deps). The checker is first shown to catch each kind of problem in a small made-up workspace.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkNxGraph, checkWorkspace, formatReport } from '@scan-repro/check-deps';
import { tempDir } from '@scan-repro/test-utils';

const repoRoot = resolve(__dirname, '..');
const tmp = tempDir('check-deps-test');

function write(path: string, text: string) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** A package folder: package.json (name @scan-repro/<last folder>, exports '.') and source files. */
function pkg(root: string, dir: string, fields: Record<string, unknown>, files: Record<string, string>) {
  const name = `@scan-repro/${dir.split('/').pop()}`;
  write(
    join(root, dir, 'package.json'),
    JSON.stringify({ name, type: 'module', exports: { '.': './src/index.ts' }, ...fields }),
  );
  for (const [file, text] of Object.entries(files)) write(join(root, dir, file), text);
}

function makeBrokenWorkspace(root: string) {
  write(
    join(root, 'package.json'),
    JSON.stringify({ workspaces: ['packages/*', 'tools/*', 'test'], devDependencies: { vitest: '^4.1.12' } }),
  );
  pkg(
    root,
    'packages/core',
    {},
    { 'src/index.ts': "import { readFileSync } from 'node:fs';\nimport { join } from 'path';\nexport const x = 1;\n" },
  );
  pkg(root, 'packages/backend', {}, { 'src/index.ts': 'export const b = 1;\n' });
  pkg(
    root,
    'packages/tracking',
    { dependencies: { '@scan-repro/core': '*' } },
    { 'src/index.ts': "export * from '@scan-repro/core';\n" },
  );
  pkg(
    root,
    'packages/data',
    {
      dependencies: { '@scan-repro/core': '^0.1.0', 'left-pad': '^1.3.0' },
      devDependencies: { '@scan-repro/dataset-bar': '*' },
    },
    {
      'src/index.ts':
        "import { x } from '@scan-repro/core';\nimport sharp from 'sharp';\nimport type { Y } from '@scan-repro/core/src/config';\nexport { x, sharp };\n",
      // Tests may register datasets, but not in the package the dataset packages are built on (a cycle).
      'test/data.test.ts': "import '@scan-repro/dataset-bar';\n",
    },
  );
  // The augmentations sit below data (its loader applies them), so they never import it.
  pkg(
    root,
    'packages/augment',
    { dependencies: { '@scan-repro/core': '*', '@scan-repro/data': '*' } },
    {
      'src/index.ts': "import '@scan-repro/core';\nimport '@scan-repro/data';\n",
    },
  );
  pkg(
    root,
    'packages/dataset-bar',
    { dependencies: { '@scan-repro/data': '*' } },
    { 'src/index.ts': "import '@scan-repro/data';\n" },
  );
  pkg(
    root,
    'packages/dataset-foo',
    { dependencies: { '@scan-repro/data': '*' } },
    {
      'src/index.ts': "import '@scan-repro/data';\nexport * from '@scan-repro/dataset-bar';\n",
    },
  );
  // A stage may draw figures with plots; plots itself sits on core and may not reach up into data.
  pkg(
    root,
    'packages/mine',
    {
      dependencies: { '@scan-repro/core': '*', '@scan-repro/plots': '*', '@scan-repro/backend': '*' },
      devDependencies: { '@scan-repro/core': '*' },
    },
    {
      'src/index.ts': "export * from '@scan-repro/core';\nexport * from '@scan-repro/plots';\n",
      // A stage that sets up the backend itself (the shell's job).
      'src/stage.ts': "import { initBackend } from '@scan-repro/backend';\nexport const s = initBackend;\n",
    },
  );
  pkg(
    root,
    'packages/plots',
    { dependencies: { '@scan-repro/core': '*', '@scan-repro/data': '*' } },
    {
      'src/index.ts': "import '@scan-repro/core';\nimport '@scan-repro/data';\n",
    },
  );
  pkg(
    root,
    'packages/scan',
    {
      dependencies: { '@scan-repro/data': '*', yaml: '^2.0.0' },
      devDependencies: { '@scan-repro/backend': '*', '@scan-repro/dataset-bar': '*' },
    },
    {
      // A stage table entry naming another stage (loaded through a variable), tracking, and a path out of the package.
      'src/index.ts':
        "import YAML from 'yaml';\nimport { openDataset } from '@scan-repro/data';\nconst NEXT = '@scan-repro/mine';\n" +
        "// '@scan-repro/selflabel' in a comment is no import\nexport const t = () => import('@scan-repro/tracking');\n" +
        "export const c = () => import('../../core/src/index');\nexport { YAML, openDataset, NEXT };\n",
      // A stage's test is a shell: it registers the dataset it opens.
      'test/scan.test.ts':
        "import { it } from 'vitest';\nimport '@scan-repro/backend';\nimport '@scan-repro/dataset-bar';\nit('x', () => {});\n",
    },
  );
  pkg(
    root,
    'packages/metrics',
    { dependencies: { 'left-pad': '^1.3.0' }, devDependencies: { '@scan-repro/core': '*' } },
    {
      'src/index.ts': "export * from '@scan-repro/core';\n",
      'src/pad.test.ts': "import pad from 'left-pad';\nexport { pad };\n",
    },
  );
  pkg(
    root,
    'packages/models',
    { dependencies: { '@scan-repro/cli': '*' } },
    { 'src/index.ts': "import '@scan-repro/cli';\n" },
  );
  pkg(root, 'packages/weird', {}, { 'src/index.ts': 'export {};\n' });
  pkg(
    root,
    'packages/cli',
    { dependencies: { '@scan-repro/scan': '*', '@scan-repro/nx-plugin': '*' } },
    {
      'src/index.ts': "import '@scan-repro/scan';\nimport '@scan-repro/nx-plugin';\n",
    },
  );
  pkg(
    root,
    'tools/nx-plugin',
    { dependencies: { '@scan-repro/cli': '*', yaml: '^2.9.1' } },
    {
      'src/index.ts': "import '@scan-repro/cli';\nimport 'yaml';\n",
    },
  );
  write(join(root, 'test/package.json'), JSON.stringify({ name: '@scan-repro/e2e' }));
  // The e2e tests may import the shells (here the CLI), but must declare them.
  write(join(root, 'test/a.test.ts'), "import '@scan-repro/nope';\nimport '@scan-repro/cli';\n");
}

describe('check-deps', () => {
  const broken = join(tmp, 'broken');
  makeBrokenWorkspace(broken);

  it('finds each kind of problem, and nothing else, in a made-up workspace', () => {
    const found = checkWorkspace(broken)
      .violations.map((v) => [v.kind, v.dir, v.subject].join(' '))
      .sort();
    expect(found).toEqual(
      [
        'declared-twice packages/mine @scan-repro/core',
        'deep-import packages/data @scan-repro/core/src/config',
        'dev-only-declared packages/metrics @scan-repro/core',
        'layering packages/augment @scan-repro/data',
        'layering packages/data @scan-repro/dataset-bar',
        'layering packages/dataset-foo @scan-repro/dataset-bar',
        'layering packages/mine @scan-repro/backend',
        'layering packages/models @scan-repro/cli',
        'layering packages/plots @scan-repro/data',
        'layering packages/scan @scan-repro/mine',
        'layering packages/scan @scan-repro/tracking',
        'layering packages/cli @scan-repro/nx-plugin',
        'layering tools/nx-plugin @scan-repro/cli',
        'misplaced packages/metrics left-pad',
        'no-layer-rule packages/weird packages/weird',
        'relative-escape packages/scan ../../core/src/index',
        'undeclared packages/data sharp',
        'undeclared packages/dataset-foo @scan-repro/dataset-bar',
        'undeclared packages/scan @scan-repro/mine',
        'undeclared packages/scan @scan-repro/tracking',
        'undeclared test @scan-repro/cli',
        'unknown-workspace-package test @scan-repro/nope',
        'unused packages/data left-pad',
        'version-mismatch . yaml',
        'workspace-range packages/data @scan-repro/core',
      ].sort(),
    );
  });

  it('explains the layering problems in the words of docs/architecture.md', () => {
    const text = formatReport(checkWorkspace(broken));
    expect(text).toMatch(/^check-deps: 16 workspace packages, 20 source files, 25 violations$/m);
    expect(text).toContain('packages/scan/src/index.ts:3 imports @scan-repro/mine: stages never import each other');
    expect(text).toContain('packages/scan/src/index.ts:5 imports @scan-repro/tracking: stages never import tracking');
    expect(text).toContain(
      'packages/mine/src/stage.ts:1 imports @scan-repro/backend: stages never import backend (the shell initialises it',
    );
    expect(text).toContain(
      'packages/dataset-foo/src/index.ts:2 imports @scan-repro/dataset-bar: packages/dataset-foo (dataset-*) may import only data, core',
    );
    expect(text).toContain(
      'packages/augment/src/index.ts:2 imports @scan-repro/data: packages/augment (augment) may import only core',
    );
    expect(text).toContain(
      'packages/models/src/index.ts:1 imports @scan-repro/cli: nothing imports the CLI (it is the shell)',
    );
    expect(text).toContain(
      'packages/plots/src/index.ts:2 imports @scan-repro/data: packages/plots (plots) may import only core',
    );
    expect(text).toContain('tools/nx-plugin/src/index.ts:1 imports @scan-repro/cli: nothing imports the CLI');
    expect(text).toContain('nothing imports tools/nx-plugin');
    expect(text).toContain(
      'yaml is declared with different ranges: "^2.0.0" in packages/scan; "^2.9.1" in tools/nx-plugin',
    );
  });

  it('checks Nx graph edges with the same rules', () => {
    const report = checkWorkspace(broken);
    const node = (root: string) => ({ data: { root } });
    const graph = {
      graph: {
        nodes: {
          '@scan-repro/scan': node('packages/scan'),
          '@scan-repro/mine': node('packages/mine'),
          '@scan-repro/cli': node('packages/cli'),
          '@scan-repro/data': node('packages/data'),
        },
        dependencies: {
          '@scan-repro/scan': [
            { source: '@scan-repro/scan', target: '@scan-repro/mine', type: 'static' },
            { source: '@scan-repro/scan', target: 'npm:yaml', type: 'static' },
          ],
          '@scan-repro/cli': [{ source: '@scan-repro/cli', target: '@scan-repro/data', type: 'implicit' }],
          '@scan-repro/data': [{ source: '@scan-repro/data', target: '@scan-repro/cli', type: 'static' }],
        },
      },
    };
    expect(checkNxGraph(report, graph).map((v) => v.message)).toEqual([
      'Nx graph edge @scan-repro/scan -> @scan-repro/mine (static): stages never import each other',
      'Nx graph edge @scan-repro/data -> @scan-repro/cli (static): nothing imports the CLI (it is the shell)',
    ]);
  });

  it('exits 1 from the command line when something is wrong', () => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'tools/check-deps/check-deps.ts'), '--root', broken],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('25 violations');
  });
});

describe('this workspace', () => {
  it('declares what every package imports and keeps the dependency directions', () => {
    const report = checkWorkspace(repoRoot);
    // The whole report on failure: which file imports what, and what to change.
    expect(report.violations.length === 0 ? '' : formatReport(report)).toBe('');
    expect(report.folders.filter((f) => f.manifest).length).toBeGreaterThanOrEqual(20);
  });

  it('names every export of a package index (no export *), so its face shows what others use', () => {
    const starred = readdirSync(join(repoRoot, 'packages'))
      .map((p) => join('packages', p, 'src/index.ts'))
      .filter((f) => existsSync(join(repoRoot, f)) && /^\s*export\s*\*/m.test(readFileSync(join(repoRoot, f), 'utf8')));
    expect(starred).toEqual([]);
  });

  it("keeps tests in a package's test/ folder: no *.test.ts under packages/*/src or tools/*/src", () => {
    const inSrc: string[] = [];
    const walk = (rel: string) => {
      for (const e of readdirSync(join(repoRoot, rel), { withFileTypes: true })) {
        if (e.isDirectory() && e.name !== 'node_modules') walk(join(rel, e.name));
        else if (e.isFile() && e.name.endsWith('.test.ts')) inSrc.push(join(rel, e.name));
      }
    };
    for (const group of ['packages', 'tools'])
      for (const p of readdirSync(join(repoRoot, group)))
        if (existsSync(join(repoRoot, group, p, 'src'))) walk(join(group, p, 'src'));
    expect(inSrc).toEqual([]);
  });
});
