// The self-labeling stage (official selflabel.py): start from the SCAN model's best head (the SCAN stage
// already stored it alone as cluster_head.0), fine-tune the whole network on confident pseudo-labels of the
// weak view with strongly augmented inputs, and output the LAST epoch's model (no label-free selection here).
//
// EMA (selflabel.ema; ImageNet configs): the official quirk is kept (see @scan-repro/train Ema): after every
// step the parameters become their moving average and the BN running statistics are reset to their values at
// the start of the stage.
import * as tf from '@tensorflow/tfjs-core';
import { ARTIFACTS, artifactPath, log, requireInputs, type Stage } from '@scan-repro/core';
import { createLoader, hashString, mixSeed } from '@scan-repro/data';
import { createClusteringModel, loadModel, saveModel } from '@scan-repro/models';
import {
  allVariables,
  createOptimizer,
  Ema,
  loadTrainVal,
  numClustersOf,
  restoreVariables,
  runEpochs,
  snapshotVariables,
  transformSpecFor,
  underPrefix,
  withPrefix,
} from '@scan-repro/train';
import { monitorAccuracy, pseudoLabelsConcentrated, pseudoLabelWarning } from './monitor';
import { selflabelStep } from './selflabel-step';

export const runSelflabel: Stage = async (config, run, inputs, opts = {}) => {
  const { scan } = requireInputs('selflabel', inputs, ['scan']);
  const cfg = config.selflabel;
  const seed = config.profile.seed;
  const numClusters = numClustersOf(config);

  const { train, val } = await loadTrainVal(config);

  const model = createClusteringModel(config.backbone, { numClusters, numHeads: 1 }, seed);
  const scanFile = artifactPath(scan, 'model');
  const { metadata } = await loadModel(scanFile, model); // strict: backbone.* + cluster_head.0.* (the best head)
  const optimizer = createOptimizer(
    { optimizer: cfg.optimizer, lr: cfg.lr, momentum: cfg.momentum, nesterov: false, weight_decay: cfg.weight_decay },
    model.parameters(),
  );
  const ema = cfg.ema ? new Ema(model.parameters(), cfg.ema_alpha, model.buffers()) : null;

  const batchSize = Math.min(cfg.batch_size, train.size);
  if (batchSize < cfg.batch_size)
    log.warn(`selflabel: batch_size ${cfg.batch_size} > ${train.size} training images; using ${batchSize}`);
  const loader = createLoader({
    split: train,
    batchSize,
    shuffle: true,
    seed: mixSeed(seed, hashString('selflabel')),
    dropLast: true,
    views: [
      { transform: transformSpecFor(config, 'val'), source: 'self' }, // weak view: the pseudo-label source
      { transform: transformSpecFor(config, cfg.augmentation), source: 'self' },
    ],
  });
  const evalBatch = Math.max(1, config.mine.batch_size);

  const start = await monitorAccuracy(model, val, config, evalBatch);
  log.info(
    `selflabel: start (SCAN best head ${metadata.best_head ?? '?'}) val acc ${(100 * start.accuracy).toFixed(2)}%, confident ${(100 * start.confident).toFixed(1)}%`,
  );

  const result = await runEpochs({
    run,
    epochs: cfg.epochs,
    label: 'selflabel',
    stepsPerEpoch: loader.batchesPerEpoch,
    checkpointEvery: cfg.checkpoint_every,
    stopAfterEpochs: opts.stopAfterEpochs,
    state: () => ({
      tensors: {
        ...withPrefix('model/', snapshotVariables(allVariables(model))),
        ...withPrefix('optimizer/', optimizer.state()),
        ...(ema ? withPrefix('ema/', ema.state()) : {}),
      },
    }),
    restore: (tensors, _extra, source) => {
      restoreVariables(allVariables(model), underPrefix('model/', tensors), '', source);
      optimizer.loadState(underPrefix('optimizer/', tensors), source);
      ema?.loadState(underPrefix('ema/', tensors), source);
    },
    epoch: async (epoch, { progress }) => {
      let lossSum = 0,
        lossSteps = 0,
        confident = 0,
        seen = 0,
        skipped = 0;
      const pseudoLabels = new Int32Array(numClusters);
      for await (const batch of loader.epoch(epoch)) {
        const weak = tf.tensor4d(batch.views[0], batch.shape);
        const strong = tf.tensor4d(batch.views[1], batch.shape);
        try {
          const r = selflabelStep(model, optimizer, weak, strong, {
            threshold: cfg.threshold,
            classBalance: cfg.class_balance,
            microBatch: cfg.micro_batch,
          });
          confident += r.numConfident;
          r.pseudoLabelCounts.forEach((count, k) => {
            pseudoLabels[k] += count;
          });
          seen += r.batchSize;
          if (r.skipped) skipped++;
          else {
            lossSum += r.loss;
            lossSteps++;
            ema?.update();
          }
          progress.tick(1, { confident: r.numConfident });
        } finally {
          tf.dispose([weak, strong]);
        }
      }
      const mon = await monitorAccuracy(model, val, config, evalBatch);
      const warning = pseudoLabelWarning(pseudoLabels, cfg.threshold, epoch + 1);
      if (warning) log.warn(warning);
      return {
        train_loss: lossSteps ? lossSum / lossSteps : NaN,
        train_confident_fraction: confident / seen,
        skipped_steps: skipped,
        // the pseudo-labels' balance: the largest cluster's share of this epoch's confident training images
        train_pseudo_label_largest_fraction: confident ? Math.max(...pseudoLabels) / confident : NaN,
        train_pseudo_label_clusters: pseudoLabels.filter((count) => count > 0).length,
        val_confident_fraction: mon.confident,
        // monitoring only (labels): accuracy overall and on the confident images, and the largest cluster
        val_acc: mon.accuracy,
        val_confident_acc: mon.confidentAccuracy,
        val_largest_cluster_fraction: mon.largestCluster,
      };
    },
  });
  await loader.close();
  if (!result.finished)
    log.warn(
      `selflabel: stopped after ${result.epochsDone}/${cfg.epochs} epochs; rerun with run.resume=true to continue`,
    );
  await saveModel(run.path(ARTIFACTS.model), model, {
    epochs_done: String(result.epochsDone),
    scan_best_head: metadata.best_head ?? '',
  });
  const end = result.history.length ? null : await monitorAccuracy(model, val, config, evalBatch);
  ema?.dispose();
  optimizer.dispose();
  model.dispose();

  const last = result.history[result.history.length - 1];
  const skippedTotal = result.history.reduce((a, m) => a + (m.skipped_steps ?? 0), 0);
  const metrics: Record<string, number> = {
    start_val_acc: start.accuracy,
    start_val_confident_fraction: start.confident,
    final_val_acc: last?.val_acc ?? end!.accuracy,
    final_val_confident_fraction: last?.val_confident_fraction ?? end!.confident,
    start_val_largest_cluster_fraction: start.largestCluster,
    final_val_largest_cluster_fraction: last?.val_largest_cluster_fraction ?? end!.largestCluster,
    skipped_steps: skippedTotal,
    epochs_done: result.epochsDone,
    // epochs whose confident pseudo-labels came mostly from few clusters (pseudoLabelWarning)
    concentrated_pseudo_label_epochs: result.history.filter((m) =>
      pseudoLabelsConcentrated(m.train_pseudo_label_largest_fraction, m.train_pseudo_label_clusters, numClusters),
    ).length,
  };
  // the pseudo-labels' accuracy exists only when some val image was confident (a record holds no NaN)
  const confidentAcc = { start: start.confidentAccuracy, final: last?.val_confident_acc ?? end!.confidentAccuracy };
  for (const [when, value] of Object.entries(confidentAcc))
    if (Number.isFinite(value)) metrics[`${when}_val_confident_acc`] = value;
  return {
    metrics,
    artifacts: [ARTIFACTS.model],
    summary: `selflabel: val acc ${(100 * metrics.start_val_acc).toFixed(1)}% -> ${(100 * metrics.final_val_acc).toFixed(1)}% (monitoring), ${skippedTotal} empty-mask steps skipped${metrics.concentrated_pseudo_label_epochs ? `; pseudo-labels concentrated in few clusters in ${metrics.concentrated_pseudo_label_epochs} of ${result.epochsDone} epochs` : ''}`,
  };
};
