// Shared test fixtures: run folders shaped like the ones @scan-repro/core's RunFolder writes, and access to
// the real MLflow server that tools/mlflow/start.sh starts.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';

export const skipMlflow = process.env.SCAN_SKIP_MLFLOW === '1';

/** The real server's URI, or an error saying how to start one (the MLflow tests must not pass silently). */
export function mlflowUri(): string {
  const uri = process.env.MLFLOW_TRACKING_URI;
  if (!uri) {
    throw new Error(
      'MLFLOW_TRACKING_URI is not set: these tests need a real MLflow server. Start one with\n' +
        '  bash tools/mlflow/install.sh && eval "$(bash tools/mlflow/start.sh)"\n' +
        'then run the tests again (bash tools/mlflow/stop.sh stops it), or set SCAN_SKIP_MLFLOW=1 to skip them.',
    );
  }
  return uri;
}

/** A URI where nothing listens: a port the kernel handed out and that was closed again. */
export async function closedPortUri(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

export async function makeTempDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `scan-tracking-${label}-`));
}

export interface FakeRunSpec {
  configHash: string;
  stage?: string;
  dataset?: string;
  seed?: number;
  finalMetrics?: Record<string, number>;
  /** Points written to metrics.jsonl. */
  metrics?: { key: string; value: number; step: number; timestamp: number }[];
  /** Extra files (name → bytes). */
  files?: Record<string, Uint8Array>;
  trackingTags?: Record<string, string>;
  extraConfig?: Record<string, unknown>;
}

export const START_MS = Date.UTC(2024, 0, 2, 3, 4, 5);
export const END_MS = START_MS + 90_500;

/** Writes a completed run folder: config.yaml, metrics.jsonl, extra files, then manifest.json (last, like core). */
export async function makeRunFolder(dir: string, spec: FakeRunSpec): Promise<string> {
  await mkdir(dir, { recursive: true });
  const config = {
    dataset: { name: spec.dataset ?? 'cifar10', num_classes: 10, mean: [0.4914, 0.4822, 0.4465] },
    scan: { entropy_weight: 5, num_heads: 10, update_cluster_head_only: false },
    profile: { name: 'ci', seed: spec.seed ?? 1 },
    tracking: { tags: spec.trackingTags ?? {} },
    ...spec.extraConfig,
  };
  await writeFile(join(dir, 'config.yaml'), toYaml(config));
  const lines = (spec.metrics ?? []).map((m) => JSON.stringify(m)).join('\n');
  await writeFile(join(dir, 'metrics.jsonl'), lines ? lines + '\n' : '');
  for (const [name, bytes] of Object.entries(spec.files ?? {})) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), bytes);
  }
  const manifest = {
    stage: spec.stage ?? 'scan',
    configHash: spec.configHash,
    codeRevision: 'abc1234',
    backend: 'cpu',
    status: 'completed',
    startTime: new Date(START_MS).toISOString(),
    endTime: new Date(END_MS).toISOString(),
    wallTimeS: 90.5,
    metrics: spec.finalMetrics ?? { acc: 0.875, nmi: 0.75 },
  };
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return dir;
}

/** Deterministic bytes covering every byte value (no randomness: the tests must repeat exactly). */
export function patternBytes(n: number, salt = 0): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + salt + (i >> 8)) & 0xff;
  return out;
}
