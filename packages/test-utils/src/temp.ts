import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, onTestFinished } from 'vitest';

function makeDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `${prefix}-`));
}

function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * A fresh folder under the system temp folder, removed after the tests of the file or describe block it is
 * made in. Call it in a file or describe body (a hook or test registers no afterAll; use testTempDir there).
 */
export function tempDir(prefix: string): string {
  const dir = makeDir(prefix);
  afterAll(() => removeDir(dir));
  return dir;
}

/**
 * A function that makes a fresh folder `<prefix>-<label>-XXXXXX` on each call, also inside tests; all of them are
 * removed after the tests of the file or describe block the function is made in.
 */
export function tempDirs(prefix: string): (label?: string) => string {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach(removeDir));
  return (label) => {
    const dir = makeDir(label ? `${prefix}-${label}` : prefix);
    dirs.push(dir);
    return dir;
  };
}

/** A fresh folder for the running test (call it in a test or a beforeEach hook), removed when the test ends. */
export function testTempDir(prefix: string): string {
  const dir = makeDir(prefix);
  onTestFinished(() => removeDir(dir));
  return dir;
}
