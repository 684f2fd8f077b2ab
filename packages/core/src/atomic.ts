// Atomic file replacement: a reader sees either the old file or the new one, never a partial write.
// The data goes to a temporary file in the same directory (same file system, so rename is atomic), is fsynced,
// then renamed over the target; the directory is fsynced so the rename itself survives a power cut.
import { open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const TMP_MARK = '.tmp-';
let counter = 0;

/** Name of the temporary file for `path`: hidden, in the same folder, unique per process and call. */
function tmpPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}${TMP_MARK}${process.pid}-${Date.now().toString(36)}-${counter++}`);
}

/** True for leftovers of interrupted atomic writes (never read as artifacts). */
export function isAtomicTmpName(name: string): boolean {
  return name.startsWith('.') && name.includes(TMP_MARK);
}

export async function atomicWriteFile(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = tmpPathFor(path);
  try {
    const fh = await open(tmp, 'wx');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new Error(`could not write ${path} atomically: ${(e as Error).message}`, { cause: e });
  }
  await syncDirectory(dirname(path));
}

export async function atomicWriteJson(path: string, value: unknown): Promise<void> {
  await atomicWriteFile(path, JSON.stringify(value, null, 2) + '\n');
}

async function syncDirectory(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Some file systems (and Windows) cannot fsync a directory; the rename is still atomic there.
  }
}

/** Delete leftovers of interrupted atomic writes in `dir`; returns their names. */
export async function removeAtomicTmpDebris(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter(isAtomicTmpName);
  await Promise.all(names.map((n) => rm(join(dir, n), { force: true })));
  return names;
}

/** `.tmp-<pid>-` in a temp file's name: the process that wrote it. */
const TMP_OWNER = /\.tmp-(\d+)-/;

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/**
 * Delete temp files in `dir` (names with `.tmp-<pid>-`) whose writing process is dead: a write killed before its
 * rename (SIGKILL, power cut) leaves one, and nothing else would ever remove it. Files of live processes are
 * writes in progress and stay. Returns the names removed; a missing `dir` has none.
 */
export async function removeOrphanedTmpFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [] as string[];
    throw e;
  });
  const orphans = names.filter((n) => {
    const pid = Number(TMP_OWNER.exec(n)?.[1] ?? NaN);
    return Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && !processIsAlive(pid);
  });
  await Promise.all(orphans.map((n) => rm(join(dir, n), { force: true })));
  return orphans;
}
