// The command behind every inferred stage target: check the data, then run `scan-repro <stage>` once (pretext,
// mine) or once per seed (scan, selflabel, eval: seeds 0..n-1 of the profile). The CLI hands each finished run
// folder to tracking (local record + MLflow); this passes the experiment's MLflow experiment and tags to it as
// tracking.experiment / tracking.tags.* overrides (not part of any config hash).
//
//   node --import tsx tools/nx-plugin/src/run-stage.ts <stage> --dataset D --reader R --profile P [--seeds N] --out DIR
//       [--input stage=DIR ...] [--mlflow-experiment NAME] [--tag k=v ...] [--require ENV=key=what ...] -- overrides...
//
// Nx only runs this when the task hash changed (code, configs, data, or an upstream manifest), so a run folder
// from an earlier hash is stale and is replaced. The one exception is a task that failed part-way: seed folders
// it completed carry its hash (file nx-task-hash) and are kept, so a rerun continues with the next seed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadDatasetPackages } from '@scan-repro/data';
import { checkAvailability } from './datasets';
import type { Requirement } from './experiment';

export const TASK_HASH_FILE = 'nx-task-hash';
export const EXIT_DATA_MISSING = 3;
const SEEDED_INPUTS = ['scan', 'selflabel'];

const workspaceRoot = process.cwd();
const repoOfThisFile = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

function fail(message: string, code = 1): never {
  process.stderr.write(`scan-repro: ${message}\n`);
  process.exit(code);
}

function manifestStatus(dir: string): string | null {
  try {
    return (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { status?: string }).status ?? null;
  } catch {
    return null;
  }
}

/**
 * A single run goes through the CLI in this process: a second node process would start node, tsx and the
 * workspace's modules again (seconds per task, most of a ci task). Several seeds get one child process each, so
 * that every seed starts with fresh memory and backend state and a crash keeps the seeds done before it.
 */
async function runCliHere(cli: string, args: string[]): Promise<{ code: number; exit: string }> {
  const { runCli } = (await import(pathToFileURL(resolve(workspaceRoot, dirname(cli), 'run.ts')).href)) as {
    runCli: (args: string[]) => Promise<number>;
  };
  const code = await runCli(args);
  return { code, exit: String(code) };
}

