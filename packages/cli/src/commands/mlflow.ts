// `scan-repro mlflow sync`: upload the runs whose MLflow upload failed earlier (kept in results/mlflow-pending.jsonl).
import type { Command } from 'commander';
import { runMlflowSync } from '@scan-repro/tracking';

export function register(program: Command): void {
  const mlflow = program.command('mlflow').description('MLflow tracking: upload what was missed while the server was unreachable');
  mlflow
    .command('sync')
    .description('upload every pending run exactly once (runs already on the server are recognised by their run key tag)')
    .option('--results-dir <dir>', 'folder holding runs.jsonl and mlflow-pending.jsonl', 'results')
    .option('--uri <uri>', 'MLflow tracking URI (default: the one each run was queued for, or MLFLOW_TRACKING_URI)')
    .addHelpText('after', `
Start a server for browsing and syncing (see README "Tracking"):
  bash tools/mlflow/install.sh && eval "$(bash tools/mlflow/start.sh)"
  scan-repro mlflow sync`)
    .action(async (opts: { resultsDir: string; uri?: string }) => {
      process.exitCode = await runMlflowSync({ resultsDir: opts.resultsDir, uri: opts.uri });
    });
}
