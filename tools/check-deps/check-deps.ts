// Checks what every workspace package imports against what its package.json declares, and against the
// dependency directions of docs/architecture.md. Run: `npx tsx tools/check-deps/check-deps.ts [--root DIR]
// [--nx-graph graph.json] [--json]`; exit code 1 when anything is wrong. test/architecture.test.ts runs it.
//
// Why declarations matter although npm hoists everything into the root node_modules: Nx builds its project graph
// (and so what a cached test/typecheck depends on) from them, and an undeclared import works only by accident.
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const SCOPE = '@scan-repro/';

/** The stage packages (docs/architecture.md "Stages"). */
export const STAGE_PACKAGES = ['pretext', 'mine', 'scan', 'selflabel', 'eval'] as const;

/**
 * What each library package under packages/ may import of ours, by folder name ('dataset-*' matches every
 * dataset package). docs/architecture.md "Dependency directions", plus `train` (shared training machinery, which
 * the stages may use like metrics). Shells are not libraries: packages/cli and tools/* may import every library
 * (not the CLI, not tools/nx-plugin or tools/tables); the e2e tests under test/ may import anything.
 */
export const LIBRARY_LAYERS: Readonly<Record<string, readonly string[]>> = {
  core: [],
  backend: ['core'],
  tracking: ['core'],
  augment: ['core'],
  data: ['core', 'augment'],
  'dataset-*': ['data', 'core'],
  models: ['core', 'backend'],
  metrics: ['core'],
  plots: ['core'],
  // helpers for tests only: a library's src may not import it (TEST_EXTRA_IMPORTS lets its tests)
  'test-utils': ['core'],
  train: ['core', 'backend', 'augment', 'data', 'models', 'metrics'],
  // not backend: the shell initialises it once from the config, a stage only computes on it
  ...Object.fromEntries(
    STAGE_PACKAGES.map((s) => [s, ['augment', 'data', 'models', 'metrics', 'train', 'core', 'plots']]),
  ),
};

/** Tools nothing but the e2e tests may import (docs/architecture.md: "nothing imports them"). */
export const LEAF_TOOLS = ['tools/nx-plugin', 'tools/tables'];

/**
 * Packages a library's *tests* may import beyond its layer: tests that compute with tf await initBackend(), and
 * tests are shells that register the datasets they open (a stage's test imports a dataset package, the stage does
 * not). Not dataset packages from the tests of the packages they are built on (a cycle).
 */
export const TEST_EXTRA_IMPORTS = ['backend', 'dataset-*', 'test-utils'];
const NO_TEST_DATASET_IMPORTS = ['core', 'augment', 'data', 'dataset-*'];

const SOURCE_EXTENSIONS = /\.(ts|tsx|mts|cts|js|mjs|cjs)$/;
/** Personal scratch files (`smoke.tmp.ts`, `prof.tmp.ts`): not part of any package, listed in the notes instead. */
const SCRATCH_FILE = /\.tmp\.[cm]?[jt]sx?$/;
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'coverage']);
const DEPENDENCY_FIELDS = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'] as const;
type DependencyField = (typeof DEPENDENCY_FIELDS)[number];

export interface Manifest {
  name?: string;
  exports?: unknown;
  main?: string;
  workspaces?: string[] | { packages?: string[] };
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** What a folder is in the layering: a library (by its packages/ folder name), the CLI, a tool, or the e2e tests. */
export type Role =
  | { kind: 'library'; layer: string | null /* null = no rule for this folder */ }
  | { kind: 'cli' }
  | { kind: 'tool'; leaf: boolean }
  | { kind: 'e2e' };

export interface WorkspaceFolder {
  /** path relative to the workspace root, with '/' */
  dir: string;
  /** package name, or null for a folder matched by the workspaces globs that has no package.json */
  name: string | null;
  manifest: Manifest | null;
  role: Role;
  files: string[];
}

export type ViolationKind =
  | 'undeclared'
  | 'dev-only-declared'
  | 'misplaced'
  | 'unused'
  | 'declared-twice'
  | 'workspace-range'
  | 'version-mismatch'
  | 'layering'
  | 'deep-import'
  | 'relative-escape'
  | 'unknown-workspace-package'
  | 'no-layer-rule';

export interface Violation {
  kind: ViolationKind;
  /** the folder the problem is in (relative to the root), or '.' for workspace-wide ones */
  dir: string;
  /** the dependency / specifier concerned */
  subject: string;
  message: string;
}

export interface CheckReport {
  root: string;
  folders: WorkspaceFolder[];
  fileCount: number;
  violations: Violation[];
  /** facts worth knowing that are not violations (folders without package.json) */
  notes: string[];
}

interface ImportRef {
  specifier: string;
  /** file relative to the root, with its 1-based line */
  where: string;
  /** 'import' = import/export/require/import(); 'literal' = a string that names a package (dynamic import via a variable) */
  via: 'import' | 'literal';
  dev: boolean;
}

const toPosix = (p: string) => p.split(sep).join('/');

function readJson<T>(path: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    throw new Error(`${path}: cannot read JSON (${(e as Error).message})`);
  }
}

