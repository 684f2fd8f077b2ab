// A run folder holds everything one stage run produced:
//   config.yaml (resolved config), manifest.json (identity, provenance, status; written last on completion),
//   metrics.jsonl (per-step local record), checkpoint.safetensors (resumable state), and the stage's artifacts.
// Rules: a folder belongs to one (stage, config hash); create() refuses a folder of another identity instead of
// overwriting someone's results. A checkpoint is only resumed when its config hash matches (else an error), and only
// when run.resume is true. Every file a later stage reads is written atomically.
import { createHash } from 'node:crypto';
import { appendFileSync, createReadStream } from 'node:fs';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { cpus, platform, arch } from 'node:os';
import { dirname, isAbsolute, join, normalize, resolve } from 'node:path';
import { RUN_FILES } from './artifacts';
import { atomicWriteFile, atomicWriteJson, removeAtomicTmpDebris } from './atomic';
import { configHash, configToYaml, stageConfigGroups, type StageName } from './config';
import type { ScanConfig } from './config-schema';
import { codeRevision, type CodeRevision } from './project';
import { portableConfig, portablePath } from './portable-paths';
import { readSafetensors, writeSafetensors, type NamedArray } from './safetensors';

export interface StageResult {
  metrics: Record<string, number>;
  artifacts: string[];
  summary?: string;
}
export interface Checkpoint {
  epoch: number;
  step: number;
  tensors: Record<string, NamedArray>;
  state?: unknown;
}

export interface ArtifactRecord {
  sha256: string;
  bytes: number;
}
/** dir: the upstream run folder, relative to the workspace root when inside or beside it (portablePath). */
export interface InputRecord {
  dir: string;
  stage: string;
  configHash: string;
  artifacts: Record<string, string /* sha256 */>;
}
export type RunStatus = 'running' | 'complete' | 'failed';
export interface Manifest {
  version: 1;
  stage: string;
  status: RunStatus;
  /** Hash of the config groups this stage depends on (stageConfigGroups); what isComplete() compares. */
  configHash: string;
  /** Hash of the whole config (all groups). */
  fullConfigHash: string;
  codeRevision: CodeRevision;
  inputs: Record<string, InputRecord>;
  artifacts: Record<string, ArtifactRecord>;
  metrics: Record<string, number>;
  summary?: string;
  backend: string | null;
  startedAt: string;
  endedAt: string | null;
  wallTimeS: number | null;
  /**
   * CPU seconds (user + system, every thread of the process) the run used: unlike wall time it does not grow
   * when other work shares the machine. Absent in records made before it existed.
   */
  cpuTimeS?: number | null;
  /** Epoch the run resumed from, when it continued a checkpoint. */
  resumedFromEpoch?: number;
  error?: string;
  host: { platform: string; arch: string; cpus: number; node: string };
}

const { manifest: MANIFEST, config: CONFIG_YAML, metrics: METRICS_JSONL, checkpoint: CHECKPOINT } = RUN_FILES;
const RESERVED: string[] = [MANIFEST, CONFIG_YAML, METRICS_JSONL, CHECKPOINT];

/** The identity hash of a run of `stage` (stages outside stageConfigGroups use the whole config). */
export function runConfigHash(config: ScanConfig, stage: string): string {
  const groups = (stageConfigGroups as Record<string, readonly string[]>)[stage];
  return configHash(config, groups);
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function tryReadManifest(dir: string): Promise<Manifest | null> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST), 'utf8');
  } catch {
    return null;
  }
  try {
    return JSON.parse(text) as Manifest;
  } catch (e) {
    throw new Error(
      `${join(dir, MANIFEST)} is not valid JSON (${(e as Error).message}); delete the run folder to redo it`,
    );
  }
}

/** The manifest of a finished run. Errors name the folder and say what is wrong: missing, not complete, another
 *  config (expectHash), or an artifact whose content changed since the run completed (verify). */
export async function readManifest(
  dir: string,
  opts: { expectHash?: string; allowIncomplete?: boolean; verify?: boolean } = {},
): Promise<Manifest> {
  const m = await tryReadManifest(dir);
  if (!m)
    throw new Error(`${dir} is not a run folder: no ${MANIFEST} (the stage never ran there, or it is the wrong path)`);
  if (m.status !== 'complete' && !opts.allowIncomplete) {
    throw new Error(
      `run in ${dir} (stage ${m.stage}) is not complete: status '${m.status}' since ${m.startedAt}${m.error ? ` (${m.error})` : ''}; rerun the stage`,
    );
  }
  if (opts.expectHash && m.configHash !== opts.expectHash) {
    throw new Error(
      `run in ${dir} (stage ${m.stage}) was made with config hash ${m.configHash.slice(0, 12)}, expected ${opts.expectHash.slice(0, 12)}: it belongs to another config`,
    );
  }
  if (opts.verify) {
    for (const [name, rec] of Object.entries(m.artifacts)) {
      const path = join(dir, name);
      if (!(await exists(path))) throw new Error(`run in ${dir}: artifact ${name} listed in ${MANIFEST} is missing`);
      const sha = await sha256File(path);
      if (sha !== rec.sha256)
        throw new Error(
          `run in ${dir}: artifact ${name} changed since the run completed (sha256 ${sha.slice(0, 12)}, manifest says ${rec.sha256.slice(0, 12)})`,
        );
    }
  }
  return m;
}

