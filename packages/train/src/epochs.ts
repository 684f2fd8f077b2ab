// The epoch loop shared by the training stages: resume from the run folder's checkpoint, run the remaining
// epochs with a progress bar each, log per-epoch metrics, and checkpoint every N epochs (and after the last).
import { createProgress, log, RUN_FILES, type NamedArray, type RunFolder, type Progress } from '@scan-repro/core';

export interface EpochContext {
  /** This epoch's progress bar; created with `stepsPerEpoch` as its total. */
  progress: Progress;
}

export interface RunEpochsOptions {
  run: RunFolder;
  epochs: number;
  /** Progress and log label, e.g. 'simclr'. */
  label: string;
  /** Steps per epoch (progress total). */
  stepsPerEpoch: number;
  /** Save a checkpoint every N epochs (0 = never; default 1); when N > 0 the last epoch is always saved. */
  checkpointEvery?: number;
  /** Everything needed to continue: model variables, optimizer state, and any JSON-able extra state. */
  state: () => { tensors: Record<string, NamedArray>; extra?: unknown };
  /** Restores what `state` produced (called once, before the first epoch, when resuming); `source` names the
   *  checkpoint file for error messages. */
  restore: (tensors: Record<string, NamedArray>, extra: unknown, source: string) => void;
  /** Trains one epoch (0-based) and returns its metrics, logged as `${key}` with step = epoch + 1. */
  epoch: (epoch: number, ctx: EpochContext) => Promise<Record<string, number>>;
  /** Stop after this many epochs in this call (tests and time-boxed runs); a rerun resumes. */
  stopAfterEpochs?: number;
}

export interface RunEpochsResult {
  /** Epochs completed in total (resumed + run now). */
  epochsDone: number;
  /** Epoch the run resumed at (0 = fresh). */
  resumedAt: number;
  /** Whether all `epochs` are done (false when stopAfterEpochs cut it short). */
  finished: boolean;
  /** Metrics of every completed epoch, including resumed ones. */
  history: Record<string, number>[];
}

export async function runEpochs(opts: RunEpochsOptions): Promise<RunEpochsResult> {
  const every = opts.checkpointEvery ?? 1;
  if (!Number.isInteger(opts.epochs) || opts.epochs < 0)
    throw new Error(`runEpochs(${opts.label}): epochs = ${opts.epochs}, expected an integer >= 0`);
  let start = 0;
  let history: Record<string, number>[] = [];
  const ckpt = await opts.run.loadCheckpoint();
  if (ckpt) {
    const source = opts.run.path(RUN_FILES.checkpoint);
    const saved = (ckpt.state ?? {}) as { label?: string; history?: Record<string, number>[]; extra?: unknown };
    if (saved.label !== opts.label) {
      throw new Error(
        `${source}: checkpoint of '${saved.label}', this loop is '${opts.label}'; delete it to start fresh`,
      );
    }
    if (ckpt.epoch > opts.epochs) {
      throw new Error(`${source}: saved at epoch ${ckpt.epoch}, beyond the configured ${opts.epochs} epochs`);
    }
    opts.restore(ckpt.tensors, saved.extra, source);
    start = ckpt.epoch;
    history = saved.history ?? [];
    log.info(`${opts.label}: resumed from the checkpoint at epoch ${start}/${opts.epochs}`);
  }

  const save = async (epochsDone: number): Promise<void> => {
    const { tensors, extra } = opts.state();
    await opts.run.saveCheckpoint({
      epoch: epochsDone,
      step: epochsDone * opts.stepsPerEpoch,
      tensors,
      state: { label: opts.label, history, extra },
    });
  };

  let ran = 0;
  let e = start;
  for (; e < opts.epochs; e++) {
    if (opts.stopAfterEpochs !== undefined && ran >= opts.stopAfterEpochs) break;
    const progress = createProgress(`${opts.label} epoch ${e + 1}/${opts.epochs}`, opts.stepsPerEpoch);
    let metrics: Record<string, number>;
    try {
      metrics = await opts.epoch(e, { progress });
    } finally {
      progress.stop();
    }
    for (const [key, value] of Object.entries(metrics)) opts.run.logMetric(key, value, e + 1);
    history.push(metrics);
    ran++;
    const summary = Object.entries(metrics)
      .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toPrecision(4)}`)
      .join(' ');
    log.info(`${opts.label}: epoch ${e + 1}/${opts.epochs} ${summary}`);
    if (every > 0 && ((e + 1) % every === 0 || e + 1 === opts.epochs)) await save(e + 1);
  }
  return { epochsDone: e, resumedAt: start, finished: e >= opts.epochs, history };
}
