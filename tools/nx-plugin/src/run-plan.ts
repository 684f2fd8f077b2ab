// What a `nx run-many -t reproduce` (or `nx run <experiment>:reproduce`, or a stage target) is about to do, printed
// before any task starts (the plugin's preTasksExecution hook), and what it did, printed at the end
// (postTasksExecution): the stage tasks, those with a complete run here (Nx replays them from its cache unless an
// input changed), rows skipped for missing data, the backend and threads the stages will use, and an estimated
// time per task from the wall times recorded for that task, profile and backend (or "unknown").
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { evalDir, runDir, type Plan, type TrainStage } from './graph';
import { PROFILES, type Profile } from './experiment';

export interface PlannedTask {
  /** Nx task id, project:target */
  id: string;
  dir: string;
  seeds: number | null;
  /** all its run folders hold a complete manifest (an earlier run in this checkout) */
  done: boolean;
  /** seconds, from a recorded run of the same task, profile and backend */
  estimateS: number | null;
  /** the estimate comes from other tasks of the same stage (no record of this one) */
  estimateFromSimilar?: boolean;
}

export interface RunPlan {
  profile: Profile;
  backend: { name: string; threads: number; why: string };
  /** training tasks Nx may run at once (Plan.stageTasksAtOnce) */
  tasksAtOnce: number;
  tasks: PlannedTask[];
  /** experiment row ids skipped for missing data, with the reason */
  missing: { row: string; message: string }[];
}

const STAGE_TARGETS = new Set(['pretext', 'mine', 'scan', 'selflabel', 'eval', 'reproduce']);

/** The targets, projects and configuration of an nx command line, when it runs scan-repro stage targets. */
export function parseNxArgv(
  argv: string[],
): { targets: string[]; projects: string[] | null; configuration: string } | null {
  const args = argv.slice(argv.findIndex((a) => /(^|\/)nx(\.js)?$/.test(a)) + 1);
  const value = (names: string[]): string | undefined => {
    for (let i = 0; i < args.length; i++) {
      for (const n of names) {
        if (args[i] === n) return args[i + 1];
        if (args[i].startsWith(`${n}=`)) return args[i].slice(n.length + 1);
      }
    }
    return undefined;
  };
  const configuration = value(['-c', '--configuration']) ?? 'cpu';
  if (args[0] === 'run-many') {
    const targets = (value(['-t', '--targets', '--target']) ?? '').split(',').filter(Boolean);
    const p = value(['-p', '--projects']);
    return { targets, projects: p ? p.split(',').filter(Boolean) : null, configuration };
  }
  const spec = args[0] === 'run' ? args[1] : args[0];
  const m = spec && /^([^:\s]+):([^:\s]+)(?::([^:\s]+))?$/.exec(spec);
  if (!m) return null;
  return { targets: [m[2]], projects: [m[1]], configuration: m[3] ?? configuration };
}

interface Manifest {
  status?: string;
  wallTimeS?: number;
  backend?: string;
}
const readJson = <T>(file: string): T | null => {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
};

/** Manifests of a task's run folders (one, or one per seed) under a runs root. */
function manifests(root: string, dir: string, seeds: number | null): (Manifest | null)[] {
  const folders = seeds === null ? [dir] : Array.from({ length: seeds }, (_, s) => join(dir, `seed-${s}`));
  return folders.map((d) => readJson<Manifest>(join(root, d, 'manifest.json')));
}

