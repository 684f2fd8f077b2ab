// The eval stage's figures: confusion matrix, prototypes and the learning curves of the upstream runs, each
// written as <name>.png with its Vega-Lite spec <name>.vl.json beside it (both recorded as artifacts).
import { readMetrics, type RunFolder } from '@scan-repro/core';
import { figureFiles, renderFigure, type CurvePanel, type TopLevelSpec } from '@scan-repro/plots';

/** Renders `spec`, writes the PNG (`png`, e.g. ARTIFACTS.confusion) and its spec beside it, returns their names. */
export async function writeFigure(
  run: RunFolder,
  png: string,
  spec: TopLevelSpec,
  opts: { scale?: number } = {},
): Promise<string[]> {
  const files = figureFiles(png.replace(/\.png$/, ''), await renderFigure(spec, opts));
  for (const [file, data] of Object.entries(files)) await run.writeArtifact(file, data);
  return Object.keys(files);
}

interface CurveKey {
  metric: string;
  unit: string;
  series: string;
  percent?: boolean;
}

/**
 * The per-epoch metrics drawn for each upstream stage: the panel (metric and unit) and legend entry of each key.
 * SCAN's val loss weighs the entropy by 1 (the official head selection), its train loss by scan.entropy_weight:
 * the legend says so, as the two lie far apart on one axis.
 */
function curveKeys(entropyWeight: number): Record<string, Record<string, CurveKey>> {
  const pct = (metric: string, series: string, unit = '%'): CurveKey => ({ metric, unit, series, percent: true });
  return {
    pretext: { loss: { metric: 'loss', unit: 'nats', series: 'train' }, knn_accuracy: pct('kNN accuracy', 'val') },
    scan: {
      train_loss: { metric: 'SCAN loss', unit: 'nats', series: `train: consistency − ${entropyWeight}·entropy` },
      'val_loss/head0': { metric: 'SCAN loss', unit: 'nats', series: 'val, head 0: consistency − entropy' },
      'val_acc/head0': pct('accuracy', 'val, head 0'),
    },
    selflabel: {
      train_loss: { metric: 'cross-entropy loss', unit: 'nats', series: 'train (confident images)' },
      train_confident_fraction: pct('confident predictions', 'train', '% of images'),
      val_acc: pct('accuracy', 'val'),
    },
  };
}

/** Learning-curve panels of the upstream runs (one per stage and metric), from their metrics.jsonl. */
export async function learningCurvePanels(
  inputs: Partial<Record<string, string>>,
  entropyWeight: number,
): Promise<CurvePanel[]> {
  const panels = new Map<string, CurvePanel>();
  for (const [stage, keys] of Object.entries(curveKeys(entropyWeight))) {
    if (!inputs[stage]) continue;
    const series = new Map<string, { epoch: number; value: number }[]>();
    for (const m of await readMetrics(inputs[stage])) {
      const k = keys[m.key];
      if (!k || m.value === null || m.step === undefined) continue;
      if (!series.has(m.key)) series.set(m.key, []);
      series.get(m.key)!.push({ epoch: m.step, value: k.percent ? 100 * m.value : m.value });
    }
    // panels and series in the order of the table above, not of the file
    for (const [key, k] of Object.entries(keys)) {
      const points = series.get(key);
      if (!points) continue;
      const id = `${stage}/${k.metric}/${k.unit}`;
      if (!panels.has(id)) panels.set(id, { title: stage, metric: k.metric, unit: k.unit, series: [] });
      panels.get(id)!.series.push({ name: k.series, points });
    }
  }
  return [...panels.values()];
}
