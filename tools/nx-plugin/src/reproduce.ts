// The `reproduce` target of an experiment: after its runnable rows' evals finished (Nx dependencies), write
// runs/<profile>/<experiment>/reproduce.json: for every row, the run folders that hold its numbers, or why it
// did not run (data missing: which file where; unsupported: which feature). tools/tables reads these records.
// Rows without data are recorded and the command exits 0, so `nx run-many -t reproduce` finishes everything else.
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { atomicWriteJson, readManifest } from '@scan-repro/core';
import { evalDir, runDir, type RowPlan } from './graph';
import { loadPlan } from './plugin';
import type { Profile } from './experiment';

export interface ReproduceRecord {
  version: 1;
  experiment: string;
  title: string;
  feeds: string;
  mlflowExperiment: string;
  profile: Profile;
  seeds: number;
  budget?: string;
  writtenAt: string;
  rows: ReproduceRow[];
}
export interface ReproduceRow {
  id: string;
  row: string;
  label: string;
  dataset: string;
  ablation: { factor: string; value: string };
  sweep?: { key: string; value: string };
  metrics: Record<string, string>;
  status: 'complete' | 'data-missing' | 'unsupported' | 'incomplete';
  message?: string;
  /** Stage -> run folder (seeded stages: the folder holding seed-<s>/), relative to the workspace root. */
  pipeline: Record<string, string>;
  /** The run folders whose manifests hold the row's numbers, one per seed. */
  results: { seed: number | null; dir: string; status: string; mlflowRunId?: string }[];
}

const sub = (template: string, profile: string) => template.replace('{args.profile}', profile);

async function mlflowRunId(dir: string): Promise<string | undefined> {
  try {
    return (JSON.parse(await readFile(join(dir, 'mlflow.json'), 'utf8')) as { run_id?: string }).run_id;
  } catch {
    return undefined;
  }
}

export async function recordRow(r: RowPlan, profile: Profile, workspaceRoot: string): Promise<ReproduceRow> {
  const base = {
    id: r.row.id,
    row: r.row.row,
    label: r.row.label,
    dataset: r.row.dataset,
    ablation: r.row.ablation,
    sweep: r.row.sweep,
    metrics: r.row.metrics,
    pipeline: Object.fromEntries(Object.entries(r.nodes).map(([s, n]) => [s, sub(runDir(n!, s), profile)])),
  };
  if (r.row.unsupported) return { ...base, status: 'unsupported', message: r.row.unsupported, results: [] };
  // r.available was checked when the plan was loaded, i.e. now (loadPlan runs in this process).
  if (!r.available.ok) return { ...base, status: 'data-missing', message: r.available.message, results: [] };
  const dirs: { seed: number | null; dir: string }[] = r.evalTarget
    ? Array.from({ length: r.experiment.seeds[profile] }, (_, s) => ({
        seed: s,
        dir: `${sub(evalDir(r.experiment.name, r.row.id), profile)}/seed-${s}`,
      }))
    : [{ seed: null, dir: base.pipeline.mine }];
  const results = [];
  for (const { seed, dir } of dirs) {
    const abs = resolve(workspaceRoot, dir);
    const status = await readManifest(abs).then(
      () => 'complete',
      (e: Error) => `not complete: ${e.message}`,
    );
    results.push({ seed, dir, status, mlflowRunId: await mlflowRunId(abs) });
  }
  const complete = results.every((x) => x.status === 'complete');
  return {
    ...base,
    status: complete ? 'complete' : 'incomplete',
    ...(complete ? {} : { message: results.find((x) => x.status !== 'complete')!.status }),
    results,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { experiment: { type: 'string' }, profile: { type: 'string' } } });
  const profile = values.profile as Profile;
  if (!values.experiment || !['paper', 'cpu', 'ci'].includes(profile)) {
    process.stderr.write('scan-repro: usage: reproduce.ts --experiment NAME --profile paper|cpu|ci\n');
    process.exit(2);
  }
  const workspaceRoot = process.cwd();
  const plan = await loadPlan(workspaceRoot);
  const exp = plan.experiments.find((e) => e.name === values.experiment);
  if (!exp) {
    process.stderr.write(
      `scan-repro: no experiment '${values.experiment}' (expected a folder experiments/${values.experiment}/ with experiment.yaml)\n`,
    );
    process.exit(2);
  }
  const rows = [];
  for (const r of plan.rows.filter((x) => x.experiment === exp)) rows.push(await recordRow(r, profile, workspaceRoot));
  const record: ReproduceRecord = {
    version: 1,
    experiment: exp.name,
    title: exp.title,
    feeds: exp.feeds,
    mlflowExperiment: exp.mlflowExperiment,
    profile,
    seeds: exp.seeds[profile],
    budget: exp.budget[profile],
    writtenAt: new Date().toISOString(),
    rows,
  };
  const file = join(workspaceRoot, 'runs', profile, exp.name, 'reproduce.json');
  await mkdir(dirname(file), { recursive: true });
  await atomicWriteJson(file, record);
  for (const row of rows) {
    const what =
      row.status === 'complete'
        ? `${row.results.length} run(s)`
        : `${row.status}${row.message ? `: ${row.message}` : ''}`;
    process.stdout.write(`${exp.name} ${row.id}: ${what}\n`);
  }
  process.stdout.write(`recorded ${relative(workspaceRoot, file)}\n`);
  // Missing data and unsupported rows are expected outcomes (recorded, exit 0); a row that should have run and
  // has no complete run is a failure.
  if (rows.some((r) => r.status === 'incomplete')) process.exit(1);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) await main();
