// Where the repository is, and which code revision produced a result.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives at packages/core/src/). */
export function projectRoot(): string {
  return fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
}

export type CodeRevision = { commit: string; dirty: boolean } | 'unknown';
let cachedRevision: CodeRevision | undefined;

/** git HEAD of the repository and whether tracked files differ from it; 'unknown' outside git (e.g. a tarball). */
export function codeRevision(): CodeRevision {
  if (cachedRevision) return cachedRevision;
  const git = (args: string[]) =>
    execFileSync('git', args, {
      cwd: projectRoot(),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    }).trim();
  try {
    const commit = git(['rev-parse', 'HEAD']);
    // Untracked files (results/, caches) are not counted: they are not code that ran.
    const dirty = git(['status', '--porcelain', '--untracked-files=no']).length > 0;
    cachedRevision = { commit, dirty };
  } catch {
    cachedRevision = 'unknown';
  }
  return cachedRevision;
}
