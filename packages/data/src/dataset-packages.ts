// The dataset packages of a workspace, loaded into the registry. Stages open datasets by name and never import
// dataset packages (docs/architecture.md), so every shell that runs or plans stages (the CLI, the nx-plugin) calls
// loadDatasetPackages() first and then asks the registry (openDataset, datasetSource, registeringPackage).
// A dataset package is any workspace package named @scan-repro/dataset-* (from the root package.json's workspaces
// globs), so a package made by `nx g @scan-repro/tools:dataset` is picked up without editing a list. Each is
// imported from its folder (its package.json "exports"): the same module that importing it by name gives, and it
// works before `npm install` has linked a new package.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { log } from '@scan-repro/core';
import { noteFailedPackage, registeringPackage, setImportingPackage, type DatasetPackageRef } from './dataset';
import { repoRoot } from './paths';

export const DATASET_PACKAGE_PREFIX = '@scan-repro/dataset-';

export interface DatasetPackage extends DatasetPackageRef {
  /** absolute path of the module that importing the package loads */
  entry: string;
}

export interface DatasetPackagesLoad {
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
          : existsSync(d)
            ? readdirSync(d)
                .filter((n) => !n.startsWith('.') && re.test(n))
                .map((n) => join(d, n))
            : [],
      );
    }
    for (const d of dirs) if (existsSync(d) && statSync(d).isDirectory()) found.add(d);
  }
  return [...found].sort();
}

/** The file a package's "exports" ('.' entry, import/default condition) or "main" names. */
function packageEntry(dir: string, pkg: PackageJson): string {
  const dot = typeof pkg.exports === 'string' ? pkg.exports : pkg.exports?.['.'];
  const target = typeof dot === 'string' ? dot : (dot?.import ?? dot?.default ?? pkg.main);
  if (!target) {
    throw new Error(
      `${join(dir, 'package.json')}: no "exports" "." entry or "main"; expected e.g. "exports": { ".": "./src/index.ts" }`,
    );
  }
  return join(dir, target);
}

/** The workspace's dataset packages: every package named @scan-repro/dataset-* in the root package.json's workspaces. */
export function findDatasetPackages(root: string = repoRoot()): DatasetPackage[] {
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

const loads = new Map<string, Promise<DatasetPackagesLoad>>();
// One import at a time in the whole process: registrations are attributed to the package being imported.
let queue: Promise<unknown> = Promise.resolve();

async function importAll(root: string): Promise<DatasetPackagesLoad> {
  const result: DatasetPackagesLoad = { loaded: [], failed: [] };
  for (const p of findDatasetPackages(root)) {
    setImportingPackage({ name: p.name, dir: p.dir });
    try {
      await import(pathToFileURL(p.entry).href);
      result.loaded.push(p.name);
    } catch (e) {
      // One broken dataset package (e.g. half-written) must not stop runs on the others.
      // The first lines: a transform error's first line alone ("Transform failed with 1 error:") says nothing.
      const error = String((e as Error)?.message ?? e)
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .slice(0, 2)
        .join(' ');
      result.failed.push({ name: p.name, error });
      noteFailedPackage(p.name, error);
      log.warn(`dataset package ${p.name} (${relative(root, p.entry)}) failed to load and is skipped: ${error}`);
    } finally {
      setImportingPackage(undefined);
    }
  }
  return result;
}

/**
 * Imports every dataset package of the workspace at `root` (default: this repository), which registers its
 * datasets. Runs once per root; later calls return the first result. A dataset whose package failed to load is
 * then an unknown dataset whose error names that package and its error.
 */
export function loadDatasetPackages(root: string = repoRoot()): Promise<DatasetPackagesLoad> {
  let load = loads.get(root);
  if (!load) {
    load = queue.then(() => importAll(root));
    queue = load.catch(() => undefined);
    loads.set(root, load);
  }
  return load;
}

/** The package that registered a dataset (name or alias); throws for an unknown one, naming failed packages. */
export function datasetPackage(name: string): DatasetPackageRef {
  const pkg = registeringPackage(name);
  if (!pkg) {
    throw new Error(
      `dataset '${name}' was registered by a module imported directly, not by loadDatasetPackages(); its package is unknown`,
    );
  }
  return pkg;
}
