// Pieces shared by the pretext methods: splits, models, the weighted-kNN monitor.
import * as tf from '@tensorflow/tfjs-core';
import { log, type ScanConfig } from '@scan-repro/core';
import { loadSplit, mixSeed, type ImageSplit } from '@scan-repro/data';
import { weightedKnnAccuracy } from '@scan-repro/metrics';
import { contrastiveModelFromConfig, type ContrastiveModel } from '@scan-repro/models';
import { extractFeatures, transformSpecFor } from '@scan-repro/train';

export interface PretextSplits {
  /** What the pretext task trains on (dataset.pretext_splits, e.g. train or train+unlabeled). */
  train: ImageSplit;
  /** kNN monitor bank (dataset.train_split, val transform) and queries (dataset.val_split). */
  monitorBank: ImageSplit;
  monitorQuery: ImageSplit;
}

export async function loadPretextSplits(config: ScanConfig): Promise<PretextSplits> {
  const d = config.dataset;
  const train = await loadSplit(d, d.pretext_splits, { role: 'train' });
  const monitorBank =
    d.pretext_splits.length === 1 && d.pretext_splits[0] === d.train_split
      ? train
      : await loadSplit(d, d.train_split, { role: 'train' });
  const monitorQuery = await loadSplit(d, d.val_split, { role: 'val' });
  return { train, monitorBank, monitorQuery };
}

/** The stage's random streams: model init, loader order and augmentations, MoCo's queue and shuffle. */
export const STREAM = { model: 1, loader: 2, moco: 3 } as const;

/** Seed of a named random stream of the stage (loader order, augmentations, model init). */
export function streamSeed(config: ScanConfig, stream: number): number {
  return mixSeed(config.profile.seed, stream);
}

export function createPretextContrastiveModel(config: ScanConfig, seed: number): ContrastiveModel {
  return contrastiveModelFromConfig(config, seed);
}

/**
 * The official per-epoch monitor: features of the train split (val transform) as the memory bank, the val
 * split's features vote with the weighted kNN (K = pretext.knn_k, temperature pretext.knn_temperature).
 * Labels serve the monitor only. Returns null when a split has no labels (e.g. unlabelled data).
 */
export async function knnMonitor(
  config: ScanConfig,
  forward: (x: tf.Tensor4D) => tf.Tensor2D,
  splits: PretextSplits,
): Promise<number | null> {
  const { monitorBank: bank, monitorQuery: query } = splits;
  if (bank.labels.some((l) => l < 0) || query.labels.some((l) => l < 0)) return null;
  const batchSize = config.mine.batch_size;
  const transform = transformSpecFor(config, 'val');
  const bankFeatures = await extractFeatures(forward, bank, { transform, batchSize, label: 'knn bank' });
  const queryFeatures = await extractFeatures(forward, query, { transform, batchSize, label: 'knn query' });
  return weightedKnnAccuracy(bankFeatures, bank.labels, queryFeatures, query.labels, {
    k: config.pretext.knn_k,
    temperature: config.pretext.knn_temperature,
    numClasses: config.dataset.num_classes,
  });
}

export function logSplits(method: string, s: PretextSplits): void {
  log.info(
    `${method}: training on ${s.train.dataset}/${s.train.split} (${s.train.size} images); kNN monitor ${s.monitorQuery.split} (${s.monitorQuery.size}) vs ${s.monitorBank.split} (${s.monitorBank.size})`,
  );
}