function runCliChild(args: string[]): { code: number; exit: string } {
  // node with tsx's loader, not the tsx wrapper (which starts one more node process)
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...args], {
    stdio: 'inherit',
    cwd: workspaceRoot,
    env: process.env,
  });
  if (r.error) fail(`could not start ${process.execPath} --import tsx: ${r.error.message}`);
  return { code: r.status ?? 1, exit: String(r.status ?? r.signal) }; // a signal (SIGKILL: out of memory?) by name
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const dash = argv.indexOf('--');
  const overrides = dash >= 0 ? argv.slice(dash + 1) : [];
  const { values, positionals } = parseArgs({
    args: dash >= 0 ? argv.slice(0, dash) : argv,
    allowPositionals: true,
    options: {
      dataset: { type: 'string' },
      reader: { type: 'string' },
      profile: { type: 'string' },
      seeds: { type: 'string' },
      out: { type: 'string' },
      input: { type: 'string', multiple: true, default: [] },
      'mlflow-experiment': { type: 'string' },
      tag: { type: 'string', multiple: true, default: [] },
      require: { type: 'string', multiple: true, default: [] },
    },
  });
  const stage = positionals[0];
  if (!stage || !values.dataset || !values.reader || !values.profile || !values.out) {
    fail(
      'run-stage: usage: run-stage.ts <stage> --dataset D --reader R --profile P [--seeds N] --out DIR ... -- overrides',
      2,
    );
  }
  if (!['paper', 'cpu', 'ci'].includes(values.profile))
    fail(`run-stage: --profile ${values.profile}: expected paper, cpu or ci`, 2);
  const requires: Requirement[] = values.require.map((r) => {
    const [env, key, ...what] = r.split('=');
    return { env, key, what: what.join('=') };
  });

  await loadDatasetPackages(workspaceRoot);
  const availability = checkAvailability(values.reader, requires);
  if (!availability.ok) {
    fail(`${stage} on ${values.dataset} cannot run: data missing. ${availability.message}`, EXIT_DATA_MISSING);
  }

  const seeds = values.seeds === undefined ? [null] : Array.from({ length: Number(values.seeds) }, (_, i) => i);
  if (
    seeds.some((s) => s !== null && !Number.isInteger(s)) ||
    (values.seeds !== undefined && !(Number(values.seeds) >= 1))
  ) {
    fail(`run-stage: --seeds ${values.seeds}: expected a count >= 1`, 2);
  }
  const tags = Object.fromEntries(values.tag.map((t) => [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1)]));
  // The records of experiment runs at the committed profiles go to results/ (committed); ci records stay in the
  // profile's git-ignored runs/ci/records, one-off CLI runs in runs/records.
  const resultsDir = process.env.SCAN_RESULTS_DIR
    ? resolve(process.env.SCAN_RESULTS_DIR)
    : values.profile === 'ci'
      ? undefined
      : join(workspaceRoot, 'results');
  const taskHash = process.env.NX_TASK_HASH ?? '';
  const cli = existsSync(join(workspaceRoot, 'packages/cli/src/main.ts'))
    ? 'packages/cli/src/main.ts'
    : join(repoOfThisFile, 'packages/cli/src/main.ts');

  for (const seed of seeds) {
    const out = resolve(workspaceRoot, seed === null ? values.out : join(values.out, `seed-${seed}`));
    const marker = join(out, TASK_HASH_FILE);
    const sameTask = taskHash !== '' && existsSync(marker) && readFileSync(marker, 'utf8').trim() === taskHash;
    const status = manifestStatus(out);
    if (sameTask && status === 'complete') {
      process.stdout.write(
        `${stage}${seed === null ? '' : ` seed ${seed}`}: complete from an earlier attempt of this task (${out})\n`,
      );
    } else {
      if (!sameTask) rmSync(out, { recursive: true, force: true }); // stale: made under another task hash
      mkdirSync(out, { recursive: true });
      writeFileSync(marker, `${taskHash}\n`);
      const inputs = values.input.map((i) => {
        const [name, dir] = [i.slice(0, i.indexOf('=')), i.slice(i.indexOf('=') + 1)];
        return `${name}=${seed !== null && SEEDED_INPUTS.includes(name) ? join(dir, `seed-${seed}`) : dir}`;
      });
      const args = [
        cli,
        stage,
        overrides[0],
        `profile=${values.profile}`,
        ...overrides.slice(1),
        ...requires.map((r) => `${r.key}=${resolve(process.env[r.env]!)}`),
        ...(seed === null ? [] : [`profile.seed=${seed}`, `tracking.tags.seed=${seed}`]),
        ...(values['mlflow-experiment'] ? [`tracking.experiment=${values['mlflow-experiment']}`] : []),
        ...Object.entries(tags).map(([k, v]) => `tracking.tags.${k}=${v}`),
        ...(resultsDir ? [`tracking.results_dir=${resultsDir}`] : []),
        '--out',
        out,
        ...inputs.flatMap((i) => ['--input', i]),
        ...(status === 'complete' ? ['--force'] : []),
      ];
      process.stdout.write(`$ scan-repro ${args.slice(1).join(' ')}\n`);
      const r = seeds.length === 1 ? await runCliHere(cli, args.slice(1)) : runCliChild(args);
      if (r.code !== 0)
        fail(
          `${stage}${seed === null ? '' : ` seed ${seed}`} on ${values.dataset} failed (exit ${r.exit}); run folder ${out}`,
          r.code,
        );
    }
  }
}

await main();
