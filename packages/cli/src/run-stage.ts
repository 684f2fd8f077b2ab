// Generic stage runner behind every `scan-repro <stage>` command:
// compose config -> pick run folder and inputs -> skip if already complete -> backend -> run -> manifest -> summary.
import { resolve } from 'node:path';
import {
  composeConfig,
  configToYaml,
  defaultRunDir,
  log,
  readManifest,
  RunFolder,
  stageHash,
  type Manifest,
  type ScanConfig,
  type StageName,
} from '@scan-repro/core';
import { registerAllDatasets } from './datasets';
import { CliError, EXIT } from './errors';
import { loadStage, type StageSpec } from './stages';

export interface StageCommandOptions {
  out?: string;
  input?: string[];
  printConfig?: boolean;
  force?: boolean;
}
export interface StageIo {
  stdout: NodeJS.WritableStream;
  cwd: string;
  env: NodeJS.ProcessEnv;
}
// A variable specifier keeps the CLI's typecheck independent of the backend package's (its API is in architecture.md).
const BACKEND_MODULE = '@scan-repro/backend';
const defaultIo = (): StageIo => ({ stdout: process.stdout, cwd: process.cwd(), env: process.env });

function parseInputs(spec: StageSpec, values: string[], cwd: string): Map<string, string> {
  const allowed = [...spec.inputs, ...(spec.optionalInputs ?? [])];
  const out = new Map<string, string>();
  for (const v of values) {
    const eq = v.indexOf('=');
    const name = v.slice(0, eq);
    if (eq <= 0 || !v.slice(eq + 1)) throw new CliError(`--input ${v}: expected name=DIR`, EXIT.usage);
    if (!allowed.includes(name as StageName)) {
      throw new CliError(
        `--input ${v}: stage ${spec.name} takes ${allowed.length ? allowed.join(', ') : 'no inputs'}`,
        EXIT.usage,
      );
    }
    out.set(name, resolve(cwd, v.slice(eq + 1)));
  }
  return out;
}

/** Upstream run folders: given ones as they are (with a warning if made with another config), missing ones from
 *  the default run folder of this config, which must be complete. */
async function resolveInputs(
  spec: StageSpec,
  cfg: ScanConfig,
  given: Map<string, string>,
): Promise<Record<string, string>> {
  const inputs: Record<string, string> = {};
  const wanted: [StageName, boolean][] = [
    ...spec.inputs.map((n) => [n, true] as [StageName, boolean]),
    ...(spec.optionalInputs ?? []).map((n) => [n, false] as [StageName, boolean]),
  ];
  for (const [name, required] of wanted) {
    const expected = stageHash(cfg, name);
    const dir = given.get(name);
    if (dir) {
      const m = await readManifest(dir).catch((e: Error) => {
        throw new CliError(`input ${name}: ${e.message}`);
      });
      if (m.configHash !== expected) {
        log.warn(
          `input ${name} (${dir}) was made with config hash ${m.configHash.slice(0, 12)}; this config expects ${expected.slice(0, 12)}: using it as given`,
        );
      }
      inputs[name] = dir;
      continue;
    }
    const fallback = defaultRunDir(cfg, name);
    if (await RunFolder.isComplete(fallback, expected)) inputs[name] = fallback;
    else if (required) {
      throw new CliError(
        `stage ${spec.name} needs input '${name}': pass --input ${name}=DIR, or run \`scan-repro ${name}\` ` +
          `with the same config first (looked for a complete run in ${fallback})`,
      );
    }
  }
  return inputs;
}

function formatSummary(m: Manifest, dir: string): string {
  const lines = [
    `${m.stage} ${m.status} in ${m.wallTimeS?.toFixed(1) ?? '?'} s on ${m.backend ?? '?'} backend`,
    `run folder: ${dir}`,
  ];
  const keys = Object.keys(m.metrics).sort();
  if (keys.length) {
    const width = Math.max(...keys.map((k) => k.length));
    lines.push('metrics:', ...keys.map((k) => `  ${k.padEnd(width)}  ${formatNumber(m.metrics[k])}`));
  }
  if (m.summary) lines.push(m.summary);
  return lines.join('\n') + '\n';
}
const formatNumber = (v: number) =>
  v === null || v === undefined ? 'n/a' : Number.isInteger(v) ? String(v) : v.toPrecision(5);

