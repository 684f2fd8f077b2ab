// What `scan-repro mlflow sync` does, so the CLI only parses its options and sets the exit code.
import { syncPending, type SyncOptions } from './track';

/** Uploads the pending runs, prints one line per run and a summary; resolves to the exit code (1 if any failed). */
export async function runMlflowSync(opts: SyncOptions = {}, print: (line: string) => void = console.log): Promise<number> {
  const report = await syncPending(opts);
  for (const key of report.uploaded) print(`uploaded        ${key}`);
  for (const key of report.alreadyPresent) print(`already present ${key}`);
  for (const f of report.failed) print(`still pending   ${f.run_key}: ${f.error}`);
  print(`mlflow sync: ${report.uploaded.length} uploaded, ${report.alreadyPresent.length} already present, ${report.failed.length} still pending`);
  return report.failed.length > 0 ? 1 : 0;
}