/** metrics.jsonl records; a torn last line (crash mid-append) is skipped. */
export async function readMetrics(
  dir: string,
): Promise<{ key: string; value: number | null; step?: number; time: string }[]> {
  let text: string;
  try {
    text = await readFile(join(dir, METRICS_JSONL), 'utf8');
  } catch {
    return [];
  }
  const out = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      /* torn line from an interrupted append */
    }
  }
  return out;
}

function checkArtifactName(dir: string, name: string): string {
  const norm = normalize(name);
  if (!name || isAbsolute(name) || norm.startsWith('..') || RESERVED.includes(norm)) {
    throw new Error(
      `bad artifact name '${name}' for run folder ${dir}: expected a relative path inside it, not one of ${RESERVED.join(', ')}`,
    );
  }
  return norm;
}

export class RunFolder {
  readonly dir: string;
  readonly stage: string;
  readonly config: ScanConfig;
  /** Identity of this run (runConfigHash(config, stage)). */
  readonly hash: string;
  private manifest: Manifest;
  private readonly startMs = Date.now();
  private readonly startCpu = process.cpuUsage();

  private constructor(dir: string, stage: string, config: ScanConfig, hash: string, manifest: Manifest) {
    this.dir = dir;
    this.stage = stage;
    this.config = config;
    this.hash = hash;
    this.manifest = manifest;
  }

  /** Open (or continue) the run folder of `stage` for `config`; inputs are upstream run folders that must be complete
   *  (their config hash and artifact sha256 are recorded). overwrite: replace a folder of another identity. */
  static async create(opts: {
    dir: string;
    stage: string;
    config: ScanConfig;
    inputs?: Record<string, string>;
    overwrite?: boolean;
  }): Promise<RunFolder> {
    const dir = resolve(opts.dir);
    const hash = runConfigHash(opts.config, opts.stage);
    await mkdir(dir, { recursive: true });
    await removeAtomicTmpDebris(dir);

    const previous = await tryReadManifest(dir).catch(() => null);
    let fresh = true;
    if (previous) {
      const sameIdentity = previous.stage === opts.stage && previous.configHash === hash;
      if (!sameIdentity && !opts.overwrite) {
        throw new Error(
          `run folder ${dir} holds a '${previous.stage}' run (status ${previous.status}) with config hash ${previous.configHash.slice(0, 12)}; ` +
            `this '${opts.stage}' run has hash ${hash.slice(0, 12)}. Use another output folder, or delete that one to replace it.`,
        );
      }
      // Same identity and not finished: continue it (its checkpoint is resumed if run.resume).
      fresh = !sameIdentity || previous.status === 'complete' || !opts.config.run.resume;
      if (fresh) for (const name of Object.keys(previous.artifacts ?? {})) await rm(join(dir, name), { force: true });
    }
    if (fresh) {
      await rm(join(dir, CHECKPOINT), { force: true });
      await rm(join(dir, METRICS_JSONL), { force: true });
    }

    const inputs: Record<string, InputRecord> = {};
    for (const [name, inputDir] of Object.entries(opts.inputs ?? {})) {
      const m = await readManifest(resolve(inputDir), { verify: true }).catch((e: Error) => {
        throw new Error(`input '${name}' of stage ${opts.stage}: ${e.message}`);
      });
      inputs[name] = {
        dir: portablePath(resolve(inputDir)),
        stage: m.stage,
        configHash: m.configHash,
        artifacts: Object.fromEntries(Object.entries(m.artifacts).map(([a, r]) => [a, r.sha256])),
      };
    }

    const manifest: Manifest = {
      version: 1,
      stage: opts.stage,
      status: 'running',
      configHash: hash,
      fullConfigHash: configHash(opts.config),
      codeRevision: codeRevision(),
      inputs,
      artifacts: {},
      metrics: {},
      backend: null,
      startedAt: new Date().toISOString(),
      endedAt: null,
      wallTimeS: null,
      host: { platform: platform(), arch: arch(), cpus: cpus().length, node: process.version },
    };
    await atomicWriteFile(join(dir, CONFIG_YAML), configToYaml(portableConfig(opts.config)));
    await atomicWriteJson(join(dir, MANIFEST), manifest);
    return new RunFolder(dir, opts.stage, opts.config, hash, manifest);
  }

