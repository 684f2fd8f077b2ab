// The records behind every table row are committed with the tables: results/runs/<profile>/... mirrors each run
// folder a row depends on (pipeline stages and per-seed evals) with its config.yaml, manifest.json, metrics and
// pictures, never weights or checkpoints. The run folders under runs/ stay git-ignored Nx outputs.
import { existsSync } from 'node:fs';
import { cp, mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ReproduceRecordFile } from './collect';

/** Large or regenerable files that a record does not need: weights, checkpoints, temp files of atomic writes. */
const skipped = (name: string) =>
  name.endsWith('.safetensors') || name.startsWith('checkpoint') || name.includes('.tmp');

/** Copies the records of every complete row into `<resultsDir>/runs/...`; returns the folders copied. */
export async function archiveRuns(root: string, records: ReproduceRecordFile[], resultsDir: string): Promise<string[]> {
  const dirs = new Set<string>();
  for (const rec of records) {
    dirs.add(join('runs', rec.profile, rec.experiment, 'reproduce.json'));
    for (const row of rec.rows) {
      if (row.status !== 'complete') continue;
      for (const d of Object.values(row.pipeline)) dirs.add(d);
      for (const r of row.results) dirs.add(r.dir);
    }
  }
  const copied: string[] = [];
  for (const rel of [...dirs].sort()) {
    const src = join(root, rel);
    if (!existsSync(src)) continue; // already only in the archive (fresh clone): nothing newer to copy
    const dst = join(resultsDir, rel);
    await mkdir(dirname(dst), { recursive: true });
    await cp(src, dst, { recursive: true, force: true, filter: (from) => !skipped(basename(from)) });
    copied.push(rel);
  }
  return copied;
}