/** Expands npm workspaces globs ('packages/*', 'test'): '*' matches within one path segment. */
export function expandWorkspaceGlobs(root: string, globs: readonly string[]): string[] {
  const out = new Set<string>();
  for (const glob of globs) {
    let dirs = [''];
    for (const segment of glob.replace(/\/+$/, '').split('/')) {
      const re = new RegExp(`^${segment.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
      dirs = dirs.flatMap((d) => {
        const abs = join(root, d);
        if (!segment.includes('*')) return existsSync(join(abs, segment)) ? [d ? `${d}/${segment}` : segment] : [];
        if (!existsSync(abs)) return [];
        return readdirSync(abs, { withFileTypes: true })
          .filter((e) => e.isDirectory() && !e.name.startsWith('.') && re.test(e.name))
          .map((e) => (d ? `${d}/${e.name}` : e.name));
      });
    }
    for (const d of dirs) if (statSync(join(root, d)).isDirectory()) out.add(d);
  }
  return [...out].sort();
}

export function workspaceGlobs(rootManifest: Manifest, rootDir: string): string[] {
  const ws = rootManifest.workspaces;
  const globs = Array.isArray(ws) ? ws : ws?.packages;
  if (!globs || globs.length === 0) throw new Error(`${join(rootDir, 'package.json')}: no "workspaces" globs`);
  return globs;
}

function roleOf(dir: string): Role {
  const [top, name] = dir.split('/');
  if (top === 'packages' && name === 'cli') return { kind: 'cli' };
  if (top === 'packages') {
    const layer = Object.keys(LIBRARY_LAYERS).find((l) =>
      l.endsWith('*') ? name.startsWith(l.slice(0, -1)) : l === name,
    );
    return { kind: 'library', layer: layer ?? null };
  }
  if (top === 'tools') return { kind: 'tool', leaf: LEAF_TOOLS.includes(dir) };
  return { kind: 'e2e' };
}

function listSourceFiles(absDir: string, nestedPackages: Set<string>): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (SKIPPED_DIRS.has(e.name) || e.name.startsWith('.') || nestedPackages.has(p)) continue;
        walk(p);
      } else if (e.isFile() && SOURCE_EXTENSIONS.test(e.name) && !SCRATCH_FILE.test(e.name)) out.push(p);
    }
  };
  walk(absDir);
  return out.sort();
}

/** Tests, fixtures, benchmarks and vitest configs: what only development needs (→ devDependencies). */
export function isDevFile(pathInPackage: string): boolean {
  const parts = pathInPackage.split('/');
  const base = parts[parts.length - 1];
  if (/\.(test|spec|bench)\.[cm]?[jt]sx?$/.test(base) || /^vite(st)?\.(config|workspace)\./.test(base)) return true;
  return parts
    .slice(0, -1)
    .some((p) => ['test', 'tests', '__tests__', 'fixtures', '__fixtures__', 'bench'].includes(p));
}

/** Module specifiers a file imports (static, dynamic, require, import types), and strings that are exactly a package name. */
export function collectImports(
  text: string,
  fileName: string,
  opts: { literals: boolean } = { literals: true },
): { specifier: string; line: number; via: 'import' | 'literal' }[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const found: { specifier: string; line: number; via: 'import' | 'literal' }[] = [];
  const inImportPosition = new Set<ts.Node>();
  const add = (node: ts.Node | undefined, via: 'import' | 'literal') => {
    if (!node || !(ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node))) return;
    inImportPosition.add(node);
    found.push({
      specifier: node.text,
      line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1,
      via,
    });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier, 'import');
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression, 'import');
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal, 'import');
    else if (ts.isCallExpression(node) && node.arguments.length > 0) {
      const callee = node.expression;
      const text = callee.getText(source);
      if (
        callee.kind === ts.SyntaxKind.ImportKeyword ||
        ['require', 'require.resolve', 'import.meta.resolve'].includes(text)
      ) {
        add(node.arguments[0], 'import');
      }
    } else if (
      opts.literals &&
      (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) &&
      !inImportPosition.has(node) &&
      !(ts.isPropertyAssignment(node.parent) && node.parent.name === node)
    ) {
      // A bare package name in a string: a module loaded through a variable (e.g. the CLI's stage table).
      // Not in tests (package names there are test data) and not as an object key.
      if (/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/.test(node.text)) {
        found.push({
          specifier: node.text,
          line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1,
          via: 'literal',
        });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const BUILTINS = new Set(builtinModules);
function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || BUILTINS.has(specifier) || BUILTINS.has(specifier.split('/')[0]);
}

/** '@a/b/c' → ['@a/b', 'c']; 'a/b' → ['a', 'b']. */
export function splitSpecifier(specifier: string): [name: string, subpath: string] {
  const parts = specifier.split('/');
  const n = specifier.startsWith('@') ? 2 : 1;
  return [parts.slice(0, n).join('/'), parts.slice(n).join('/')];
}

/** Subpaths a package exports besides '.', e.g. './package.json' → 'package.json'. */
function exportedSubpaths(manifest: Manifest | null): Set<string> {
  const exp = manifest?.exports;
  if (!exp || typeof exp !== 'object' || Array.isArray(exp)) return new Set();
  return new Set(
    Object.keys(exp)
      .filter((k) => k.startsWith('./'))
      .map((k) => k.slice(2)),
  );
}

function describeRole(f: WorkspaceFolder): string {
  const r = f.role;
  if (r.kind === 'library')
    return r.layer === null ? 'library' : STAGE_PACKAGES.includes(r.layer as never) ? 'stage' : r.layer;
  return r.kind;
}

/** Why `from` may not import `to` (null = allowed). */
export function layeringProblem(from: WorkspaceFolder, to: WorkspaceFolder, dev: boolean): string | null {
  if (from.dir === to.dir) return null;
  if (to.role.kind === 'e2e') return 'nothing imports the e2e tests';
  // The e2e tests under test/ sit above everything: they test the shells too, and nothing depends on them.
  if (from.role.kind === 'e2e') return null;
  if (to.role.kind === 'tool' && to.role.leaf) return `nothing imports ${to.dir}`;
  if (to.role.kind === 'cli') return 'nothing imports the CLI (it is the shell)';
  if (from.role.kind !== 'library') return null; // the CLI and tools/* are shells: they may import every library
  const layer = from.role.layer;
  if (layer === null)
    return `no layering rule for ${from.dir}; add it to LIBRARY_LAYERS in tools/check-deps/check-deps.ts`;
  const [top, target] = to.dir.split('/');
  if (top !== 'packages') return `libraries do not import ${to.dir}`;
  const allowed = LIBRARY_LAYERS[layer];
  const ok = (l: string) => (l.endsWith('*') ? target.startsWith(l.slice(0, -1)) : l === target);
  const testExtras = TEST_EXTRA_IMPORTS.filter((l) => l !== 'dataset-*' || !NO_TEST_DATASET_IMPORTS.includes(layer));
  if (allowed.some(ok) || (dev && testExtras.some(ok))) return null;
  const fromStage = STAGE_PACKAGES.includes(layer as never);
  if (fromStage && STAGE_PACKAGES.includes(target as never)) return 'stages never import each other';
  if (fromStage && target === 'tracking') return 'stages never import tracking (the shell hands the run folder to it)';
  if (fromStage && target.startsWith('dataset-'))
    return 'stages never import dataset packages (the shells register them)';
  if (target === 'test-utils') return 'only tests import test-utils';
  if (fromStage && target === 'backend')
    return 'stages never import backend (the shell initialises it from the config)';
  return `${from.dir} (${describeRole(from)}) may import only ${allowed.length ? allowed.join(', ') : 'no package of ours'}`;
}

/** Reads the workspace: folders from the root package.json's workspaces globs, with their source files. */
export function readWorkspace(root: string): { rootManifest: Manifest; folders: WorkspaceFolder[] } {
  const rootManifest = readJson<Manifest>(join(root, 'package.json'));
  const dirs = expandWorkspaceGlobs(root, workspaceGlobs(rootManifest, root));
  const nested = new Set(dirs.map((d) => join(root, d)));
  const folders = dirs.map((dir): WorkspaceFolder => {
    const pkgPath = join(root, dir, 'package.json');
    const manifest = existsSync(pkgPath) ? readJson<Manifest>(pkgPath) : null;
    const others = new Set([...nested].filter((d) => d !== join(root, dir)));
    return {
      dir,
      name: manifest?.name ?? null,
      manifest,
      role: roleOf(dir),
      files: listSourceFiles(join(root, dir), others),
    };
  });
  return { rootManifest, folders: folders.filter((f) => f.manifest || f.files.length > 0) };
}

function scratchFiles(root: string, folders: WorkspaceFolder[]): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory() && !SKIPPED_DIRS.has(e.name) && !e.name.startsWith('.')) walk(join(d, e.name));
      else if (e.isFile() && SCRATCH_FILE.test(e.name)) out.push(toPosix(relative(root, join(d, e.name))));
    }
  };
  for (const f of folders) walk(join(root, f.dir));
  return [...new Set(out)].sort();
}

export function checkWorkspace(rootDir: string): CheckReport {
  const root = resolve(rootDir);
  const { rootManifest, folders } = readWorkspace(root);
  const byName = new Map(folders.filter((f) => f.name).map((f) => [f.name!, f]));
  const violations: Violation[] = [];
  const notes: string[] = [];
  const report = (kind: ViolationKind, dir: string, subject: string, message: string) =>
    violations.push({ kind, dir, subject, message });
  const rootProvided = new Set(Object.keys({ ...rootManifest.dependencies, ...rootManifest.devDependencies }));
  let fileCount = 0;

  for (const folder of folders) {
    const declared: Record<DependencyField, Record<string, string>> = {
      dependencies: folder.manifest?.dependencies ?? {},
      devDependencies: folder.manifest?.devDependencies ?? {},
      optionalDependencies: folder.manifest?.optionalDependencies ?? {},
      peerDependencies: folder.manifest?.peerDependencies ?? {},
    };
    const declaredNames = new Set(DEPENDENCY_FIELDS.flatMap((f) => Object.keys(declared[f])));
    const refs = new Map<string, ImportRef[]>();
    let importsBuiltins = false;

    for (const abs of folder.files) {
      fileCount++;
      const inPackage = toPosix(relative(join(root, folder.dir), abs));
      const rel = toPosix(relative(root, abs));
      const dev = folder.role.kind === 'e2e' || isDevFile(inPackage);
      for (const imp of collectImports(readFileSync(abs, 'utf8'), abs, { literals: !dev })) {
        const where = `${rel}:${imp.line}`;
        const spec = imp.specifier;
        if (imp.via === 'import' && (spec.startsWith('.') || spec.startsWith('/'))) {
          const target = resolve(dirname(abs), spec);
          const fromPkg = relative(join(root, folder.dir), target);
          if (fromPkg.startsWith('..') || resolve(target) === resolve(root)) {
            report(
              'relative-escape',
              folder.dir,
              spec,
              `${where} imports ${spec}, outside ${folder.dir}; import the package by its name instead`,
            );
          }
          continue;
        }
        if (isBuiltin(spec)) {
          if (imp.via === 'import') importsBuiltins = true;
          continue;
        }
        const [name, subpath] = splitSpecifier(spec);
        const target = byName.get(name);
        if (imp.via === 'literal') {
          // Only names that are ours or that this package declares count: other strings just look like names.
          if (!(target || (declaredNames.has(name) && !subpath))) continue;
        }
        if (name.startsWith(SCOPE) && !target) {
          report(
            'unknown-workspace-package',
            folder.dir,
            name,
            `${where} imports ${spec}, but no workspace package is named ${name}`,
          );
          continue;
        }
        if (target) {
          if (subpath && !exportedSubpaths(target.manifest).has(subpath)) {
            report(
              'deep-import',
              folder.dir,
              spec,
              `${where} imports ${spec}: import ${name} (its src/index.ts) instead of its files`,
            );
          }
          const problem = layeringProblem(folder, target, dev);
          if (problem)
            report('layering', folder.dir, name, `${where} imports ${name}: ${problem} (docs/architecture.md)`);
          if (target === folder) continue;
        }
        if (!refs.has(name)) refs.set(name, []);
        refs.get(name)!.push({ specifier: spec, where, via: imp.via, dev });
      }
    }

    if (!folder.manifest) {
      if (folder.files.length)
        notes.push(
          `${folder.dir}: no package.json, so not a workspace package; only its layering and deep imports are checked`,
        );
      continue;
    }
    const started = folder.files.some((f) => !/^vite(st)?\.(config|workspace)\./.test(f.split(sep).pop()!));
    if (!started) {
      // Nothing written yet: what it declares is what its owner plans to use, so "unused" means nothing here.
      notes.push(`${folder.dir}: no source files yet, so its declared dependencies are not checked for use`);
    }
    const { dependencies: deps, devDependencies: devDeps } = declared;
    const runtimeDeclared = (n: string) =>
      n in deps || n in declared.optionalDependencies || n in declared.peerDependencies;
    const isWorkspace = (n: string) => byName.has(n);
    const field = (n: string) => (isWorkspace(n) ? `"${n}": "*"` : `"${n}"`);

    for (const [name, list] of refs) {
      const imports = list.filter((r) => r.via === 'import' || isWorkspace(name));
      if (imports.length === 0) continue; // only named in strings: counts as use below, needs no declaration
      const prod = imports.filter((r) => !r.dev);
      const declaredAnywhere = declaredNames.has(name);
      if (!declaredAnywhere && rootProvided.has(name) && !isWorkspace(name)) continue; // root tooling (vitest, tsx, typescript)
      if (prod.length) {
        if (!runtimeDeclared(name)) {
          if (name in devDeps) {
            report(
              'dev-only-declared',
              folder.dir,
              name,
              `${name} is used at run time (${prod[0].where}) but declared only in devDependencies; move it to dependencies`,
            );
          } else {
            report(
              'undeclared',
              folder.dir,
              name,
              `${prod[0].where} imports ${name}, which package.json does not declare; add ${field(name)} to dependencies`,
            );
          }
        }
      } else if (!declaredAnywhere) {
        report(
          'undeclared',
          folder.dir,
          name,
          `${imports[0].where} (test) imports ${name}, which package.json does not declare; add ${field(name)} to devDependencies`,
        );
      } else if (name in deps && !(name in devDeps) && list.every((r) => r.dev)) {
        // (a name in a string of run-time code, e.g. a backend loaded by name, is run-time use)
        report(
          'misplaced',
          folder.dir,
          name,
          `only tests import ${name} (${imports[0].where}); move it from dependencies to devDependencies`,
        );
      }
    }

    for (const f of DEPENDENCY_FIELDS) {
      for (const [name, range] of Object.entries(declared[f])) {
        const typesFor = name.startsWith('@types/') ? name.slice(7).replace(/^(.+)__(.+)$/, '@$1/$2') : null;
        const used =
          refs.has(name) || (typesFor !== null && (refs.has(typesFor) || (typesFor === 'node' && importsBuiltins)));
        if (!used && started)
          report('unused', folder.dir, name, `${f} lists ${name}, but nothing in ${folder.dir} imports it; remove it`);
        if (isWorkspace(name) && range !== '*') {
          report(
            'workspace-range',
            folder.dir,
            name,
            `${f} has "${name}": "${range}"; workspace packages are declared as "*"`,
          );
        }
      }
    }
    for (const name of Object.keys(deps)) {
      if (name in devDeps)
        report('declared-twice', folder.dir, name, `${name} is in both dependencies and devDependencies; keep one`);
    }
  }

  // One version range per external package across the workspace, so that one copy is hoisted (tfjs must be one).
  const ranges = new Map<string, Map<string, string[]>>();
  const manifests: [string, Manifest][] = [
    ['.', rootManifest],
    ...folders.filter((f) => f.manifest).map((f) => [f.dir, f.manifest!] as [string, Manifest]),
  ];
  for (const [dir, m] of manifests) {
    for (const f of DEPENDENCY_FIELDS) {
      for (const [name, range] of Object.entries(m[f] ?? {})) {
        if (byName.has(name)) continue;
        if (!ranges.has(name)) ranges.set(name, new Map());
        const r = ranges.get(name)!;
        r.set(range, [...(r.get(range) ?? []), dir]);
      }
    }
  }
  // TF.js packages must all be the same release: a backend registers kernels for the tfjs-core version it was built with.
  const tfjs = [...ranges].filter(([name]) => name.startsWith('@tensorflow/tfjs'));
  const tfjsRanges = new Set(tfjs.flatMap(([, r]) => [...r.keys()]));
  if (tfjsRanges.size > 1) {
    const list = tfjs.map(([name, r]) => `${name} ${[...r.keys()].map((x) => `"${x}"`).join('/')}`).join(', ');
    report(
      'version-mismatch',
      '.',
      '@tensorflow/tfjs*',
      `TF.js packages are declared with different ranges (${list}); pin them all to one version`,
    );
  }
  for (const [name, r] of ranges) {
    if (r.size > 1) {
      const list = [...r].map(([range, dirs]) => `"${range}" in ${dirs.join(', ')}`).join('; ');
      report(
        'version-mismatch',
        '.',
        name,
        `${name} is declared with different ranges: ${list}; use one range everywhere`,
      );
    }
  }

  for (const f of folders) {
    if (f.role.kind === 'library' && f.role.layer === null) {
      report(
        'no-layer-rule',
        f.dir,
        f.dir,
        `${f.dir} has no layering rule; add it to LIBRARY_LAYERS in tools/check-deps/check-deps.ts and to docs/architecture.md`,
      );
    }
  }
  const scratch = scratchFiles(root, folders);
  if (scratch.length) notes.push(`scratch files (*.tmp.*) not checked: ${scratch.join(', ')}`);
  return { root, folders, fileCount, violations, notes };
}

/** Checks the edges of an Nx project graph (`nx graph --file=graph.json`) against the same layering. */
export function checkNxGraph(report: CheckReport, graphJson: unknown): Violation[] {
  const graph = (
    graphJson as {
      graph?: {
        nodes?: Record<string, { data?: { root?: string } }>;
        dependencies?: Record<string, { source: string; target: string; type: string }[]>;
      };
    }
  ).graph;
  if (!graph?.nodes || !graph.dependencies)
    throw new Error('not an Nx graph file: expected { graph: { nodes, dependencies } }');
  const byDir = new Map(report.folders.map((f) => [f.dir, f]));
  const folderOf = (project: string) => byDir.get(toPosix(graph.nodes![project]?.data?.root ?? ''));
  const out: Violation[] = [];
  for (const edges of Object.values(graph.dependencies)) {
    for (const e of edges) {
      const from = folderOf(e.source);
      const to = folderOf(e.target);
      if (!from || !to) continue; // npm: packages, or projects outside the workspaces globs
      const problem = layeringProblem(from, to, true);
      if (problem)
        out.push({
          kind: 'layering',
          dir: from.dir,
          subject: to.name ?? to.dir,
          message: `Nx graph edge ${e.source} -> ${e.target} (${e.type}): ${problem}`,
        });
    }
  }
  return out;
}

export function formatReport(report: CheckReport, extra: Violation[] = []): string {
  const all = [...report.violations, ...extra];
  const packages = report.folders.filter((f) => f.manifest).length;
  const lines = [
    `check-deps: ${packages} workspace packages, ${report.fileCount} source files, ${all.length} violation${all.length === 1 ? '' : 's'}`,
  ];
  const byDir = new Map<string, Violation[]>();
  for (const v of all) byDir.set(v.dir, [...(byDir.get(v.dir) ?? []), v]);
  for (const [dir, list] of [...byDir].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(dir === '.' ? 'workspace' : dir);
    for (const v of list) lines.push(`  ${v.kind.padEnd(25)} ${v.message}`);
  }
  for (const n of report.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}

function main(argv: string[]): number {
  let root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  let graphFile: string | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--root' && argv[i + 1]) root = resolve(argv[++i]);
    else if (a === '--nx-graph' && argv[i + 1]) graphFile = resolve(argv[++i]);
    else if (a === '--json') json = true;
    else {
      process.stderr.write(
        `check-deps: unknown argument '${a}'; usage: check-deps.ts [--root DIR] [--nx-graph graph.json] [--json]\n`,
      );
      return 2;
    }
  }
  const report = checkWorkspace(root);
  const extra = graphFile ? checkNxGraph(report, readJson(graphFile)) : [];
  if (json)
    process.stdout.write(
      JSON.stringify({ violations: [...report.violations, ...extra], notes: report.notes }, null, 2) + '\n',
    );
  else process.stdout.write(formatReport(report, extra) + '\n');
  return report.violations.length + extra.length > 0 ? 1 : 0;
}

const invokedAs = process.argv[1] ? realpathSync(resolve(process.argv[1])) : '';
if (invokedAs === realpathSync(fileURLToPath(import.meta.url))) process.exitCode = main(process.argv.slice(2));
