// `npm test` needs a real MLflow server for the tracking tests. When none is given (MLFLOW_TRACKING_URI unset),
// install one into .venv-mlflow if needed and start it for the duration of the test run, so that the README's
// test command works on a fresh machine. SCAN_SKIP_MLFLOW=1 opts out (the MLflow tests are then skipped).
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export default function setup(): (() => void) | void {
  if (process.env.MLFLOW_TRACKING_URI || process.env.SCAN_SKIP_MLFLOW === '1') return;
  // MLFLOW_PORT=auto: a fresh port, leaving the one a developer's own server remembers alone
  const run = (script: string, args: string[] = []) =>
    execFileSync('bash', [join(here, script), ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { MLFLOW_PORT: 'auto', ...process.env },
    });
  console.error('[mlflow] MLFLOW_TRACKING_URI is not set: starting a local MLflow server for the tests (tools/mlflow)');
  run('install.sh');
  const exports = run('start.sh');
  for (const m of exports.matchAll(/^export (\w+)=(.*)$/gm)) process.env[m[1]] = m[2];
  const state = process.env.SCAN_MLFLOW_STATE_DIR;
  return () => {
    run('stop.sh', ['--clean', ...(state ? [state] : [])]);
  };
}
