// `scan-repro mlflow sync`: upload every locally recorded run that the MLflow server lacks (Nx cache hits,
// runs made without a server, uploads that failed).
import type { Command } from 'commander';
import { NoTrackingUriError, RECORD_FOLDERS, runMlflowSync } from '@scan-repro/tracking';
import { CliError, EXIT } from '../errors';

export function register(program: Command): void {
  const mlflow = program.command('mlflow').description('MLflow tracking: upload recorded runs the server lacks');
  mlflow
    .command('sync')
    .description(
      'upload every recorded run the server lacks, exactly once (runs already there are recognised by their run key tag)',
    )
    .option(
      '--results-dir <dir...>',
      `record folders (runs.jsonl, mlflow-pending.jsonl), relative to the working directory (default: ${RECORD_FOLDERS.join(', ')}, and unrecorded run folders under runs/)`,
    )
    .option('--uri <uri>', 'MLflow tracking URI (default: MLFLOW_TRACKING_URI)')
    .addHelpText(
      'after',
      `
Start a server for browsing and syncing (see README "Tracking"):
  bash tools/mlflow/install.sh && eval "$(bash tools/mlflow/start.sh)"
  scan-repro mlflow sync`,
    )
    .action(async (opts: { resultsDir?: string[]; uri?: string }) => {
      try {
        process.exitCode = await runMlflowSync({ resultsDirs: opts.resultsDir, uri: opts.uri });
      } catch (err) {
        if (err instanceof NoTrackingUriError) throw new CliError(err.message, EXIT.usage);
        throw err;
      }
    });
}
