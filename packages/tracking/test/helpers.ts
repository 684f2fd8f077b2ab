// Shared test fixtures: run folders written by @scan-repro/core's RunFolder, and access to
// the real MLflow server that tools/mlflow/start.sh starts.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { RunFolder, composeConfig, type Manifest } from '@scan-repro/core';

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

export interface RunSpec {
  /** composeConfig overrides on top of dataset=cifar10 profile=ci, e.g. ['scan.entropy_weight=2']. */
  overrides?: string[];
  stage?: string;
  finalMetrics?: Record<string, number>;
  /** Values logged with RunFolder.logMetric, in order. */
  metrics?: { key: string; value: number; step?: number }[];
  /** Artifacts written with RunFolder.writeArtifact (name → bytes). */
  files?: Record<string, Uint8Array>;
  /** Replace a run of another config in the same folder. */
  overwrite?: boolean;
}

/**
 * A completed run folder written by the real @scan-repro/core RunFolder, as a stage run leaves it.
 * The environment is left out of composition so MLFLOW_TRACKING_URI does not leak into tracking.uri.
 */
export async function makeRunFolder(dir: string, spec: RunSpec = {}): Promise<string> {
  const config = composeConfig(['dataset=cifar10', 'profile=ci', ...(spec.overrides ?? [])], { env: {} });
  const run = await RunFolder.create({ dir, stage: spec.stage ?? 'scan', config, overwrite: spec.overwrite });
  for (const m of spec.metrics ?? []) run.logMetric(m.key, m.value, m.step);
  for (const [name, bytes] of Object.entries(spec.files ?? {})) await run.writeArtifact(name, bytes);
  await run.complete({
    metrics: spec.finalMetrics ?? { acc: 0.875, nmi: 0.75 },
    artifacts: Object.keys(spec.files ?? {}),
    backend: 'cpu',
  });
  return dir;
}

/** metrics.jsonl as written, read here independently of the package under test. */
export async function metricsFile(
  dir: string,
): Promise<{ key: string; value: number | null; raw?: string; step?: number; time: string }[]> {
  const text = await readFile(join(dir, 'metrics.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

export async function manifestFile(dir: string): Promise<Manifest> {
  return JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
}

/** Deterministic bytes covering every byte value (no randomness: the tests must repeat exactly). */
export function patternBytes(n: number, salt = 0): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + salt + (i >> 8)) & 0xff;
  return out;
}