  /** True when `dir` holds a complete run with this config hash whose artifacts are all present (sizes checked). */
  static async isComplete(dir: string, hash: string): Promise<boolean> {
    const m = await tryReadManifest(dir).catch(() => null);
    if (!m || m.status !== 'complete' || m.configHash !== hash) return false;
    for (const [name, rec] of Object.entries(m.artifacts)) {
      const s = await stat(join(dir, name)).catch(() => null);
      if (!s || s.size !== rec.bytes) return false;
    }
    return true;
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /** Write an artifact atomically and record its sha256 for the manifest. */
  async writeArtifact(name: string, data: string | Uint8Array): Promise<void> {
    const norm = checkArtifactName(this.dir, name);
    const path = join(this.dir, norm);
    await mkdir(dirname(path), { recursive: true });
    await atomicWriteFile(path, data);
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    this.manifest.artifacts[norm] = {
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.byteLength,
    };
  }

  /** Append one value to metrics.jsonl (local per-step record; tracking uploads it). */
  logMetric(key: string, value: number, step?: number): void {
    const record = {
      key,
      value: Number.isFinite(value) ? value : null,
      ...(Number.isFinite(value) ? {} : { raw: String(value) }),
      step,
      time: new Date().toISOString(),
    };
    appendFileSync(join(this.dir, METRICS_JSONL), JSON.stringify(record) + '\n');
  }

  /** Tensors go into safetensors, epoch/step/state into its metadata: one file, one atomic rename. */
  async saveCheckpoint(state: Checkpoint): Promise<void> {
    const bytes = writeSafetensors(state.tensors, {
      format: 'scan-repro-checkpoint',
      stage: this.stage,
      config_hash: this.hash,
      epoch: String(state.epoch),
      step: String(state.step),
      state: JSON.stringify(state.state ?? null),
      saved_at: new Date().toISOString(),
    });
    await atomicWriteFile(this.path(CHECKPOINT), bytes);
  }

  /** The checkpoint to resume from, or null (none, or run.resume is false). A checkpoint saved under another
   *  config hash is an error rather than silently discarded or silently used. */
  async loadCheckpoint(): Promise<Checkpoint | null> {
    if (!this.config.run.resume) return null;
    let bytes: Uint8Array;
    try {
      bytes = await readFile(this.path(CHECKPOINT));
    } catch {
      return null;
    }
    const { tensors, metadata } = readSafetensors(bytes, this.path(CHECKPOINT));
    if (metadata.format !== 'scan-repro-checkpoint')
      throw new Error(`${this.path(CHECKPOINT)} is not a scan-repro checkpoint (metadata.format = ${metadata.format})`);
    if (metadata.config_hash !== this.hash) {
      throw new Error(
        `${this.path(CHECKPOINT)} was saved by a run with config hash ${metadata.config_hash?.slice(0, 12)}, ` +
          `this run has ${this.hash.slice(0, 12)}: delete the checkpoint to start fresh, or restore the config it was made with`,
      );
    }
    const epoch = Number(metadata.epoch);
    this.manifest.resumedFromEpoch = epoch;
    return { epoch, step: Number(metadata.step), tensors, state: JSON.parse(metadata.state ?? 'null') };
  }

  /** Record the result and write manifest.json last: from then on the run counts as complete. */
  async complete(result: StageResult & { backend: string }): Promise<Manifest> {
    for (const name of result.artifacts) {
      const norm = checkArtifactName(this.dir, name);
      if (this.manifest.artifacts[norm]) continue;
      const path = join(this.dir, norm);
      const s = await stat(path).catch(() => null);
      if (!s?.isFile()) throw new Error(`stage ${this.stage} reported artifact '${name}' but ${path} does not exist`);
      this.manifest.artifacts[norm] = { sha256: await sha256File(path), bytes: s.size };
    }
    const end = Date.now();
    this.manifest = {
      ...this.manifest,
      status: 'complete',
      metrics: { ...result.metrics },
      summary: result.summary,
      backend: result.backend,
      endedAt: new Date(end).toISOString(),
      wallTimeS: (end - this.startMs) / 1000,
      cpuTimeS: this.cpuSeconds(),
    };
    await atomicWriteJson(this.path(MANIFEST), this.manifest);
    return this.manifest;
  }

  /** Mark the run failed (kept for inspection; a rerun with the same config resumes it). */
  async fail(error: unknown, backend?: string): Promise<void> {
    const end = Date.now();
    this.manifest = {
      ...this.manifest,
      status: 'failed',
      error: error instanceof Error ? error.message : String(error),
      backend: backend ?? this.manifest.backend,
      endedAt: new Date(end).toISOString(),
      wallTimeS: (end - this.startMs) / 1000,
      cpuTimeS: this.cpuSeconds(),
    };
    await atomicWriteJson(this.path(MANIFEST), this.manifest);
  }

  private cpuSeconds(): number {
    const { user, system } = process.cpuUsage(this.startCpu);
    return (user + system) / 1e6;
  }
}

export type { StageName };
