// The SCAN stage (official scan.py): backbone from the pretext weights, num_heads linear cluster heads trained
// with the SCAN loss on (anchor, mined neighbour) pairs, best head and epoch chosen by the validation SCAN loss.
//
// Output model: backbone.* and the best head only, renamed cluster_head.0.*, taken at the best
// epoch (the official code saves the whole model whenever the lowest validation loss improves, and
// selflabel.py loads only the best head into head 0). Metadata: best_head (its index among the trained heads),
// best_epoch (1-based), best_loss, num_heads, num_clusters. So selflabel and eval load it as a one-head model.
import * as tf from '@tensorflow/tfjs-core';
import { ARTIFACTS, artifactPath, log, requireInputs, type Stage } from '@scan-repro/core';
import { createLoader, hashString, mixSeed } from '@scan-repro/data';
import { createClusteringModel, isPretextHeadKey, loadModel, saveModel } from '@scan-repro/models';
import {
  allVariables,
  createOptimizer,
  extractFeatures,
  loadTrainVal,
  numClustersOf,
  readNeighborsFor,
  restoreVariables,
  runEpochs,
  snapshotVariables,
  transformSpecFor,
  underPrefix,
  withPrefix,
} from '@scan-repro/train';
import { dropFalsePositiveNeighbors } from './oracle-neighbors';
import { scanStep } from './scan-step';
import { evaluateHeads, headProbabilitiesForward, splitHeads, updateBestHead, type BestHead } from './scan-validate';
import { singleHeadModule } from './single-head';

