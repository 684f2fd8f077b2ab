// Paths written into run folders (config.yaml, manifest.json inputs) are relative to the workspace root, the
// working directory of the run, when they lie inside it or beside it (one '../', like the data root
// ../shared/data): Nx restores cached run folders into other checkouts, which must not read this checkout's
// absolute paths. Paths further away stay absolute. Readers resolve them against the workspace root.
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { PATH_KEYS, type ScanConfig } from './config-schema';

/** `path` as written into a run folder: relative to `root` (with '/') when inside it or one level beside it. */
export function portablePath(path: string, root: string = process.cwd()): string {
  if (path === '') return path;
  const rel = relative(resolve(root), resolve(root, path));
  if (isAbsolute(rel)) return resolve(root, path); // another drive (Windows)
  const parts = rel.split(sep);
  const up = parts.filter((p) => p === '..').length;
  if (up > 1 || parts.slice(up).includes('..')) return resolve(root, path);
  return rel === '' ? '.' : parts.join('/');
}

/** A path read from a run folder, resolved against the workspace root (absolute paths stay as they are). */
export function resolveRecordedPath(path: string, root: string = process.cwd()): string {
  return resolve(root, path);
}

/** The config with its path keys (PATH_KEYS) made portable, for config.yaml. */
export function portableConfig(config: ScanConfig, root: string = process.cwd()): ScanConfig {
  const out = structuredClone(config) as unknown as Record<string, Record<string, unknown>>;
  for (const key of PATH_KEYS) {
    const [group, name] = key.split('.');
    const value = out[group]?.[name];
    if (typeof value === 'string') out[group][name] = portablePath(value, root);
  }
  return out as unknown as ScanConfig;
}
