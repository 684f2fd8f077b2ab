// From experiment definitions to the task graph: one node per unique (dataset, stage config, upstream) and one
// eval per experiment row. Identical stages across experiments (all CIFAR-10 SCAN ablations share one SimCLR
// pretext and one mine) become the same node, so Nx runs them once.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { composeConfig, stageHash } from '@scan-repro/core';
import { checkAvailability, datasetInfo, expectedDataPaths, type Availability, type DatasetInfo } from './datasets';
import {
  PROFILES,
  type Experiment,
  type ExperimentRow,
  type Profile,
  type Requirement,
  type Stage,
} from './experiment';

export type TrainStage = Exclude<Stage, 'eval'>;
export const TRAIN_STAGES: TrainStage[] = ['pretext', 'mine', 'scan', 'selflabel'];
/** Stages whose runs are repeated per seed (the paper: 10 runs of the clustering steps from one pretext model). */
export const SEEDED: Stage[] = ['scan', 'selflabel', 'eval'];

export interface StageNode {
  name: string;
  stage: TrainStage;
  dataset: DatasetInfo;
  /** Overrides of this stage and all upstream stages, in stage order: the CLI arguments after dataset=. */
  overrides: string[];
  /** Identity: dataset + cumulative overrides. */
  key: string;
  /** Upstream node names by stage. */
  upstream: Partial<Record<TrainStage, string>>;
  /** Seeds per profile for seeded stages: the largest count any experiment using the node asks for. */
  seeds: Record<Profile, number> | null;
  experiments: string[];
  tables: string[];
  requires: Requirement[];
  available: Availability;
}

export interface RowPlan {
  experiment: Experiment;
  row: ExperimentRow;
  /** Node names of the row's pipeline. */
  nodes: Partial<Record<TrainStage, string>>;
  /** Target name of the row's eval on the experiment project (absent for until: mine rows). */
  evalTarget?: string;
  available: Availability;
}

export interface Plan {
  nodes: Map<string, StageNode>;
  rows: RowPlan[];
  experiments: Experiment[];
  /** Stage targets depend on native:build (the workspace has tools/native). */
  native: boolean;
  workspaceRoot: string;
  /** Training tasks Nx may run at once: 1 unless each uses a single thread (see stageTasksAtOnce). */
  stageTasksAtOnce: number;
}

const slug = (o: string) => {
  const eq = o.indexOf('=');
  const lhs = o.slice(0, eq);
  const key = lhs.includes('.') ? lhs.slice(lhs.lastIndexOf('.') + 1) : lhs;
  return `${key}-${o.slice(eq + 1)}`.replace(/[^A-Za-z0-9_-]/g, '_');
};
const shortHash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 6);

/**
 * A stage's identity: its config hash (core's stageHash: the groups it and everything upstream depend on) under
 * each profile. Two rows whose overrides differ only by values that every profile resolves the same way (e.g.
 * selflabel.threshold=0.99, the dataset file's value) get one node; overrides that a profile would otherwise
 * change (scan.num_neighbors=20 vs the ci profile's 10) keep nodes apart. Also validates every override.
 */
function identityFn(workspaceRoot: string) {
  const cache = new Map<string, string[]>();
  return (stage: Stage, dataset: string, overrides: string[], where = ''): string[] => {
    const k = JSON.stringify([stage, dataset, overrides]);
    let v = cache.get(k);
    if (!v) {
      v = PROFILES.map((p) => {
        try {
          const cfg = composeConfig([`dataset=${dataset}`, `profile=${p}`, ...overrides], {
            configDir: join(workspaceRoot, 'configs'),
            env: {},
          });
          return stageHash(cfg, stage);
        } catch (e) {
          throw new Error(
            `${where}: dataset=${dataset} ${overrides.join(' ')} (profile ${p}): ${(e as Error).message}`,
          );
        }
      });
      cache.set(k, v);
    }
    return v;
  };
}

/**
 * Build the plan. `env` decides data availability (graph-time; the stage runner checks again at run time). The
 * workspace's dataset packages must be loaded (loadDatasetPackages; loadPlan does it).
 */