/** Run one stage as `scan-repro <stage> [overrides...]` does. Returns the manifest (null for --print-config). */
export async function runStageCommand(
  spec: StageSpec,
  overrides: string[],
  opts: StageCommandOptions,
  io: StageIo = defaultIo(),
): Promise<Manifest | null> {
  const args = opts.out ? [...overrides, `run.out=${resolve(io.cwd, opts.out)}`] : overrides;
  const cfg = composeConfig(args, { env: io.env, cwd: io.cwd });
  const hash = stageHash(cfg, spec.name);
  const out = cfg.run.out || defaultRunDir(cfg, spec.name);
  const given = parseInputs(spec, opts.input ?? [], io.cwd);

  if (opts.printConfig) {
    io.stdout.write(`${configToYaml(cfg)}# stage: ${spec.name}\n# stage config hash: ${hash}\n# run folder: ${out}\n`);
    return null;
  }
  if (!opts.force && (await RunFolder.isComplete(out, hash))) {
    const m = await readManifest(out);
    io.stdout.write(
      `${spec.name}: already complete for this config (hash ${hash.slice(0, 12)}); use --force to run it again\n`,
    );
    io.stdout.write(formatSummary(m, out));
    return m;
  }
  const inputs = await resolveInputs(spec, cfg, given);
  const fn = await loadStage(spec);
  // Stages open the dataset by name and never import dataset packages: register them all here, the shell.
  await registerAllDatasets({ need: cfg.dataset.name });

  log.info(
    `${spec.name}: profile ${cfg.profile.name} (seed ${cfg.profile.seed}), dataset ${cfg.dataset.subset || cfg.dataset.name}, config hash ${hash.slice(0, 12)}`,
  );
  let backend: { name: string; reason: string };
  try {
    // The one place a stage's backend is set up: stages compute on whatever the shell initialised.
    const mod = (await import(BACKEND_MODULE)) as {
      initBackendFromConfig?: (b: ScanConfig['backend'], o: object) => Promise<{ name: string; reason: string }>;
    };
    if (typeof mod.initBackendFromConfig !== 'function')
      throw new Error('@scan-repro/backend does not export initBackendFromConfig');
    backend = await mod.initBackendFromConfig(cfg.backend, { quiet: true });
  } catch (e) {
    throw new CliError(
      `backend '${cfg.backend.name}' is not available: ${String((e as Error)?.message ?? e).split('\n')[0]}`,
    );
  }
  log.info(`${spec.name}: backend ${backend.name} (${backend.reason})`);
  for (const [name, dir] of Object.entries(inputs)) log.info(`${spec.name}: input ${name} = ${dir}`);

  const run = await RunFolder.create({ dir: out, stage: spec.name, config: cfg, inputs });
  log.info(`${spec.name}: run folder ${run.dir}`);
  let manifest: Manifest;
  try {
    const result = await fn(cfg, run, inputs);
    manifest = await run.complete({ ...result, backend: backend.name });
  } catch (e) {
    await run.fail(e, backend.name).catch(() => undefined);
    throw e;
  }
  io.stdout.write(formatSummary(manifest, run.dir));
  await recordRun(run.dir, cfg);
  return manifest;
}

/** Hand the finished run to tracking: a local record always, MLflow when tracking.uri / MLFLOW_TRACKING_URI is set.
 *  Tracking never fails the stage: a server that is down leaves the run queued for `scan-repro mlflow sync`. */
async function recordRun(dir: string, cfg: ScanConfig): Promise<void> {
  const { trackRun } = await import('@scan-repro/tracking');
  const result = await trackRun(dir); // uri, experiment, tags and results folder come from the run's own config
  const state = result.mlflow.state;
  log.info(
    `tracking: recorded in ${cfg.tracking.results_dir}; MLflow ${state === 'disabled' ? 'off (no tracking.uri / MLFLOW_TRACKING_URI)' : state}`,
  );
}
