// Dataset registration for the shells. Stages open datasets by name through @scan-repro/data's registry and never
// import dataset packages (docs/architecture.md), so whoever runs a stage imports them first: this module.
// The packages are found at run time, as every workspace package named @scan-repro/dataset-* (from the root
// package.json's workspaces globs), so a package made by `nx g @scan-repro/tools:dataset` is picked up without
// editing a list. Each is imported from its folder (its package.json "exports"), which is the same module that
// importing it by name gives, and works before `npm install` has linked a new package.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { log, projectRoot } from '@scan-repro/core';
import { CliError } from './errors';

export const DATASET_PACKAGE_PREFIX = '@scan-repro/dataset-';

export interface DatasetPackage {
  /** package name, e.g. @scan-repro/dataset-cifar10 */
  name: string;
  /** absolute folder */
  dir: string;
  /** absolute path of the module that importing the package loads */
  entry: string;
}

export interface DatasetRegistration {
  /** packages imported (so registered), sorted by name */
  loaded: string[];
  /** packages that failed to import, with the start of the error */
  failed: { name: string; error: string }[];
}

interface PackageJson {
  name?: string;
  main?: string;
  exports?: string | Record<string, string | Record<string, string>>;
  workspaces?: string[] | { packages?: string[] };
}

function readPackageJson(path: string): PackageJson {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as PackageJson;
  } catch (e) {
    throw new Error(`${path}: cannot read package.json (${(e as Error).message})`);
  }
}

/** Folders matched by npm workspaces globs such as 'packages/*' or 'test' ('*' matches within one path segment). */
function workspaceFolders(root: string, globs: readonly string[]): string[] {
  const found = new Set<string>();
  for (const glob of globs) {
    let dirs = [root];
    for (const segment of glob.replace(/\/+$/, '').split('/')) {
      const re = new RegExp(`^${segment.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
      dirs = dirs.flatMap((d) =>
        !segment.includes('*')
          ? [join(d, segment)]
          : existsSync(d) ? readdirSync(d).filter((n) => !n.startsWith('.') && re.test(n)).map((n) => join(d, n)) : [],
      );
    }
    for (const d of dirs) if (existsSync(d) && statSync(d).isDirectory()) found.add(d);
  }
  return [...found].sort();
}

/** The file a package's "exports" ('.' entry, import/default condition) or "main" names. */
function packageEntry(dir: string, pkg: PackageJson): string {
  const dot = typeof pkg.exports === 'string' ? pkg.exports : pkg.exports?.['.'];
  const target = typeof dot === 'string' ? dot : dot?.import ?? dot?.default ?? pkg.main;
  if (!target) {
    throw new Error(`${join(dir, 'package.json')}: no "exports" "." entry or "main"; expected e.g. "exports": { ".": "./src/index.ts" }`);
  }
  return join(dir, target);
}

/** The workspace's dataset packages: every package named @scan-repro/dataset-* in the root package.json's workspaces. */
export function findDatasetPackages(root: string = projectRoot()): DatasetPackage[] {
  const rootPkg = readPackageJson(join(root, 'package.json'));
  const globs = Array.isArray(rootPkg.workspaces) ? rootPkg.workspaces : rootPkg.workspaces?.packages;
  if (!globs?.length) throw new Error(`${join(root, 'package.json')}: no "workspaces"; expected the monorepo root`);
  const out: DatasetPackage[] = [];
  for (const dir of workspaceFolders(root, globs)) {
    const pkgPath = join(dir, 'package.json');
    if (!existsSync(pkgPath)) continue;
    const pkg = readPackageJson(pkgPath);
    if (!pkg.name?.startsWith(DATASET_PACKAGE_PREFIX)) continue;
    out.push({ name: pkg.name, dir, entry: packageEntry(dir, pkg) });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

const registrations = new Map<string, Promise<DatasetRegistration>>();

async function importAll(root: string): Promise<DatasetRegistration> {
  const result: DatasetRegistration = { loaded: [], failed: [] };
  for (const p of findDatasetPackages(root)) {
    try {
      await import(pathToFileURL(p.entry).href);
      result.loaded.push(p.name);
    } catch (e) {
      // One broken dataset package (e.g. half-written) must not stop runs on the others.
      // The first lines: a transform error's first line alone ("Transform failed with 1 error:") says nothing.
      const error = String((e as Error)?.message ?? e).split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 2).join(' ');
      result.failed.push({ name: p.name, error });
      log.warn(`dataset package ${p.name} (${relative(root, p.entry)}) failed to load and is skipped: ${error}`);
    }
  }
  return result;
}

/**
 * Imports every dataset package of the workspace, which registers its datasets with @scan-repro/data. Runs once
 * per workspace root; later calls return the first result. With `need` (a dataset.name), a name that is still
 * not registered afterwards is a CliError that also names the packages that failed to load.
 */
export async function registerAllDatasets(opts: { root?: string; need?: string } = {}): Promise<DatasetRegistration> {
  const root = opts.root ?? projectRoot();
  if (!registrations.has(root)) registrations.set(root, importAll(root));
  const result = await registrations.get(root)!;
  if (opts.need) {
    const { datasetSource } = await import('@scan-repro/data');
    try {
      datasetSource(opts.need); // looks the name up as openDataset does (aliases, case, '-'/'_' ignored)
    } catch (e) {
      const failures = result.failed.map((f) => `${f.name} (${f.error})`).join('; ');
      throw new CliError(`${(e as Error).message}${failures ? ` Dataset packages that failed to load: ${failures}` : ''}`);
    }
  }
  return result;
}
