// The evaluation stage (official eval.py + the paper's protocol, reference §4): predictions of the final model
// (selflabel's when given, else SCAN's best head) on the val split; ACC (Hungarian, or majority vote for
// overclustering), NMI, ARI, AMI, top-5; the pretext + K-means baseline; neighbour purity of the mined
// neighbours; pictures of the confusion matrix, the prototypes and the learning curves.
import * as tf from '@tensorflow/tfjs-core';
import {
  ARTIFACTS,
  artifactPath,
  readFeatures,
  requireInputs,
  writeEvalMetrics,
  writePredictions,
  type ScanConfig,
  type Stage,
} from '@scan-repro/core';
import type { ImageSplit } from '@scan-repro/data';
import { argmaxRows, kmeans, neighborAccuracy, hungarianMatch, clusterAccuracy, nmi, ari } from '@scan-repro/metrics';
import { createClusteringModel, loadModel } from '@scan-repro/models';
import { confusionMatrixSpec, imageGridSpec, learningCurvesSpec } from '@scan-repro/plots';
import {
  extractFeatures,
  loadTrainVal,
  numClustersOf,
  readNeighborsFor,
  splitColumns,
  transformSpecFor,
} from '@scan-repro/train';
import { assignToCentroids, evaluateClustering, prototypeIndices } from './evaluate';
import { learningCurvePanels, writeFigure } from './figures';

/** Class names for the pictures: config, then the dataset's, then numbers. */
async function classNames(config: ScanConfig): Promise<string[]> {
  const n = config.dataset.num_classes;
  if (config.dataset.class_names.length === n) return config.dataset.class_names;
  try {
    const { openDataset } = await import('@scan-repro/data');
    const names = openDataset(config.dataset).classNames;
    if (names.length === n) return names;
  } catch {
    /* fall through */
  }
  return Array.from({ length: n }, (_, i) => String(i));
}

/**
 * Pretext + K-means: fit on the train split's pretext features, assign the val split, score with Hungarian. The
 * features are the mine run's (val transform, L2-normalised): CIFAR/STL the 128-d head output, ImageNet the pooled
 * backbone (eval.kmeans_features), reference §4.
 */
async function kmeansBaseline(
  config: ScanConfig,
  mineDir: string,
  train: ImageSplit,
  val: ImageSplit,
): Promise<Record<string, number>> {
  const kind = config.eval.kmeans_features;
  const f = await readFeatures(mineDir);
  const file = artifactPath(mineDir, 'features');
  if (f.train.rows !== train.size || f.val.rows !== val.size) {
    throw new Error(
      `${file}: features of ${f.train.rows} train / ${f.val.rows} val images, but the splits here have ${train.size} / ${val.size}; the mine run used other data`,
    );
  }
  const ft = f.train[kind];
  const fv = f.val[kind];
  if (!ft || !fv)
    throw new Error(
      `${file}: no ${kind} features (the pretext model has no contrastive head, e.g. RotNet); expected eval.kmeans_features = backbone`,
    );
  return kmeansScores(config, ft, fv, train.size, val);
}

function kmeansScores(
  config: ScanConfig,
  ft: Float32Array,
  fv: Float32Array,
  numTrain: number,
  val: ImageSplit,
): Record<string, number> {
  const k = config.dataset.num_classes;
  const d = ft.length / numTrain;
  const fit = kmeans(ft, numTrain, d, k, { seed: config.profile.seed });
  const pred = assignToCentroids(fv, val.size, fit.centroids, k);
  const mapping = hungarianMatch(pred, val.labels, k, k);
  return {
    kmeans_acc: clusterAccuracy(pred, val.labels, { mapping }),
    kmeans_nmi: nmi(val.labels, pred),
    kmeans_ari: ari(val.labels, pred),
  };
}

