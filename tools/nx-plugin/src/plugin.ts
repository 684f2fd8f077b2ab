// The Nx side: createNodesV2 over experiments/*/experiment.yaml. All files are planned together so that a stage
// node used by several experiments is one project (attributed to the first experiment, by name, that uses it).
import { dirname, basename, join } from 'node:path';
import { readdirSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { loadDatasetPackages } from '@scan-repro/data';
import { parseExperiment, type Experiment } from './experiment';
import { buildPlan, experimentProject, nodeProject, type Plan } from './graph';
import { formatRunPlan, formatRunSummary, isStageTarget, makeRunPlan, runsStages } from './run-plan';

export const EXPERIMENT_GLOB = 'experiments/*/experiment.yaml';

type Result = readonly [string, { projects: Record<string, unknown> }];

async function plan(
  files: readonly string[],
  workspaceRoot: string,
): Promise<{ plan: Plan; byName: Map<string, string> }> {
  // The registry says which package reads each dataset: import this workspace's dataset packages first.
  await loadDatasetPackages(workspaceRoot);
  const experiments: Experiment[] = [];
  const byName = new Map<string, string>();
  for (const file of files) {
    const name = basename(dirname(file));
    experiments.push(parseExperiment(name, join(workspaceRoot, file)));
    byName.set(name, file);
  }
  return { plan: buildPlan(experiments, workspaceRoot), byName };
}

/** Plan of every experiment in the workspace (for the runner scripts and the tests). */
export async function loadPlan(workspaceRoot: string): Promise<Plan> {
  const dir = join(workspaceRoot, 'experiments');
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((d) => existsSync(join(dir, d, 'experiment.yaml')))
        .sort()
        .map((d) => `experiments/${d}/experiment.yaml`)
    : [];
  return (await plan(files, workspaceRoot)).plan;
}

async function createNodesFn(
  files: readonly string[],
  _options: unknown,
  context: { workspaceRoot: string },
): Promise<Result[]> {
  const { plan: p, byName } = await plan(files, context.workspaceRoot);
  const out = new Map<string, Record<string, unknown>>();
  for (const exp of p.experiments) {
    const file = byName.get(exp.name)!;
    const root = dirname(file);
    out.set(file, { [root]: experimentProject(exp, p, root) });
  }
  for (const node of p.nodes.values()) {
    const file = byName.get(node.experiments[0])!;
    const project = nodeProject(node, p);
    out.get(file)![project.root] = project;
  }
  return files.map((f) => [f, { projects: out.get(f) ?? {} }] as const);
}

export const createNodesV2 = [EXPERIMENT_GLOB, createNodesFn] as const;
export const createNodes = createNodesV2;

interface HookContext {
  workspaceRoot: string;
  argv: string[];
}
interface TaskResultEntry {
  task: { id: string; target: { target: string }; startTime?: number; endTime?: number };
  status: string;
}

/** Before any task: the plan (tasks, cached ones, rows without data, backend, estimated times). */
export async function preTasksExecution(_options: unknown, context: HookContext): Promise<void> {
  const runPlan = makeRunPlan(await loadPlan(context.workspaceRoot), context.workspaceRoot, context.argv);
  if (runPlan) process.stdout.write(`\n${formatRunPlan(runPlan)}\n\n`);
}

/**
 * With MLFLOW_TRACKING_URI set, `scan-repro mlflow sync` after the tasks: cache hits never run the CLI (and the
 * URI is no task input), so this is how their runs reach the server. A failure here only warns.
 */
function syncMlflow(workspaceRoot: string): void {
  if (!process.env.MLFLOW_TRACKING_URI?.trim()) return;
  const tsx = join(workspaceRoot, 'node_modules', '.bin', 'tsx');
  const r = spawnSync(tsx, [join(workspaceRoot, 'packages/cli/src/main.ts'), 'mlflow', 'sync'], {
    cwd: workspaceRoot,
    stdio: 'inherit',
    env: process.env,
  });
  if (r.status !== 0)
    process.stdout.write(
      `scan-repro: mlflow sync after the tasks did not finish (${r.error?.message ?? `exit ${r.status ?? r.signal}`}); run it again: npm run scan-repro -- mlflow sync\n`,
    );
}

/** After the tasks: each stage task's outcome and time, then the MLflow sync. */
export async function postTasksExecution(
  _options: unknown,
  context: HookContext & { taskResults: Record<string, TaskResultEntry>; startTime: number; endTime: number },
): Promise<void> {
  if (!runsStages(context.argv)) return;
  const outcomes = Object.values(context.taskResults)
    .filter((r) => isStageTarget(r.task.target.target) && r.task.target.target !== 'reproduce')
    .map((r) => ({
      id: r.task.id,
      status: r.status,
      seconds: r.task.startTime && r.task.endTime ? (r.task.endTime - r.task.startTime) / 1000 : 0,
    }));
  process.stdout.write(`\n${formatRunSummary(outcomes, (context.endTime - context.startTime) / 1000)}\n`);
  syncMlflow(context.workspaceRoot);
}
