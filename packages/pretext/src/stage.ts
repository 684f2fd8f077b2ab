// The pretext stage: learn (SimCLR / MoCo / RotNet) or import the representation that mining and SCAN start from.
// Output: model.safetensors with PyTorch names (backbone.* + contrastive_head.*, or rotnet_head.* for RotNet).
import { stat } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import { createRng, log, type NamedArray, type RngState, type RunFolder, type ScanConfig, type Stage, type StageOptions, type StageResult } from '@scan-repro/core';
import { createLoader, createTransform, type Loader } from '@scan-repro/data';
import { loadModel, saveModel, type NamedModule } from '@scan-repro/models';
import {
  allVariables, cosineLr, createOptimizer, restoreVariables, runEpochs, snapshotVariables, transformSpecFor, underPrefix, withPrefix,
  type EpochContext, type Optimizer,
} from '@scan-repro/train';
import { createPretextContrastiveModel, knnMonitor, loadPretextSplits, logSplits, streamSeed, type PretextSplits } from './common';
import { createMocoState, mocoStateTensors, mocoStep, restoreMocoState } from './moco';
import { createRotnetModel, rotnetBaseTransform, rotnetStep } from './rotnet';
import { simclrStep } from './simclr';

const MODEL_FILE = 'model.safetensors';
const MODEL_STREAM = 1;
const LOADER_STREAM = 2;
const MOCO_STREAM = 3;

/** Thrown when stopAfterEpochs cut the run short; the run folder's checkpoint resumes it. */
export class PretextInterrupted extends Error {}

export const runPretext: Stage = async (config, run, _inputs, opts = {}) => {
  switch (config.pretext.method) {
    case 'import': return importWeights(config, run);
    case 'simclr':
    case 'moco':
    case 'rotnet': return train(config, run, opts);
    default: throw new Error(`pretext.method = '${config.pretext.method as string}', expected simclr, moco, rotnet or import`);
  }
};

async function importWeights(config: ScanConfig, run: RunFolder): Promise<StageResult> {
  const path = config.pretext.weights;
  if (!path) throw new Error('pretext.method = import needs pretext.weights = /path/to/weights.safetensors (convert .pth files with tools/convert)');
  if (!(await stat(path).catch(() => null))?.isFile()) throw new Error(`pretext.weights = '${path}': no such file`);
  const model = createPretextContrastiveModel(config, streamSeed(config, MODEL_STREAM));
  try {
    // Without a contrastive head in the file, only backbone features make sense downstream.
    const headOptional = config.mine.features === 'backbone';
    const report = await loadModel(path, model, { allowMissing: (k) => headOptional && k.startsWith('contrastive_head.') });
    if (report.missing.length) log.warn(`pretext import: ${path} has no ${report.missing.join(', ')}; those keep their random initialisation`);
    await saveModel(run.path(MODEL_FILE), model, { method: 'import', source: path, head: report.missing.length ? 'random' : 'imported' });
    return {
      metrics: { imported_tensors: report.loaded.length },
      artifacts: [MODEL_FILE],
      summary: `imported ${report.loaded.length} tensors from ${path}`,
    };
  } finally {
    model.dispose();
  }
}

interface Method {
  model: NamedModule & { dispose(): void };
  optimizer: Optimizer;
  loader: Loader;
  /** Extra checkpoint tensors and JSON state beyond the model and optimizer (MoCo: key encoder, queue). */
  extraState(): { tensors: Record<string, NamedArray>; extra: unknown };
  restoreExtra(tensors: Record<string, NamedArray>, extra: unknown): void;
  step(batch: { views: Float32Array[]; shape: [number, number, number, number] }, lr: number): number;
  /** Features the kNN monitor uses (eval mode). */
  features(x: tf.Tensor4D): tf.Tensor2D;
  dispose(): void;
}

