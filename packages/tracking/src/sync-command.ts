// What `scan-repro mlflow sync` does, so the CLI only parses its options and sets the exit code.
import { syncRecordedRuns, type SyncRecordedOptions } from './sync-records';

/** Uploads the recorded runs the server lacks, prints one line per upload or failure and a summary; resolves to
 *  the exit code (1 if any upload failed). */
export async function runMlflowSync(
  opts: SyncRecordedOptions = {},
  print: (line: string) => void = console.log,
): Promise<number> {
  const report = await syncRecordedRuns(opts);
  for (const key of report.uploaded) print(`uploaded ${key}`);
  for (const f of report.failed) print(`failed   ${f.run_key}: ${f.error}`);
  const failed = report.failed.length ? `, ${report.failed.length} failed` : '';
  print(
    `mlflow sync to ${report.uri}: looked in ${report.looked.join(', ')}${report.searched.length ? ` and run folders under ${report.searched.join(', ')}` : ''}: ` +
      `${report.uploaded.length} uploaded, ` +
      `${report.alreadyPresent.length} already on the server, ${report.skipped.length} skipped (folder gone)${failed}`,
  );
  return report.failed.length > 0 ? 1 : 0;
}