/** Recorded wall time of a task (all seeds) on a backend: from the run folders here, else the archived records. */
function recordedSeconds(workspaceRoot: string, dir: string, seeds: number | null, backend: string): number | null {
  for (const root of [workspaceRoot, join(workspaceRoot, 'results')]) {
    const ms = manifests(root, dir, seeds);
    if (ms.every((m) => m?.status === 'complete' && m.backend === backend && typeof m.wallTimeS === 'number')) {
      return ms.reduce((t, m) => t + m!.wallTimeS!, 0);
    }
  }
  return null;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const stageOf = (id: string) => id.split(':')[1].replace(/^eval--.*/, 'eval');

/** The backend the stages will pick (backend init's auto order), predicted before native:build has run. */
export function predictBackend(workspaceRoot: string, env: NodeJS.ProcessEnv = process.env): RunPlan['backend'] {
  const cores = availableParallelism();
  const wasmThreads = Number(env.SCAN_WASM_THREADS) > 0 ? Number(env.SCAN_WASM_THREADS) : cores;
  const forced = env.SCAN_BACKEND && env.SCAN_BACKEND !== 'auto' ? env.SCAN_BACKEND : null;
  const installed = existsSync(join(workspaceRoot, 'node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node'));
  const nativeOff = ['0', 'false', 'no'].includes(env.SCAN_NATIVE ?? '');
  const status = readJson<{ ok: boolean; reason: string }>(join(workspaceRoot, '.cache/native/status.json'));
  if (forced) return { name: forced, threads: forced === 'wasm' ? wasmThreads : cores, why: 'set by SCAN_BACKEND' };
  if (installed) return { name: 'tensorflow', threads: cores, why: 'native TensorFlow is installed (tools/native)' };
  if (!nativeOff && existsSync(join(workspaceRoot, 'tools/native/build.sh')) && status?.ok !== false) {
    return {
      name: 'tensorflow',
      threads: cores,
      why: 'native:build runs first and installs it (falls back to wasm if it cannot)',
    };
  }
  const why = nativeOff
    ? 'SCAN_NATIVE=0'
    : status?.ok === false
      ? `native build: ${status.reason}`
      : 'no native TensorFlow';
  return { name: 'wasm', threads: wasmThreads, why };
}

function nodeOfTask(plan: Plan, project: string): { stage: TrainStage; seeds: Record<Profile, number> | null } | null {
  const n = plan.nodes.get(project);
  return n ? { stage: n.stage, seeds: n.seeds } : null;
}

/** Whether an nx --projects list (names, globs, tag:table:X / tag:dataset:X / tag:experiment) selects an experiment. */
function selectsExperiment(plan: Plan, name: string, projects: string[] | null): boolean {
  if (projects === null) return true;
  const exp = plan.experiments.find((e) => e.name === name)!;
  const tags = ['experiment', `table:${exp.feeds}`, ...new Set(exp.rows.map((r) => `dataset:${r.dataset}`))];
  const glob = (pattern: string, s: string) =>
    new RegExp(
      `^${pattern
        .split('*')
        .map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    ).test(s);
  return projects.some((p) => (p.startsWith('tag:') ? tags.some((t) => glob(p.slice(4), t)) : glob(p, name)));
}

/** Stage tasks (ids) that the given targets and projects run, upstream included, in a run order. */
export function tasksOf(plan: Plan, targets: string[], projects: string[] | null): string[] {
  const out = new Set<string>();
  const addNode = (name: string): void => {
    const n = plan.nodes.get(name);
    if (!n || !n.available.ok) return;
    for (const up of Object.values(n.upstream)) if (up) addNode(up);
    out.add(`${name}:${n.stage}`);
  };
  for (const exp of plan.experiments) {
    if (!selectsExperiment(plan, exp.name, projects)) continue;
    for (const r of plan.rows.filter((x) => x.experiment === exp && x.available.ok && !x.row.unsupported)) {
      const reaches = (s: TrainStage) => !!r.nodes[s];
      for (const t of targets) {
        if (t === 'reproduce' || t === 'eval') {
          for (const s of ['pretext', 'mine', 'scan', 'selflabel'] as TrainStage[])
            if (reaches(s)) addNode(r.nodes[s]!);
          if (r.evalTarget) out.add(`${exp.name}:${r.evalTarget}`);
        } else if (STAGE_TARGETS.has(t) && reaches(t as TrainStage)) addNode(r.nodes[t as TrainStage]!);
      }
    }
  }
  for (const [name, n] of plan.nodes) if (projects?.includes(name) && targets.includes(n.stage)) addNode(name);
  return [...out];
}

/** Whether an Nx target name is a scan-repro stage target (or reproduce, or a row's eval--<row>). */
export const isStageTarget = (target: string): boolean => STAGE_TARGETS.has(target) || target.startsWith('eval--');

/** Whether an nx command line runs scan-repro stage targets (cheap: no plan is built). */
export const runsStages = (argv: string[]): boolean => !!parseNxArgv(argv)?.targets.some(isStageTarget);

export function makeRunPlan(
  plan: Plan,
  workspaceRoot: string,
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): RunPlan | null {
  const parsed = parseNxArgv(argv);
  if (!parsed || !runsStages(argv)) return null;
  const profile = (PROFILES as readonly string[]).includes(parsed.configuration)
    ? (parsed.configuration as Profile)
    : 'cpu';
  const targets = parsed.targets.map((t) => (t.startsWith('eval--') ? 'eval' : t));
  const backend = predictBackend(workspaceRoot, env);
  const tasks = tasksOf(plan, targets, parsed.projects).map((id): PlannedTask => {
    const [project, target] = id.split(':');
    const node = nodeOfTask(plan, project);
    let dir: string;
    let seeds: number | null;
    if (node) {
      dir = runDir(project, node.stage).replace('{args.profile}', profile);
      seeds = node.seeds ? node.seeds[profile] : null;
    } else {
      const exp = plan.experiments.find((e) => e.name === project)!;
      dir = evalDir(project, target.slice('eval--'.length)).replace('{args.profile}', profile);
      seeds = exp.seeds[profile];
    }
    const done = manifests(workspaceRoot, dir, seeds).every((m) => m?.status === 'complete');
    return {
      id: `${id}:${profile}`,
      dir,
      seeds,
      done,
      estimateS: recordedSeconds(workspaceRoot, dir, seeds, backend.name),
    };
  });
  // Tasks without a record of their own: the median per-seed time of recorded tasks of the same stage.
  const perSeed = new Map<string, number[]>();
  for (const t of tasks)
    if (t.estimateS !== null)
      perSeed.set(stageOf(t.id), [...(perSeed.get(stageOf(t.id)) ?? []), t.estimateS / (t.seeds ?? 1)]);
  for (const t of tasks) {
    const similar = perSeed.get(stageOf(t.id));
    if (t.estimateS === null && similar)
      Object.assign(t, { estimateS: median(similar) * (t.seeds ?? 1), estimateFromSimilar: true });
  }
  const selected = new Set(
    plan.experiments.filter((e) => selectsExperiment(plan, e.name, parsed.projects)).map((e) => e.name),
  );
  const missing = plan.rows
    .filter((r) => selected.has(r.experiment.name) && !r.available.ok)
    .map((r) => ({ row: `${r.experiment.name}/${r.row.id}`, message: r.available.ok ? '' : r.available.message }));
  return { profile, backend, tasksAtOnce: plan.stageTasksAtOnce, tasks, missing };
}

export const formatSeconds = (s: number): string => {
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.round(s / 60);
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
};

export function formatRunPlan(p: RunPlan): string {
  const toRun = p.tasks.filter((t) => !t.done);
  const known = toRun.filter((t) => t.estimateS !== null);
  const total = known.reduce((s, t) => s + t.estimateS!, 0);
  const lines = [
    `scan-repro plan (${p.profile} profile): ${p.tasks.length} stage tasks, ${toRun.length} to run, ${p.tasks.length - toRun.length} with a complete run here (replayed from the Nx cache unless an input changed)`,
    `  backend: ${p.backend.name}, ${p.backend.threads} thread${p.backend.threads === 1 ? '' : 's'} (${p.backend.why}); ${
      p.tasksAtOnce > 1
        ? `up to ${p.tasksAtOnce} single-threaded training tasks at once (nx --parallel)`
        : 'one training task at a time'
    }`,
  ];
  for (const t of p.tasks) {
    const est = t.done
      ? 'done'
      : t.estimateS === null
        ? 'unknown'
        : `~${formatSeconds(t.estimateS)}${t.estimateFromSimilar ? ' (as similar tasks)' : ''}`;
    lines.push(`  ${t.done ? '=' : '+'} ${t.id.padEnd(72)} ${est}`);
  }
  // Rows without data, grouped by what is missing (the first sentence of the message says which dataset where).
  const byReason = new Map<string, string[]>();
  for (const m of p.missing) {
    const reason = m.message.split(/(?<=[.)]) (?=[A-Z])/)[0];
    byReason.set(reason, [...(byReason.get(reason) ?? []), m.row]);
  }
  for (const [reason, rows] of byReason) {
    const experiments = [...new Set(rows.map((r) => r.split('/')[0]))];
    lines.push(
      `  - not run, data missing: ${rows.length} row${rows.length === 1 ? '' : 's'} of ${experiments.join(', ')}: ${reason}`,
    );
  }
  const unknown = toRun.length - known.length;
  lines.push(
    `  estimated time: ${known.length ? `~${formatSeconds(total)}` : 'unknown'}${unknown ? ` plus ${unknown} task${unknown === 1 ? '' : 's'} with no recorded time on ${p.backend.name}` : ''}`,
  );
  return lines.join('\n');
}

export interface TaskOutcome {
  id: string;
  status: string;
  seconds: number;
}

/** The end-of-run summary: each stage task's outcome and time, and the totals. */
export function formatRunSummary(outcomes: TaskOutcome[], wallS: number): string {
  const ran = outcomes.filter((o) => o.status === 'success' || o.status === 'failure');
  const cached = outcomes.filter((o) => o.status.includes('cache'));
  const failed = outcomes.filter((o) => o.status === 'failure');
  const lines = [
    `scan-repro summary: ${outcomes.length} stage tasks in ${formatSeconds(wallS)}: ${ran.length} ran, ${cached.length} from the cache, ${failed.length} failed`,
  ];
  for (const o of [...outcomes].sort((a, b) => b.seconds - a.seconds)) {
    lines.push(
      `  ${o.status === 'failure' ? 'x' : o.status.includes('cache') ? '=' : '+'} ${o.id.padEnd(72)} ${o.status.includes('cache') ? 'cache' : formatSeconds(o.seconds)}${o.status === 'failure' ? '  FAILED' : ''}`,
    );
  }
  return lines.join('\n');
}
