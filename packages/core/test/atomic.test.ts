import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { atomicWriteFile, atomicWriteJson } from '../src/index';
import { removeAtomicTmpDebris } from '../src/atomic';
import { tempDir } from '@scan-repro/test-utils';

const root = tempDir('scan-atomic');
const isTmp = (n: string) => n.startsWith('.') && n.includes('.tmp-');

/** Start the writer child and SIGKILL it as soon as a temporary file is visible (i.e. mid-write). */
async function killMidWrite(dir: string, target: string): Promise<boolean> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures/atomic-writer.ts'), target], {
    stdio: 'ignore',
  });
  const exited = new Promise((r) => child.on('exit', r));
  const deadline = Date.now() + 30_000;
  let sawTmp = false;
  while (Date.now() < deadline) {
    if (readdirSync(dir).some(isTmp)) {
      sawTmp = true;
      break;
    }
    await new Promise((r) => setImmediate(r));
  }
  child.kill('SIGKILL');
  await exited;
  return sawTmp && readdirSync(dir).some(isTmp);
}

describe('atomicWriteFile', () => {
  it('writes and replaces, leaving no temporary files', async () => {
    const p = join(root, 'a.json');
    await atomicWriteJson(p, { x: 1 });
    await atomicWriteFile(p, 'second');
    expect(readFileSync(p, 'utf8')).toBe('second');
    expect(readdirSync(root).filter(isTmp)).toEqual([]);
  });

  it('keeps the old file intact when the writer is killed mid-write', async () => {
    const dir = join(root, 'crash');
    mkdirSync(dir);
    const target = join(dir, 'model.bin');
    await atomicWriteFile(target, new Uint8Array(1000).fill(200)); // version "0": 1000 bytes of 200
    let interrupted = 0;
    for (let attempt = 0; attempt < 4 && interrupted === 0; attempt++) {
      if (await killMidWrite(dir, target)) interrupted++;
      // Whatever moment the kill hit, the target is one complete version: old (1000 x 200) or a new full one.
      const bytes = readFileSync(target);
      const first = bytes[0];
      expect(bytes.length === 1000 ? first === 200 : bytes.length === 48 * 1024 * 1024).toBe(true);
      expect(bytes.every((b) => b === first)).toBe(true);
    }
    expect(interrupted).toBeGreaterThan(0); // the test did catch a write in progress
    const debris = readdirSync(dir).filter(isTmp);
    expect(debris.length).toBeGreaterThan(0);
    expect(await removeAtomicTmpDebris(dir)).toEqual(debris);
    expect(readdirSync(dir)).toEqual(['model.bin']);
  }, 120_000);

  it('an injected failure (rename onto a directory) removes the temporary file and leaves the target as it was', async () => {
    const dir = join(root, 'fail');
    mkdirSync(join(dir, 'target', 'inner'), { recursive: true });
    writeFileSync(join(dir, 'target', 'inner', 'keep.txt'), 'keep');
    await expect(atomicWriteFile(join(dir, 'target'), 'data')).rejects.toThrow(/could not write .*target atomically/);
    expect(readdirSync(dir)).toEqual(['target']);
    expect(readFileSync(join(dir, 'target', 'inner', 'keep.txt'), 'utf8')).toBe('keep');
    await expect(atomicWriteFile(join(dir, 'missing', 'x.json'), '{}')).rejects.toThrow(/missing\/x\.json/);
  });
});