export const runScan: Stage = async (config, run, inputs, opts = {}) => {
  const { pretext, mine } = requireInputs('scan', inputs, ['pretext', 'mine']);
  const cfg = config.scan;
  const seed = config.profile.seed;
  const numClusters = numClustersOf(config);
  const numClasses = config.dataset.num_classes;

  const { train, val } = await loadTrainVal(config);
  const nb = await readNeighborsFor(mine, train, val);
  if (cfg.num_neighbors > nb.train.width - 1) {
    throw new Error(
      `scan.num_neighbors = ${cfg.num_neighbors}, but the mine run stored only K = ${nb.train.width - 1} neighbours per image; expected scan.num_neighbors <= mine.k`,
    );
  }

  let trainNeighbors = nb.train.table;
  if (cfg.oracle_neighbors) {
    const oracle = dropFalsePositiveNeighbors(nb.train.table, nb.train.width, cfg.num_neighbors + 1, train.labels);
    trainNeighbors = oracle.table;
    run.logMetric('oracle_removed_neighbors', oracle.removed);
    log.warn(
      `scan: scan.oracle_neighbors = true uses the labels to drop ${(100 * oracle.removed).toFixed(1)}% of the neighbours (upper-bound experiment, not the method)`,
    );
  }

  const model = createClusteringModel(config.backbone, { numClusters, numHeads: cfg.num_heads }, seed);
  const pretextFile = artifactPath(pretext, 'model');
  // Official: non-strict load that asserts that only the pretext head (contrastive, or RotNet's) is unexpected;
  // the cluster heads are new.
  await loadModel(pretextFile, model, {
    allowUnexpected: isPretextHeadKey,
    allowMissing: (k) => k.startsWith('cluster_head.'),
  });

  const headsOnly = cfg.update_cluster_head_only;
  if (headsOnly) model.setBackboneTrainable(false);
  const trainable = new Map([...model.parameters()].filter(([k]) => !headsOnly || k.startsWith('cluster_head.')));
  const optimizer = createOptimizer(
    {
      optimizer: cfg.optimizer,
      lr: cfg.lr,
      momentum: cfg.momentum,
      nesterov: cfg.nesterov,
      weight_decay: cfg.weight_decay,
    },
    trainable,
  );

  const batchSize = Math.min(cfg.batch_size, train.size);
  if (batchSize < cfg.batch_size)
    log.warn(`scan: batch_size ${cfg.batch_size} > ${train.size} training images; using ${batchSize}`);
  const augmentation = transformSpecFor(config, cfg.augmentation);
  const loader = createLoader({
    split: train,
    batchSize,
    shuffle: true,
    seed: mixSeed(seed, hashString('scan')),
    dropLast: true,
    views: [
      { transform: augmentation, source: 'self' },
      { transform: augmentation, source: 'neighbor' },
    ],
    // num_neighbors = 0: the "neighbour" is the anchor itself (augmentations only, the paper's K = 0 ablation)
    neighbors: { table: trainNeighbors, width: nb.train.width, take: cfg.num_neighbors + 1 },
  });
  const valView = transformSpecFor(config, 'val');
  const evalBatch = Math.max(1, config.mine.batch_size);

  let best: BestHead | null = null;
  let bestAccuracy = NaN;
  const validate = async (epochsDone: number): Promise<Record<string, number>> => {
    const concatenated = await extractFeatures(headProbabilitiesForward(model), val, {
      transform: valView,
      batchSize: evalBatch,
      label: 'scan validation',
    });
    const ev = evaluateHeads(splitHeads(concatenated, val.size, cfg.num_heads), nb.val.table, val.labels, numClasses);
    const update = updateBestHead(best, ev.loss, epochsDone);
    if (update.improved) {
      best = update.best;
      bestAccuracy = ev.accuracy[best.head];
      await saveModel(run.path(ARTIFACTS.model), singleHeadModule(model, best.head), {
        best_head: String(best.head),
        best_epoch: String(best.epoch),
        best_loss: String(best.loss),
        num_heads: String(cfg.num_heads),
        num_clusters: String(numClusters),
      });
    }
    const m: Record<string, number> = {};
    ev.loss.forEach((v, h) => {
      m[`val_loss/head${h}`] = v;
      m[`val_consistency/head${h}`] = ev.consistency[h];
      m[`val_entropy/head${h}`] = ev.entropy[h];
      m[`val_acc/head${h}`] = ev.accuracy[h];
    });
    return { ...m, best_head: best!.head, best_epoch: best!.epoch, best_loss: best!.loss };
  };

  const result = await runEpochs({
    run,
    epochs: cfg.epochs,
    label: 'scan',
    stepsPerEpoch: loader.batchesPerEpoch,
    checkpointEvery: cfg.checkpoint_every,
    stopAfterEpochs: opts.stopAfterEpochs,
    state: () => ({
      tensors: {
        ...withPrefix('model/', snapshotVariables(allVariables(model))),
        ...withPrefix('optimizer/', optimizer.state()),
      },
      extra: { best, bestAccuracy },
    }),
    restore: (tensors, extra, source) => {
      restoreVariables(allVariables(model), underPrefix('model/', tensors), '', source);
      optimizer.loadState(underPrefix('optimizer/', tensors), source);
      const e = extra as { best: BestHead | null; bestAccuracy: number | null } | undefined;
      best = e?.best ?? null;
      bestAccuracy = e?.bestAccuracy ?? NaN;
    },
    epoch: async (epoch, { progress }) => {
      let total = 0;
      let steps = 0;
      const consistency = new Array(cfg.num_heads).fill(0);
      const entropy = new Array(cfg.num_heads).fill(0);
      for await (const batch of loader.epoch(epoch)) {
        const anchors = tf.tensor4d(batch.views[0], batch.shape);
        const neighbors = tf.tensor4d(batch.views[1], batch.shape);
        try {
          const r = scanStep(model, optimizer, anchors, neighbors, {
            entropyWeight: cfg.entropy_weight,
            microBatch: cfg.micro_batch,
            updateClusterHeadOnly: headsOnly,
          });
          total += r.total;
          r.consistency.forEach((v, h) => (consistency[h] += v));
          r.entropy.forEach((v, h) => (entropy[h] += v));
          steps++;
          progress.tick(1, { loss: r.total.toFixed(4) });
        } finally {
          tf.dispose([anchors, neighbors]);
        }
      }
      const m: Record<string, number> = { train_loss: total / steps };
      consistency.forEach((v, h) => (m[`train_consistency/head${h}`] = v / steps));
      entropy.forEach((v, h) => (m[`train_entropy/head${h}`] = v / steps));
      return { ...m, ...(await validate(epoch + 1)) };
    },
  });
  await loader.close();
  // 0 epochs (or a model file lost after a crash): pick the head from the current weights.
  if (!best || result.epochsDone === 0) await validate(result.epochsDone);
  const chosen = best as BestHead | null;
  if (!result.finished)
    log.warn(`scan: stopped after ${result.epochsDone}/${cfg.epochs} epochs; rerun with run.resume=true to continue`);
  optimizer.dispose();
  model.dispose();

  const last = result.history[result.history.length - 1] ?? {};
  const metrics: Record<string, number> = {
    best_head: chosen!.head,
    best_epoch: chosen!.epoch,
    best_val_loss: chosen!.loss,
    // monitoring only (labels were not used to choose anything)
    best_head_val_acc: bestAccuracy,
    epochs_done: result.epochsDone,
    ...(last.train_loss !== undefined ? { final_train_loss: last.train_loss } : {}),
  };
  return {
    metrics,
    artifacts: [ARTIFACTS.model],
    summary: `scan: best head ${chosen!.head} at epoch ${chosen!.epoch}, val SCAN loss ${chosen!.loss.toFixed(4)}, val acc ${(100 * bestAccuracy).toFixed(1)}% (monitoring)`,
  };
};