function setUp(config: ScanConfig, splits: PretextSplits): Method {
  const p = config.pretext;
  const seed = streamSeed(config, MODEL_STREAM);
  const loaderSeed = streamSeed(config, LOADER_STREAM);
  const simclrView = { transform: transformSpecFor(config, 'simclr'), source: 'self' as const };
  if (p.method === 'simclr' || p.method === 'moco') {
    const model = createPretextContrastiveModel(config, seed);
    const optimizer = createOptimizer(p, model.parameters());
    // MoCo v2's own augmentation adds blur; the SimCLR pipeline (same crops, jitter, grayscale) stands in for it.
    const loader = createLoader({ split: splits.train, batchSize: p.batch_size, shuffle: true, seed: loaderSeed, dropLast: true, views: [simclrView, simclrView] });
    if (p.method === 'simclr') {
      return {
        model, optimizer, loader,
        extraState: () => ({ tensors: {}, extra: null }),
        restoreExtra: () => undefined,
        step: (b, lr) => simclrStep(model, optimizer, { view1: b.views[0], view2: b.views[1], shape: b.shape }, { temperature: p.temperature, microBatch: p.micro_batch, lr }),
        features: (x) => model.apply(x, false),
        dispose: () => { model.dispose(); optimizer.dispose(); },
      };
    }
    const rng = createRng(streamSeed(config, MOCO_STREAM));
    const moco = createMocoState(model, createPretextContrastiveModel(config, seed), p.moco_queue, config.model.contrastive_dim, rng.fork('queue'));
    const shuffleRng = rng.fork('shuffle-bn');
    return {
      model, optimizer, loader,
      extraState: () => ({ tensors: withPrefix('moco/', mocoStateTensors(moco)), extra: { ptr: moco.ptr, rng: shuffleRng.getState() } }),
      restoreExtra: (t, extra) => {
        const e = extra as { ptr: number; rng: RngState };
        restoreMocoState(moco, underPrefix('moco/', t), e.ptr);
        shuffleRng.setState(e.rng);
      },
      step: (b, lr) => mocoStep(model, moco, optimizer, { view1: b.views[0], view2: b.views[1], shape: b.shape }, {
        temperature: p.moco_temperature, momentum: p.moco_momentum, microBatch: p.micro_batch, lr, rng: shuffleRng,
      }),
      features: (x) => model.apply(x, false),
      dispose: () => { model.dispose(); moco.key.dispose(); moco.queue.dispose(); optimizer.dispose(); },
    };
  }
  // rotnet
  const model = createRotnetModel({ name: config.backbone.name, width: config.backbone.width, blocks: config.backbone.blocks }, seed);
  const optimizer = createOptimizer(p, model.parameters());
  const val = createTransform('val', transformSpecFor(config, 'val').options);
  const loader = createLoader({ split: splits.train, batchSize: p.batch_size, shuffle: true, seed: loaderSeed, dropLast: true, views: [{ transform: rotnetBaseTransform(val), source: 'self' }] });
  return {
    model, optimizer, loader,
    extraState: () => ({ tensors: {}, extra: null }),
    restoreExtra: () => undefined,
    step: (b, lr) => rotnetStep(model, optimizer, { view: b.views[0], shape: b.shape }, { microBatch: p.micro_batch, lr }),
    features: (x) => model.backbone.apply(x, false),
    dispose: () => { model.dispose(); optimizer.dispose(); },
  };
}

async function train(config: ScanConfig, run: RunFolder, opts: StageOptions): Promise<StageResult> {
  const p = config.pretext;
  const splits = await loadPretextSplits(config);
  logSplits(p.method, splits);
  const m = setUp(config, splits);
  try {
    if (m.loader.batchesPerEpoch === 0) {
      throw new Error(`pretext.batch_size = ${p.batch_size} is larger than the ${splits.train.size} training images (drop_last leaves no batch)`);
    }
    const vars = allVariables(m.model);
    const result = await runEpochs({
      run, epochs: p.epochs, label: p.method, stepsPerEpoch: m.loader.batchesPerEpoch, checkpointEvery: p.checkpoint_every,
      stopAfterEpochs: opts.stopAfterEpochs,
      state: () => {
        const extra = m.extraState();
        return { tensors: { ...withPrefix('model/', snapshotVariables(vars)), ...withPrefix('optim/', m.optimizer.state()), ...extra.tensors }, extra: extra.extra };
      },
      restore: (tensors, extra) => {
        restoreVariables(vars, underPrefix('model/', tensors), '', run.path('checkpoint.safetensors'));
        m.optimizer.loadState(underPrefix('optim/', tensors), run.path('checkpoint.safetensors'));
        m.restoreExtra(tensors, extra);
      },
      epoch: async (e: number, ctx: EpochContext) => {
        const lr = cosineLr(e, p.epochs, p.lr, p.lr_min);
        let sum = 0;
        let steps = 0;
        for await (const batch of m.loader.epoch(e)) {
          const loss = m.step(batch, lr);
          if (!Number.isFinite(loss)) throw new Error(`${p.method}: loss is ${loss} at epoch ${e + 1}, step ${steps + 1} (lr ${lr})`);
          sum += loss;
          steps++;
          ctx.progress.tick(1, { loss });
        }
        const knn = await knnMonitor(config, m.features, splits);
        return { loss: sum / steps, lr, ...(knn === null ? {} : { knn_accuracy: knn }) };
      },
    });
    if (!result.finished) throw new PretextInterrupted(`${p.method}: stopped after epoch ${result.epochsDone} of ${p.epochs} (stopAfterEpochs); rerun to resume`);

    const last = result.history.at(-1) ?? {};
    const metrics: Record<string, number> = { epochs: result.epochsDone };
    if (last.loss !== undefined) metrics.loss = last.loss;
    const knn = last.knn_accuracy ?? (p.epochs === 0 ? await knnMonitor(config, m.features, splits) : null);
    if (knn !== null && knn !== undefined) metrics.knn_accuracy = knn;
    await saveModel(run.path(MODEL_FILE), m.model, { method: p.method, epochs: String(result.epochsDone) });
    return {
      metrics, artifacts: [MODEL_FILE],
      summary: `${p.method}: ${result.epochsDone} epochs on ${splits.train.size} images` + (metrics.knn_accuracy !== undefined ? `, kNN accuracy ${(100 * metrics.knn_accuracy).toFixed(2)}%` : ''),
    };
  } finally {
    m.dispose();
    await m.loader.close();
  }
}
