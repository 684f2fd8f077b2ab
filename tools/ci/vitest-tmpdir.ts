// Every temporary file of a test run — the tests', and those of the nx, CLI and Python processes they start —
// goes into one folder made for the run (TMPDIR, which os.tmpdir() and mktemp read), removed when the run ends,
// so no test can leave anything behind in the system's temp folder.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const previous = process.env.TMPDIR;
  const dir = mkdtempSync(join(tmpdir(), 'scan-repro-tests-'));
  process.env.TMPDIR = dir;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(dir, { recursive: true, force: true });
  };
}
