// The epoch loop every trained pretext method shares (SimCLR, MoCo, RotNet): checkpointed epochs over the pretext
// splits, a cosine learning rate, the weighted-kNN monitor after each epoch, the model artifact at the end. A method
// supplies only what differs: its model, optimizer, views, step and extra checkpoint state.
import type * as tf from '@tensorflow/tfjs-core';
import {
  ARTIFACTS,
  type NamedArray,
  type RunFolder,
  type ScanConfig,
  type StageOptions,
  type StageResult,
} from '@scan-repro/core';
import { createLoader, type LoaderView } from '@scan-repro/data';
import { saveModel, type NamedModule } from '@scan-repro/models';
import {
  allVariables,
  cosineLr,
  warmupFactor,
  restoreVariables,
  runEpochs,
  snapshotVariables,
  underPrefix,
  withPrefix,
  type EpochContext,
  type Optimizer,
} from '@scan-repro/train';
import { knnMonitor, loadPretextSplits, logSplits, streamSeed, STREAM } from './common';

/** What a pretext method does: write the pretext model into the run folder and report its metrics. */
export type PretextMethodFn = (config: ScanConfig, run: RunFolder, opts: StageOptions) => Promise<StageResult>;

/** A trained method, set up for one run. */
export interface PretextTraining {
  model: NamedModule & { dispose(): void };
  optimizer: Optimizer;
  /** What the loader makes of each training image (SimCLR, MoCo: two augmented views; RotNet: one base view). */
  views: LoaderView[];
  /** One optimizer step on a batch of views; returns the loss. */
  step(batch: { views: Float32Array[]; shape: [number, number, number, number] }, lr: number): number;
  /** Features the kNN monitor uses (eval mode). */
  features(x: tf.Tensor4D): tf.Tensor2D;
  /** Checkpoint tensors and JSON state beyond the model and optimizer (MoCo: key encoder, queue, shuffle rng). */
  extraState?(): { tensors: Record<string, NamedArray>; extra: unknown };
  restoreExtra?(tensors: Record<string, NamedArray>, extra: unknown): void;
  dispose(): void;
}

/** Thrown when stopAfterEpochs cut the run short; the run folder's checkpoint resumes it. */
export class PretextInterrupted extends Error {}

/** A pretext method trained by the shared loop; `setUp` builds its pieces from the config. */
export function trainedMethod(setUp: (config: ScanConfig) => PretextTraining): PretextMethodFn {
  return async (config, run, opts) => {
    const p = config.pretext;
    const splits = await loadPretextSplits(config);
    logSplits(p.method, splits);
    const m = setUp(config);
    const loader = createLoader({
      split: splits.train,
      batchSize: p.batch_size,
      shuffle: true,
      seed: streamSeed(config, STREAM.loader),
      dropLast: true,
      views: m.views,
    });
    const extraState = () => m.extraState?.() ?? { tensors: {}, extra: null };
    try {
      if (loader.batchesPerEpoch === 0) {
        throw new Error(
          `pretext.batch_size = ${p.batch_size} is larger than the ${splits.train.size} training images (drop_last leaves no batch)`,
        );
      }
      const vars = allVariables(m.model);
      const result = await runEpochs({
        run,
        epochs: p.epochs,
        label: p.method,
        stepsPerEpoch: loader.batchesPerEpoch,
        checkpointEvery: p.checkpoint_every,
        stopAfterEpochs: opts.stopAfterEpochs,
        state: () => {
          const extra = extraState();
          return {
            tensors: {
              ...withPrefix('model/', snapshotVariables(vars)),
              ...withPrefix('optim/', m.optimizer.state()),
              ...extra.tensors,
            },
            extra: extra.extra,
          };
        },
        restore: (tensors, extra, source) => {
          restoreVariables(vars, underPrefix('model/', tensors), '', source);
          m.optimizer.loadState(underPrefix('optim/', tensors), source);
          m.restoreExtra?.(tensors, extra);
        },
        epoch: async (e: number, ctx: EpochContext) => {
          const lr = cosineLr(e, p.epochs, p.lr, p.lr_min);
          const warmupSteps = Math.round(p.warmup_epochs * loader.batchesPerEpoch);
          let sum = 0;
          let steps = 0;
          for await (const batch of loader.epoch(e)) {
            const loss = m.step(batch, lr * warmupFactor(e * loader.batchesPerEpoch + steps, warmupSteps));
            if (!Number.isFinite(loss))
              throw new Error(`${p.method}: loss is ${loss} at epoch ${e + 1}, step ${steps + 1} (lr ${lr})`);
            sum += loss;
            steps++;
            ctx.progress.tick(1, { loss });
          }
          const knn = await knnMonitor(config, m.features, splits);
          return { loss: sum / steps, lr, ...(knn === null ? {} : { knn_accuracy: knn }) };
        },
      });
      if (!result.finished)
        throw new PretextInterrupted(
          `${p.method}: stopped after epoch ${result.epochsDone} of ${p.epochs} (stopAfterEpochs); rerun to resume`,
        );

      const last = result.history.at(-1) ?? {};
      const metrics: Record<string, number> = {
        epochs: result.epochsDone,
        train_images: splits.train.size,
        steps: result.epochsDone * loader.batchesPerEpoch,
      };
      if (last.loss !== undefined) metrics.loss = last.loss;
      const knn = last.knn_accuracy ?? (p.epochs === 0 ? await knnMonitor(config, m.features, splits) : null);
      if (knn !== null && knn !== undefined) metrics.knn_accuracy = knn;
      await saveModel(run.path(ARTIFACTS.model), m.model, { method: p.method, epochs: String(result.epochsDone) });
      return {
        metrics,
        artifacts: [ARTIFACTS.model],
        summary:
          `${p.method}: ${result.epochsDone} epochs on ${splits.train.size} images` +
          (metrics.knn_accuracy !== undefined ? `, kNN accuracy ${(100 * metrics.knn_accuracy).toFixed(2)}%` : ''),
      };
    } finally {
      m.dispose();
      await loader.close();
    }
  };
}
