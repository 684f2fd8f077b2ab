// Where data lives: the data root (official files, read-only) and the decoded-data cache (ours, git-ignored).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRepoRoot: string | undefined;

/** The monorepo root: the nearest folder above this package whose package.json declares workspaces. */
export function repoRoot(): string {
  if (cachedRepoRoot) return cachedRepoRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if (JSON.parse(readFileSync(pkg, 'utf8')).workspaces) return (cachedRepoRoot = dir);
      } catch {
        // unreadable package.json: keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return (cachedRepoRoot = process.cwd());
    dir = parent;
  }
}

// Relative paths in the config are relative to the repo root (not the cwd), so the CLI, Nx targets and
// tests resolve the same folder wherever they are started from.
function fromRepo(p: string): string {
  return isAbsolute(p) ? p : resolve(repoRoot(), p);
}

/**
 * The data root: `dataset.root` from the config, else env SCAN_DATA_DIR, else ../shared/data next to the
 * repo when that folder exists, else <repo>/data.
 */
export function resolveDataRoot(root?: string | null, env: NodeJS.ProcessEnv = process.env): string {
  if (root && root.trim()) return fromRepo(root.trim());
  if (env.SCAN_DATA_DIR && env.SCAN_DATA_DIR.trim()) return fromRepo(env.SCAN_DATA_DIR.trim());
  const shared = resolve(repoRoot(), '..', 'shared', 'data');
  if (existsSync(shared)) return shared;
  return resolve(repoRoot(), 'data');
}

/** The decoded-data cache folder: `dataset.cache_dir`, default <repo>/.cache/datasets (git-ignored). */
export function resolveCacheDir(cacheDir?: string | null): string {
  return fromRepo(cacheDir && cacheDir.trim() ? cacheDir.trim() : '.cache/datasets');
}