export const runEval: Stage = async (config, run, inputs) => {
  const { mine, scan } = requireInputs('eval', inputs, ['pretext', 'mine', 'scan']);
  const seed = config.profile.seed;
  const numClasses = config.dataset.num_classes;
  const numClusters = numClustersOf(config);
  const batchSize = Math.max(1, config.mine.batch_size);
  const { train, val } = await loadTrainVal(config);
  if (!val.labels.every((y) => y >= 0 && y < numClasses))
    throw new Error(
      `eval: the val split ${config.dataset.val_split} has labels outside [0, ${numClasses}); evaluation needs labelled images`,
    );

  // The evaluated model: one head (SCAN wrote its best head as cluster_head.0; selflabel keeps that layout).
  const source = inputs.selflabel ? 'selflabel' : 'scan';
  const modelFile = artifactPath(inputs.selflabel ?? scan, 'model');
  const model = createClusteringModel(config.backbone, { numClusters, numHeads: 1 }, seed);
  await loadModel(modelFile, model);
  const out = await extractFeatures(
    (x) =>
      tf.tidy(() => {
        const f = model.backbone.apply(x, false);
        return tf.concat([tf.softmax(model.applyHeads(f)[0]), f], 1) as tf.Tensor2D;
      }),
    val,
    { transform: transformSpecFor(config, 'val'), batchSize, label: `eval ${source} model` },
  );
  const featureDim = model.backbone.featureDim;
  model.dispose();
  const n = val.size;
  const [probs, features] = splitColumns(out, n, [numClusters, featureDim]) as [Float32Array, Float32Array];
  const pred = argmaxRows(probs, n);
  const ev = evaluateClustering(pred, val.labels, numClusters, numClasses, {
    mapping: config.eval.mapping,
    probs,
    top5: config.eval.top5,
  });

  const metrics: Record<string, number> = {
    acc: ev.acc,
    nmi: ev.nmi,
    ari: ev.ari,
    ami: ev.ami,
    num_clusters: numClusters,
    num_val: n,
  };
  if (ev.top5 !== undefined) metrics.top5 = ev.top5;
  let confident = 0;
  for (let i = 0; i < n; i++) if (probs[i * numClusters + pred[i]] > config.selflabel.threshold) confident++;
  metrics.confident_fraction = confident / n;

  // Neighbour purity of the mined neighbours (the paper's Fig. 2 statistic; eval.py prints K = 1, 5, 20).
  const nb = await readNeighborsFor(mine, train, val);
  for (const [key, t, labels] of [
    ['train', nb.train, train.labels],
    ['val', nb.val, val.labels],
  ] as const) {
    const K = t.width - 1;
    for (const k of [...new Set([1, 5, 20, K])].filter((k) => k >= 1 && k <= K)) {
      metrics[`${key}_neighbor_accuracy_at_${k}`] = neighborAccuracy(t.table, labels, { k });
    }
  }

  if (config.eval.kmeans) Object.assign(metrics, await kmeansBaseline(config, mine, train, val));

  // Pictures and the raw predictions.
  const names = await classNames(config);
  const artifacts: string[] = [ARTIFACTS.evalMetrics, ARTIFACTS.predictions];
  artifacts.push(
    ...(await writeFigure(
      run,
      ARTIFACTS.confusion,
      confusionMatrixSpec(ev.confusion, names, {
        title: `${source} model on ${config.dataset.name} ${config.dataset.val_split} (${n} images)`,
        xTitle: `predicted class (clusters mapped: ${ev.mapping})`,
      }),
    )),
  );
  const protos = prototypeIndices(probs, features, n, config.eval.prototypes);
  const scale = Math.max(1, Math.round(96 / Math.max(1, val.imageShape?.height ?? 32)));
  // one PNG pixel per SVG unit: the spec already draws the tiles about 96 px wide, and a grid can be large
  artifacts.push(
    ...(await writeFigure(
      run,
      ARTIFACTS.prototypes,
      imageGridSpec(
        Array.from(protos, (i) => (i >= 0 ? val.image(i) : null)),
        Array.from(protos, (_, k) => `${k}:${ev.clusterToClass[k] >= 0 ? names[ev.clusterToClass[k]] : '-'}`),
        { cols: Math.min(10, numClusters), scale },
      ),
      { scale: 1 },
    )),
  );
  const panels = await learningCurvePanels(inputs, config.scan.entropy_weight);
  if (panels.length)
    artifacts.push(
      ...(await writeFigure(
        run,
        ARTIFACTS.curves,
        learningCurvesSpec(panels, { title: 'Learning curves of the upstream runs' }),
      )),
    );
  await writePredictions(
    run,
    {
      pred,
      probs,
      target: val.labels,
      clusterToClass: ev.clusterToClass,
      confusion: ev.confusion,
      numClasses,
      prototypes: protos,
    },
    { evaluated: source, mapping: ev.mapping },
  );
  await writeEvalMetrics(run, { evaluated: source, mapping: ev.mapping, metrics });

  const pct = (v: number | undefined) => (v === undefined ? '-' : `${(100 * v).toFixed(2)}%`);
  return {
    metrics,
    artifacts,
    summary:
      `eval of ${source}: ACC ${pct(ev.acc)} (${ev.mapping}), NMI ${pct(ev.nmi)}, ARI ${pct(ev.ari)}` +
      (metrics.kmeans_acc !== undefined ? `; K-means ACC ${pct(metrics.kmeans_acc)}` : ''),
  };
};