export function buildPlan(
  experiments: Experiment[],
  workspaceRoot: string,
  env: NodeJS.ProcessEnv = process.env,
): Plan {
  const nodes = new Map<string, StageNode>();
  const byKey = new Map<string, StageNode>();
  const rows: RowPlan[] = [];
  const id = identityFn(workspaceRoot);

  // Rows with the fewest overrides first, so a shared node is named after its plainest use
  // (selflabel.threshold=0.99 from the threshold sweep joins `cifar10-simclr-mine-scan-selflabel`).
  const sortedExperiments = [...experiments].sort((a, b) => a.name.localeCompare(b.name));
  const count = (r: ExperimentRow) => Object.values(r.overrides).reduce((n, l) => n + l.length, 0);
  const order = sortedExperiments
    .flatMap((exp) => exp.rows.map((row) => ({ exp, row })))
    .map((x, i) => ({ ...x, i }))
    .sort((a, b) => count(a.row) - count(b.row) || a.i - b.i);
  const planned = new Map<ExperimentRow, RowPlan>();
  for (const { exp, row } of order) {
    {
      const info = datasetInfo(workspaceRoot, row.dataset, row.overrides.pretext);
      const available = checkAvailability(info.reader, exp.requires, env);
      const plan: RowPlan = { experiment: exp, row, nodes: {}, available };
      planned.set(row, plan);
      if (row.unsupported) continue;
      const last = TRAIN_STAGES.indexOf(row.until);
      let cumulative: string[] = [];
      let parentName = '';
      for (const stage of TRAIN_STAGES.slice(0, last + 1)) {
        const own = row.overrides[stage];
        cumulative = [...cumulative, ...own];
        const key = JSON.stringify([
          stage,
          ...id(stage, row.dataset, cumulative, `${exp.file} row ${row.id}`),
          exp.requires.map((r) => r.env).sort(),
        ]);
        let node = byKey.get(key);
        if (!node) {
          const ownWithoutMethod = own.filter((o) => !o.startsWith('pretext='));
          const base = stage === 'pretext' ? `${row.dataset}-${info.pretext}` : `${parentName}-${stage}`;
          let name = [base, ...ownWithoutMethod.map(slug)].join('-').replace(/_+/g, '_');
          if (nodes.has(name)) name = `${name}-${shortHash(key)}`;
          node = {
            name,
            stage,
            dataset: info,
            overrides: cumulative,
            key,
            upstream: { ...plan.nodes },
            seeds: SEEDED.includes(stage) ? { ...exp.seeds } : null,
            experiments: [],
            tables: [],
            requires: stage === 'pretext' ? exp.requires : [],
            available,
          };
          if (!node.requires.length && node.upstream.pretext)
            node.requires = nodes.get(node.upstream.pretext)!.requires;
          byKey.set(key, node);
          nodes.set(name, node);
        } else if (node.seeds) {
          for (const p of PROFILES) node.seeds[p] = Math.max(node.seeds[p], exp.seeds[p]);
        }
        if (!node.experiments.includes(exp.name)) node.experiments.push(exp.name);
        if (!node.tables.includes(exp.feeds)) node.tables.push(exp.feeds);
        plan.nodes[stage] = node.name;
        parentName = node.name;
      }
      if (row.until !== 'mine') plan.evalTarget = `eval--${row.id}`;
    }
  }
  for (const exp of sortedExperiments) for (const row of exp.rows) rows.push(planned.get(row)!);
  for (const n of nodes.values()) n.experiments.sort();
  return {
    nodes,
    rows,
    experiments,
    native: hasNativeProject(workspaceRoot),
    workspaceRoot,
    stageTasksAtOnce: stageTasksAtOnce(env),
  };
}

// ---- Nx project configurations ----

// node with tsx's loader rather than the tsx wrapper, which costs one more node process per task
const RUNNER = 'node --import tsx tools/nx-plugin/src/run-stage.ts';
/** The project whose `build` target installs native TensorFlow (tools/native); stage targets run after it. */
export const NATIVE_PROJECT = 'native';

/** Whether the workspace has the native build project (throw-away test workspaces may not). */
export const hasNativeProject = (workspaceRoot: string) => existsSync(join(workspaceRoot, 'tools/native/package.json'));

/** Nx project (= npm package) name of each stage's package: named, not imported (the runner loads it via the CLI). */
const STAGE_PACKAGES = Object.fromEntries(
  (['pretext', 'mine', 'scan', 'selflabel', 'eval'] as Stage[]).map((s) => [s, `@scan-repro/${s}`]),
) as Record<Stage, string>;

/**
 * The workspace packages a stage task runs: its stage package, the dataset package, and the CLI's own dependencies
 * other than the stage packages (the CLI imports every stage, but a task runs one). They become the project's
 * implicit dependencies, so `^production` hashes their sources and, through the project graph, everything they
 * import, transitively.
 */
