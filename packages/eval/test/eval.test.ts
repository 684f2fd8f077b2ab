import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { composeConfig, readManifest, RunFolder } from '@scan-repro/core';
import { confusionMatrixSpec } from '@scan-repro/plots';
import { evaluateClustering, prototypeIndices } from '../src/evaluate';
import { learningCurvePanels, writeFigure } from '../src/figures';
import { tempDir } from '@scan-repro/test-utils';

const tmp = tempDir('eval-figures');

describe('evaluateClustering', () => {
  it('known predictions give the hand / scikit-learn values', () => {
    const target = Int32Array.from([0, 0, 1, 1, 2, 2, 2, 0]);
    const pred = Int32Array.from([1, 1, 0, 0, 2, 0, 2, 1]);
    const ev = evaluateClustering(pred, target, 3, 3, { mapping: 'hungarian' });
    expect(ev.mapping).toBe('hungarian');
    expect(Array.from(ev.clusterToClass)).toEqual([1, 0, 2]);
    expect(ev.acc).toBe(7 / 8);
    // sklearn 1.x normalized_mutual_info_score / adjusted_rand_score / adjusted_mutual_info_score(target, pred)
    expect(ev.nmi).toBeCloseTo(0.7794365191085162, 12);
    expect(ev.ari).toBeCloseTo(0.6190476190476191, 12);
    expect(ev.ami).toBeCloseTo(0.6598363252848235, 10);
    expect(Array.from(ev.confusion)).toEqual([3, 0, 0, 0, 2, 0, 0, 1, 2]);
  });

  it('overclustering (more clusters than classes) uses the many-to-one majority mapping', () => {
    const target = Int32Array.from([0, 0, 0, 1, 1, 1]);
    const pred = Int32Array.from([0, 0, 1, 2, 3, 1]);
    const ev = evaluateClustering(pred, target, 4, 2, { mapping: 'hungarian' });
    expect(ev.mapping).toBe('majority');
    expect(Array.from(ev.clusterToClass)).toEqual([0, 0, 1, 1]); // cluster 1 ties 1:1 -> first class
    expect(ev.acc).toBe(5 / 6);
    expect(Array.from(ev.confusion)).toEqual([3, 0, 1, 2]);
  });

  it('top-5 goes through the same mapping', () => {
    const C = 6;
    const target = Int32Array.from([0, 1, 1, 2, 2, 2]);
    // rankings (best first); argmax = first entry
    const rankings = [
      [0, 1, 2, 3, 4, 5],
      [1, 0, 2, 3, 4, 5],
      [1, 2, 0, 3, 4, 5],
      [2, 0, 1, 3, 4, 5],
      [0, 2, 1, 3, 4, 5],
      [1, 0, 3, 4, 5, 2],
    ];
    const probs = new Float32Array(6 * C);
    rankings.forEach((r, i) => r.forEach((k, rank) => (probs[i * C + k] = [0.5, 0.2, 0.12, 0.08, 0.06, 0.04][rank])));
    const pred = Int32Array.from(rankings, (r) => r[0]);
    const ev = evaluateClustering(pred, target, C, C, { mapping: 'hungarian', probs, top5: true });
    expect(Array.from(ev.clusterToClass).slice(0, 3)).toEqual([0, 1, 2]);
    expect(ev.acc).toBe(4 / 6); // samples 4 and 5 are wrong at top-1
    expect(ev.top5).toBe(5 / 6); // sample 4 has cluster 2 second; sample 5 has it sixth
  });
});

describe('prototypeIndices', () => {
  it('takes the top-k confident members of each cluster and returns the one nearest their mean; -1 for an empty cluster', () => {
    // cluster 0: samples 0..3 (confidences .9 .8 .7 .6), features 0, 1, 2, 10 -> top 3 = {0,1,2}, mean 1 -> sample 1
    const probs = Float32Array.from([0.9, 0.1, 0, 0.8, 0.2, 0, 0.7, 0.3, 0, 0.6, 0.4, 0, 0.2, 0.8, 0]);
    const features = Float32Array.from([0, 1, 2, 10, 5]);
    expect(Array.from(prototypeIndices(probs, features, 5, 3))).toEqual([1, 4, -1]);
    // with top-4 the outlier enters: mean 3.25 -> sample 2 (distance 1.25) is nearest
    expect(prototypeIndices(probs, features, 5, 4)[0]).toBe(2);
  });
});

