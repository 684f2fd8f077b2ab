// File helpers for the records this package keeps. atomicWriteFile is written here because
// @scan-repro/core did not export it yet when this package was written; swap to core's once it does.
import { open, rename, rm, stat, mkdir, readFile } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** Writes to a temporary file beside `path`, fsyncs, then renames: readers see the old or the new file, never half. */
export async function atomicWriteFile(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

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
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, opts: { waitMs?: number; staleMs?: number } = {}): Promise<T> {
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
      if (Date.now() > deadline) throw new Error(`lock ${lockPath} is held by another process for more than ${waitMs} ms; remove it if no scan-repro process is running`);
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
      throw new Error(`${source}:${i + 1}: not valid JSON (${(err as Error).message}); expected one JSON object per line`);
    }
  }
  return out;
}