export function stagePackages(workspaceRoot: string, stage: Stage, info: DatasetInfo): string[] {
  const cliFile = join(workspaceRoot, 'packages/cli/package.json');
  const cliDeps = existsSync(cliFile)
    ? Object.keys(
        (JSON.parse(readFileSync(cliFile, 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {},
      )
    : [];
  const stagePkgs = new Set(Object.values(STAGE_PACKAGES));
  return [
    ...new Set([
      STAGE_PACKAGES[stage],
      info.packageName,
      ...cliDeps.filter((d) => d.startsWith('@scan-repro/') && !stagePkgs.has(d)),
    ]),
  ].sort();
}

/** Source inputs of a stage task: the production files of its packages (transitively) and the CLI shell's own. */
const SOURCE_INPUTS = [
  '^production',
  '{workspaceRoot}/packages/cli/src/**/*.ts',
  '!{workspaceRoot}/packages/cli/src/**/*.test.ts',
  '{workspaceRoot}/packages/cli/package.json',
];

function configInputs(dataset: string): string[] {
  return [
    '{workspaceRoot}/configs/config.yaml',
    `{workspaceRoot}/configs/dataset/${dataset}.yaml`,
    '{workspaceRoot}/configs/backbone/*.yaml',
    '{workspaceRoot}/configs/pretext/*.yaml',
    '{workspaceRoot}/configs/profile/*.yaml',
  ];
}

const fingerprintInput = (reader: string) => ({
  runtime: `node tools/nx-plugin/bin/data-fingerprint.mjs ${expectedDataPaths(reader).join(' ')}`,
});

function stageInputs(stage: Stage, info: DatasetInfo, requires: Requirement[]): unknown[] {
  return [
    ...configInputs(info.choice),
    ...SOURCE_INPUTS,
    '{workspaceRoot}/tools/nx-plugin/src/run-stage.ts',
    '{workspaceRoot}/tools/nx-plugin/src/datasets.ts',
    '{workspaceRoot}/package-lock.json',
    // The dataset files themselves: a cheap content fingerprint (sizes and the first/last MiB), so new or changed
    // data re-runs everything on it.
    fingerprintInput(info.reader),
    { env: 'SCAN_DATA_DIR' },
    ...requires.map((r) => ({ env: r.env })),
    // Anything upstream that re-ran (a new manifest.json) re-runs this task and everything below it.
    { dependentTasksOutputFiles: '**/manifest.json', transitive: true },
  ];
}

function profileConfigurations(seeds: Record<Profile, number> | null): Record<string, Record<string, unknown>> {
  return Object.fromEntries(PROFILES.map((p) => [p, { profile: p, ...(seeds ? { seeds: seeds[p] } : {}) }]));
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * A training task uses every core (tfjs-node's pool, or the wasm kernel workers), so Nx runs one at a time; only
 * single-threaded wasm stages (SCAN_BACKEND=wasm SCAN_WASM_THREADS=1, e.g. the ci smoke run, where starting
 * kernel workers costs more than they save) may share the cores, one task per core (`--parallel` sets how many).
 */
export function stageTasksAtOnce(env: NodeJS.ProcessEnv = process.env): number {
  return env.SCAN_BACKEND === 'wasm' && Number(env.SCAN_WASM_THREADS) === 1 ? availableParallelism() : 1;
}

function stageTarget(opts: {
  stage: Stage;
  out: string;
  inputs: Partial<Record<Stage, string>>;
  overrides: string[];
  seeds: Record<Profile, number> | null;
  info: DatasetInfo;
  requires: Requirement[];
  tags: Record<string, string>;
  mlflowExperiment: string;
  dependsOn: { projects: string[]; target: string }[];
  native: boolean;
  tasksAtOnce: number;
}) {
  const inputArgs = Object.entries(opts.inputs).map(([s, dir]) => `--input ${s}=${dir}`);
  const tagArgs = Object.entries(opts.tags).map(([k, v]) => `--tag ${q(`${k}=${v}`)}`);
  const reqArgs = opts.requires.map((r) => `--require ${q(`${r.env}=${r.key}=${r.what}`)}`);
  const command = [
    RUNNER,
    opts.stage,
    `--dataset ${opts.info.choice}`,
    `--reader ${opts.info.reader}`,
    '--profile {args.profile}',
    opts.seeds ? '--seeds {args.seeds}' : '',
    `--out ${opts.out}`,
    ...inputArgs,
    `--mlflow-experiment ${q(opts.mlflowExperiment)}`,
    ...tagArgs,
    ...reqArgs,
    '--',
    `dataset=${opts.info.choice}`,
    ...opts.overrides.map(q),
  ]
    .filter(Boolean)
    .join(' ');
  return {
    executor: 'nx:run-commands',
    options: { command, profile: 'cpu', ...(opts.seeds ? { seeds: opts.seeds.cpu } : {}) },
    parallelism: opts.tasksAtOnce > 1,
    configurations: profileConfigurations(opts.seeds),
    defaultConfiguration: 'cpu',
    cache: true,
    inputs: stageInputs(opts.stage, opts.info, opts.requires),
    outputs: [`{workspaceRoot}/${opts.out.replace('{args.profile}', '{options.profile}')}`],
    dependsOn: [
      ...opts.dependsOn.filter((d) => d.projects.length),
      ...(opts.native ? [{ projects: [NATIVE_PROJECT], target: 'build' }] : []),
    ],
    metadata: { description: `scan-repro ${opts.stage} on ${opts.info.choice}${opts.seeds ? ' (per seed)' : ''}` },
  };
}

export const runDir = (node: string, stage: string) => `runs/{args.profile}/${node}/${stage}`;

export interface NxProject {
  root: string;
  name: string;
  tags: string[];
  targets: Record<string, unknown>;
  implicitDependencies?: string[];
  metadata?: Record<string, unknown>;
}

/** Root folder of an inferred stage-node project (never created; it only keys the project in Nx). */
export const nodeRoot = (name: string) => `experiments/.nodes/${name}`;

export function nodeProject(node: StageNode, plan: Plan): NxProject {
  const single = node.tables.length === 1;
  const upstreamDirs: Partial<Record<Stage, string>> = {};
  for (const [s, n] of Object.entries(node.upstream)) upstreamDirs[s as Stage] = runDir(n!, s);
  const wanted: Record<TrainStage, TrainStage[]> = {
    pretext: [],
    mine: ['pretext'],
    scan: ['pretext', 'mine'],
    selflabel: ['scan'],
  };
  const inputs = Object.fromEntries(wanted[node.stage].map((s) => [s, upstreamDirs[s]!]));
  const parent = node.upstream[TRAIN_STAGES[TRAIN_STAGES.indexOf(node.stage) - 1]];
  return {
    root: nodeRoot(node.name),
    name: node.name,
    tags: [
      'scan-stage',
      `stage:${node.stage}`,
      `dataset:${node.dataset.choice}`,
      ...node.experiments.map((e) => `experiment:${e}`),
      ...node.tables.map((t) => `table:${t}`),
      ...(node.available.ok ? [] : ['data:missing']),
    ],
    // Packages only: `^production` hashes the production files of every implicit dependency, and a stage node has
    // none (its upstream runs come in through dependentTasksOutputFiles).
    implicitDependencies: stagePackages(plan.workspaceRoot, node.stage, node.dataset),
    targets: {
      [node.stage]: stageTarget({
        stage: node.stage,
        out: runDir(node.name, node.stage),
        inputs,
        overrides: node.overrides,
        seeds: node.seeds,
        info: node.dataset,
        requires: node.requires,
        tags: {
          node: node.name,
          tables: node.tables.join(','),
          experiments: node.experiments.join(','),
          ...(single ? { table: node.tables[0] } : {}),
        },
        mlflowExperiment: single ? `scan-repro/${node.tables[0]}` : 'scan-repro/shared-stages',
        dependsOn: parent ? [{ projects: [parent], target: TRAIN_STAGES[TRAIN_STAGES.indexOf(node.stage) - 1] }] : [],
        native: plan.native,
        tasksAtOnce: plan.stageTasksAtOnce,
      }),
    },
    metadata: { scanRepro: { kind: 'stage-node', stage: node.stage, key: node.key } },
  };
}

export const evalDir = (experiment: string, rowId: string) => `runs/{args.profile}/${experiment}/${rowId}/eval`;

export function experimentProject(exp: Experiment, plan: Plan, experimentRoot: string): NxProject {
  const rows = plan.rows.filter((r) => r.experiment === exp);
  const targets: Record<string, unknown> = {};
  const nodesOf = (stage: TrainStage) =>
    [...new Set(rows.map((r) => r.nodes[stage]).filter((n): n is string => !!n))].sort();
  let previous: string | null = null;
  for (const stage of TRAIN_STAGES) {
    const projects = nodesOf(stage);
    targets[stage] = {
      executor: 'nx:noop',
      dependsOn: [...(projects.length ? [{ projects, target: stage }] : []), ...(previous ? [previous] : [])],
      configurations: profileConfigurations(null),
      defaultConfiguration: 'cpu',
      metadata: { description: `every ${stage} run that ${exp.name} needs (shared nodes run once)` },
    };
    previous = stage;
  }
  const evalTargets: string[] = [];
  for (const r of rows) {
    if (!r.evalTarget) continue;
    evalTargets.push(r.evalTarget);
    const n = r.nodes;
    const inputs: Partial<Record<Stage, string>> = {
      pretext: runDir(n.pretext!, 'pretext'),
      mine: runDir(n.mine!, 'mine'),
      scan: runDir(n.scan!, 'scan'),
      ...(n.selflabel ? { selflabel: runDir(n.selflabel, 'selflabel') } : {}),
    };
    const info = plan.nodes.get(n.pretext!)!.dataset;
    const upstream =
      r.row.until === 'selflabel'
        ? { projects: [n.selflabel!], target: 'selflabel' }
        : { projects: [n.scan!], target: 'scan' };
    targets[r.evalTarget] = stageTarget({
      stage: 'eval',
      out: evalDir(exp.name, r.row.id),
      inputs,
      overrides: [...plan.nodes.get(n[r.row.until]!)!.overrides, ...r.row.overrides.eval],
      seeds: exp.seeds,
      info,
      requires: exp.requires,
      tags: {
        experiment: exp.name,
        table: exp.feeds,
        row: r.row.id,
        ablation: `${r.row.ablation.factor}=${r.row.ablation.value}`,
        ablation_factor: r.row.ablation.factor,
        ablation_value: r.row.ablation.value,
      },
      mlflowExperiment: exp.mlflowExperiment,
      dependsOn: [upstream],
      native: plan.native,
      tasksAtOnce: plan.stageTasksAtOnce,
    });
  }
  targets.eval = {
    executor: 'nx:noop',
    dependsOn: [...evalTargets, 'selflabel'],
    configurations: profileConfigurations(null),
    defaultConfiguration: 'cpu',
  };
  // reproduce: runs what can run and records the rest. Rows whose data is missing are not dependencies, so
  // `nx run-many -t reproduce` finishes the others and exits 0; the record (and the tables) say "data missing".
  const runnable = rows.filter((r) => r.available.ok && !r.row.unsupported);
  const deps = runnable.flatMap((r) => (r.evalTarget ? [r.evalTarget] : []));
  const mineDeps = [...new Set(runnable.filter((r) => !r.evalTarget).map((r) => r.nodes.mine!))];
  const missingReaders = [
    ...new Set(
      rows
        .filter((r) => !r.available.ok)
        .map((r) => plan.nodes.get(r.nodes.pretext ?? '')?.dataset.reader ?? r.row.dataset),
    ),
  ];
  targets.reproduce = {
    executor: 'nx:run-commands',
    options: {
      command: `node --import tsx tools/nx-plugin/src/reproduce.ts --experiment ${exp.name} --profile {args.profile}`,
      profile: 'cpu',
    },
    configurations: profileConfigurations(null),
    defaultConfiguration: 'cpu',
    cache: true,
    inputs: [
      `{projectRoot}/experiment.yaml`,
      '{workspaceRoot}/tools/nx-plugin/src/**/*.ts',
      '{workspaceRoot}/configs/dataset/*.yaml',
      ...missingReaders.map(fingerprintInput),
      { env: 'SCAN_DATA_DIR' },
      ...exp.requires.map((r) => ({ env: r.env })),
      { dependentTasksOutputFiles: '**/manifest.json', transitive: true },
    ],
    outputs: [`{workspaceRoot}/runs/{options.profile}/${exp.name}/reproduce.json`],
    dependsOn: [...deps, ...(mineDeps.length ? [{ projects: mineDeps, target: 'mine' }] : [])],
    metadata: { description: `run ${exp.title} (rows with data) and record every row's runs or why it did not run` },
  };
  const datasets = [...new Set(rows.map((r) => r.row.dataset))];
  const evalInfos = rows.filter((r) => r.evalTarget).map((r) => plan.nodes.get(r.nodes.pretext!)!.dataset);
  return {
    root: experimentRoot,
    name: exp.name,
    implicitDependencies: [
      ...new Set(evalInfos.flatMap((info) => stagePackages(plan.workspaceRoot, 'eval', info))),
    ].sort(),
    tags: [
      'experiment',
      `table:${exp.feeds}`,
      ...datasets.map((d) => `dataset:${d}`),
      ...(rows.some((r) => !r.available.ok) ? ['data:missing'] : ['data:complete']),
    ],
    targets,
    metadata: { scanRepro: { kind: 'experiment', feeds: exp.feeds, title: exp.title, budget: exp.budget } },
  };
}
