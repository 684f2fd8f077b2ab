// File helpers for the records this package keeps (atomic writes themselves come from @scan-repro/core).
import { open, rm, stat, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function readTextIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `fn` holding an exclusive lock file (O_EXCL create). Several runs (Nx tasks in parallel) may record
 * into the same results/ folder; read-modify-write of runs.jsonl would otherwise lose rows.
 * A lock older than `staleMs` is taken to be left by a crashed process and removed.
 */
export async function withFileLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  opts: { waitMs?: number; staleMs?: number } = {},
): Promise<T> {
  const waitMs = opts.waitMs ?? 30_000;
  const staleMs = opts.staleMs ?? 60_000;
  await mkdir(dirname(lockPath), { recursive: true });
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const info = await stat(lockPath).catch(() => null);
      if (info && Date.now() - info.mtimeMs > staleMs) {
        await rm(lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline)
        throw new Error(
          `lock ${lockPath} is held by another process for more than ${waitMs} ms; remove it if no scan-repro process is running`,
        );
      await sleep(50);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockPath, { force: true });
  }
}

/** Parses a JSON-lines file; a bad line is an error naming file and line. Blank lines are skipped. */
export function parseJsonLines(text: string, source: string): unknown[] {
  const out: unknown[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    try {
      out.push(JSON.parse(line));
    } catch (err) {
      // A torn last line is what a crash mid-append leaves; anywhere else the file is corrupt.
      if (i === lines.length - 1 && !text.endsWith('\n')) continue;
      throw new Error(
        `${source}:${i + 1}: not valid JSON (${(err as Error).message}); expected one JSON object per line`,
      );
    }
  }
  return out;
}
