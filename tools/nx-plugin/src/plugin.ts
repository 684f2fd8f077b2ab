// The Nx side: createNodesV2 over experiments/*/experiment.yaml. All files are planned together so that a stage
// node used by several experiments is one project (attributed to the first experiment, by name, that uses it).
import { dirname, basename, join } from 'node:path';
import { readdirSync, existsSync } from 'node:fs';
import { parseExperiment, type Experiment } from './experiment';
import { buildPlan, experimentProject, nodeProject, type Plan } from './graph';

export const EXPERIMENT_GLOB = 'experiments/*/experiment.yaml';

type Result = readonly [string, { projects: Record<string, unknown> }];

function plan(files: readonly string[], workspaceRoot: string): { plan: Plan; byName: Map<string, string> } {
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
export function loadPlan(workspaceRoot: string): Plan {
  const dir = join(workspaceRoot, 'experiments');
  const files = existsSync(dir)
    ? readdirSync(dir).filter((d) => existsSync(join(dir, d, 'experiment.yaml'))).sort().map((d) => `experiments/${d}/experiment.yaml`)
    : [];
  return plan(files, workspaceRoot).plan;
}

async function createNodesFn(files: readonly string[], _options: unknown, context: { workspaceRoot: string }): Promise<Result[]> {
  const { plan: p, byName } = plan(files, context.workspaceRoot);
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
