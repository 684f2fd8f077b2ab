// A throw-away Nx workspace for the experiment tests: the real nx.json, configs, nx-plugin and a copy of the
// packages' sources (so that editing one changes exactly that package's hash), node_modules linked to the repo's
// (execution goes through node_modules/@scan-repro/* = the real packages), and the experiments the test gives.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(fileURLToPath(new URL('..', import.meta.url)));

export function makeWorkspace(experiments: Record<string, string>): string {
  const ws = mkdtempSync(join(tmpdir(), 'scan-exp-ws-'));
  cpSync(join(REPO, 'nx.json'), join(ws, 'nx.json'));
  cpSync(join(REPO, 'configs'), join(ws, 'configs'), { recursive: true });
  cpSync(join(REPO, 'tools/nx-plugin'), join(ws, 'tools/nx-plugin'), {
    recursive: true,
    filter: (s) => !s.includes('node_modules'),
  });
  for (const p of readdirSync(join(REPO, 'packages'))) {
    const src = join(REPO, 'packages', p);
    if (!existsSync(join(src, 'package.json'))) continue;
    cpSync(join(src, 'package.json'), join(ws, 'packages', p, 'package.json'));
    if (existsSync(join(src, 'src'))) cpSync(join(src, 'src'), join(ws, 'packages', p, 'src'), { recursive: true });
  }
  symlinkSync(join(REPO, 'node_modules'), join(ws, 'node_modules'), 'dir');
  // workspaces: Nx makes projects of package.json files only where the root lists them (the stage targets'
  // implicit dependencies name the packages' projects)
  writeFileSync(
    join(ws, 'package.json'),
    JSON.stringify({ name: 'scan-exp-test-ws', private: true, type: 'module', workspaces: ['packages/*'] }),
  );
  writeFileSync(join(ws, '.gitignore'), 'node_modules/\n.nx/\nruns/\nresults/\n');
  for (const [name, text] of Object.entries(experiments)) {
    mkdirSync(join(ws, 'experiments', name), { recursive: true });
    writeFileSync(join(ws, 'experiments', name, 'experiment.yaml'), text);
  }
  return ws;
}

export interface NxResult {
  status: number;
  out: string;
}

/** Run nx in the workspace the way the docs tell users to (no daemon, no cloud), with its own cache folder.
 *  Asynchronous on purpose: a remote cache server in the test process must keep answering while nx runs. */
export function nx(
  ws: string,
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 600_000,
): Promise<NxResult> {
  return new Promise((resolveResult, reject) => {
    const child = spawn(join(ws, 'node_modules/.bin/nx'), args, {
      cwd: ws,
      env: {
        ...process.env,
        NX_DAEMON: 'false',
        NX_NO_CLOUD: 'true',
        NX_TUI: 'false',
        NX_CACHE_DIRECTORY: join(ws, '.nx/cache'),
        SCAN_RESULTS_DIR: join(ws, 'results'),
        ...env,
      },
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', reject);
    // plain text: under CI=true Nx colours its output, with escape codes inside the lines the tests look for
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveResult({ status: code ?? -1, out: out.replace(/\x1b\[[0-9;]*m/g, '') });
    });
  });
}

/** "Nx read the output from the cache instead of running the command for X out of Y tasks." -> [X, Y] */
export function cacheCounts(out: string): [number, number] | null {
  const m = /from the cache instead of running the command for (\d+) out of (\d+) tasks/.exec(out);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

export function removeWorkspace(ws: string): void {
  rmSync(ws, { recursive: true, force: true });
}

/** Tags of the MLflow runs of an experiment that match a filter (the server at MLFLOW_TRACKING_URI). */
export async function mlflowRunTags(experiment: string, filter: string): Promise<Record<string, string>[]> {
  const { MlflowClient } = await import('@scan-repro/tracking');
  const client = new MlflowClient(process.env.MLFLOW_TRACKING_URI!);
  const exp = await client.getExperimentByName(experiment);
  if (!exp) throw new Error(`MLflow has no experiment '${experiment}'`);
  const runs = await client.searchRuns({ experimentIds: [exp.experiment_id], filter });
  return runs.map((r) => Object.fromEntries(r.data.tags.map((t) => [t.key, t.value])));
}
