import { describe, expect, it } from 'vitest';
import { MLFLOW_LIMITS, splitLogBatch, type LogBatchPayload } from '../src/batching';

const metrics = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ key: `m${i % 7}`, value: i / 3, step: i, timestamp: 1000 + i }));
const params = (n: number, len = 3) =>
  Array.from({ length: n }, (_, i) => ({ key: `p${i}`, value: String(i).padEnd(len, 'x') }));
const tags = (n: number, len = 3) =>
  Array.from({ length: n }, (_, i) => ({ key: `t${i}`, value: String(i).padEnd(len, 'y') }));

function checkChunks(batch: LogBatchPayload, chunks: LogBatchPayload[]) {
  for (const c of chunks) {
    expect(c.metrics.length).toBeLessThanOrEqual(1000);
    expect(c.params.length).toBeLessThanOrEqual(100);
    expect(c.tags.length).toBeLessThanOrEqual(100);
    expect(c.metrics.length + c.params.length + c.tags.length).toBeLessThanOrEqual(1000);
    expect(c.metrics.length + c.params.length + c.tags.length).toBeGreaterThan(0);
    // the server's request-size limit (1e6 bytes), with the run_id envelope
    expect(Buffer.byteLength(JSON.stringify({ run_id: 'x'.repeat(32), ...c }))).toBeLessThanOrEqual(1_000_000);
  }
  // nothing lost, nothing reordered
  expect(chunks.flatMap((c) => c.metrics)).toEqual(batch.metrics);
  expect(chunks.flatMap((c) => c.params)).toEqual(batch.params);
  expect(chunks.flatMap((c) => c.tags)).toEqual(batch.tags);
}

describe('splitLogBatch', () => {
  it('fills params and tags first, then metrics up to 1000 items per request (counts worked out by hand)', () => {
    const batch = { metrics: metrics(2500), params: params(250), tags: tags(30) };
    const chunks = splitLogBatch(batch);
    // 1: 100 params + 30 tags + 870 metrics; 2: 100 params + 900 metrics; 3: 50 params + 730 metrics
    expect(chunks.map((c) => [c.params.length, c.tags.length, c.metrics.length])).toEqual([
      [100, 30, 870],
      [100, 0, 900],
      [50, 0, 730],
    ]);
    checkChunks(batch, chunks);
  });

  it('caps metrics at 1000 per request when alone', () => {
    const batch = { metrics: metrics(2001), params: [], tags: [] };
    const chunks = splitLogBatch(batch);
    expect(chunks.map((c) => c.metrics.length)).toEqual([1000, 1000, 1]);
    checkChunks(batch, chunks);
  });

  it('splits by request size when values are at their maximum length', () => {
    const batch = {
      metrics: metrics(10),
      params: params(100, MLFLOW_LIMITS.paramValueLength),
      tags: tags(100, MLFLOW_LIMITS.tagValueLength),
    };
    const chunks = splitLogBatch(batch);
    // 100 params of 6000 chars (~0.6 MB) leave room for only ~36 tags of 8000 chars under 0.9 MB
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks[0].params.length).toBe(100);
    expect(chunks[0].tags.length).toBeLessThan(100);
    checkChunks(batch, chunks);
  });

  it('returns no request for an empty batch', () => {
    expect(splitLogBatch({ metrics: [], params: [], tags: [] })).toEqual([]);
  });
});