describe('figures', () => {
  /** A run folder's metrics.jsonl as RunFolder.logMetric writes it (a non-finite value is null). */
  function metricsDir(name: string, rows: [string, number | null, number][]): string {
    const dir = join(tmp, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'metrics.jsonl'),
      rows.map(([key, value, step]) => JSON.stringify({ key, value, step, time: 't' })).join('\n') + '\n',
    );
    return dir;
  }

  it('learning curves: one panel per stage and metric, fractions in percent, unlisted keys and nulls left out', async () => {
    const pretext = metricsDir('pretext', [
      ['loss', 6.5, 1],
      ['lr', 0.2, 1],
      ['knn_accuracy', 0.25, 1],
      ['loss', 5.75, 2],
      ['knn_accuracy', 0.375, 2],
    ]);
    const scan = metricsDir('scan', [
      ['val_acc/head0', 0.5, 1],
      ['train_loss', -9, 1],
      ['val_loss/head0', -0.25, 1],
      ['best_head', 0, 1],
      ['train_loss', null, 2],
      ['val_acc/head1', 0.9, 1],
    ]);
    const panels = await learningCurvePanels({ pretext, mine: join(tmp, 'none'), scan }, 5);
    expect(panels.map((p) => [p.title, p.metric, p.unit])).toEqual([
      ['pretext', 'loss', 'nats'],
      ['pretext', 'kNN accuracy', '%'],
      ['scan', 'SCAN loss', 'nats'],
      ['scan', 'accuracy', '%'],
    ]);
    expect(panels[0].series).toEqual([
      {
        name: 'train',
        points: [
          { epoch: 1, value: 6.5 },
          { epoch: 2, value: 5.75 },
        ],
      },
    ]);
    expect(panels[1].series[0].points).toEqual([
      { epoch: 1, value: 25 },
      { epoch: 2, value: 37.5 },
    ]);
    expect(panels[2].series).toEqual([
      { name: 'train: consistency − 5·entropy', points: [{ epoch: 1, value: -9 }] },
      { name: 'val, head 0: consistency − entropy', points: [{ epoch: 1, value: -0.25 }] },
    ]);
    expect(panels[3].series).toEqual([{ name: 'val, head 0', points: [{ epoch: 1, value: 50 }] }]);
    expect(await learningCurvePanels({ pretext: join(tmp, 'no-metrics') }, 5)).toEqual([]);
  });

  it('writeFigure records the PNG and its Vega-Lite spec as artifacts of the run', async () => {
    const run = await RunFolder.create({
      dir: join(tmp, 'eval'),
      stage: 'eval',
      config: composeConfig(['profile=ci'], { env: {} }),
    });
    const spec = confusionMatrixSpec([3, 1, 0, 4], ['cat', 'dog']);
    const files = await writeFigure(run, 'confusion', spec);
    expect(files).toEqual(['confusion.png', 'confusion.vl.json']);
    await run.complete({ metrics: {}, artifacts: files, backend: 'cpu' });
    const manifest = await readManifest(run.dir);
    for (const f of files) {
      expect(manifest.artifacts[f].sha256).toBe(
        createHash('sha256')
          .update(readFileSync(join(run.dir, f)))
          .digest('hex'),
      );
    }
    expect(readFileSync(join(run.dir, 'confusion.png')).subarray(1, 4).toString()).toBe('PNG');
    const written = JSON.parse(readFileSync(join(run.dir, 'confusion.vl.json'), 'utf8'));
    expect(written.data.values.map((v: { count: number }) => v.count)).toEqual([3, 1, 0, 4]);
  });
});
