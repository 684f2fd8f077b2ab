// MLflow's runs/log-batch limits (mlflow/utils/validation.py, MLflow 2.x and 3.x):
// ≤ 1000 metrics, ≤ 100 params, ≤ 100 tags, ≤ 1000 items in all, and a request body ≤ 1 MB.
import type { MlflowMetric, MlflowParam, MlflowTag } from './mlflow-client';

export const MLFLOW_LIMITS = {
  metricsPerBatch: 1000,
  paramsPerBatch: 100,
  tagsPerBatch: 100,
  itemsPerBatch: 1000,
  /** The server's limit is 1e6 bytes; the rest is headroom for the envelope and number formatting. */
  batchBytes: 900_000,
  paramValueLength: 6000,
  tagValueLength: 8000,
  keyLength: 250,
} as const;

export interface LogBatchPayload {
  metrics: MlflowMetric[];
  params: MlflowParam[];
  tags: MlflowTag[];
}

// Bytes an item adds to the request body (its JSON plus a comma).
const jsonBytes = (item: unknown) => Buffer.byteLength(JSON.stringify(item), 'utf8') + 1;

/**
 * Splits a batch into requests that each satisfy every limit, keeping the order of items of each kind.
 * Params and tags fill each request first, so a run's identity reaches the server before its long metric history.
 */
export function splitLogBatch(batch: LogBatchPayload): LogBatchPayload[] {
  const chunks: LogBatchPayload[] = [];
  let p = 0;
  let t = 0;
  let m = 0;
  while (p < batch.params.length || t < batch.tags.length || m < batch.metrics.length) {
    const chunk: LogBatchPayload = { metrics: [], params: [], tags: [] };
    let items = 0;
    let bytes = 200;
    const fits = (size: number) =>
      items < MLFLOW_LIMITS.itemsPerBatch && (items === 0 || bytes + size <= MLFLOW_LIMITS.batchBytes);
    while (p < batch.params.length && chunk.params.length < MLFLOW_LIMITS.paramsPerBatch) {
      const size = jsonBytes(batch.params[p]);
      if (!fits(size)) break;
      chunk.params.push(batch.params[p++]);
      items++;
      bytes += size;
    }
    while (t < batch.tags.length && chunk.tags.length < MLFLOW_LIMITS.tagsPerBatch) {
      const size = jsonBytes(batch.tags[t]);
      if (!fits(size)) break;
      chunk.tags.push(batch.tags[t++]);
      items++;
      bytes += size;
    }
    while (m < batch.metrics.length && chunk.metrics.length < MLFLOW_LIMITS.metricsPerBatch) {
      const size = jsonBytes(batch.metrics[m]);
      if (!fits(size)) break;
      chunk.metrics.push(batch.metrics[m++]);
      items++;
      bytes += size;
    }
    chunks.push(chunk);
  }
  return chunks;
}
