// pretext.method = import: the representation comes from elsewhere (e.g. MoCo v2's ImageNet weights converted
// with tools/convert); it is loaded into our contrastive model and written as this run's model.
import { stat } from 'node:fs/promises';
import { ARTIFACTS, log } from '@scan-repro/core';
import { loadModel, saveModel } from '@scan-repro/models';
import { createPretextContrastiveModel, streamSeed, STREAM } from './common';
import type { PretextMethodFn } from './trained-method';

export const importWeights: PretextMethodFn = async (config, run) => {
  const path = config.pretext.weights;
  if (!path)
    throw new Error(
      'pretext.method = import needs pretext.weights = /path/to/weights.safetensors (convert .pth files with tools/convert)',
    );
  if (!(await stat(path).catch(() => null))?.isFile()) throw new Error(`pretext.weights = '${path}': no such file`);
  const model = createPretextContrastiveModel(config, streamSeed(config, STREAM.model));
  try {
    // Without a contrastive head in the file, only backbone features make sense downstream.
    const headOptional = config.mine.features === 'backbone';
    const report = await loadModel(path, model, {
      allowMissing: (k) => headOptional && k.startsWith('contrastive_head.'),
    });
    if (report.missing.length)
      log.warn(`pretext import: ${path} has no ${report.missing.join(', ')}; those keep their random initialisation`);
    await saveModel(run.path(ARTIFACTS.model), model, {
      method: 'import',
      source: path,
      head: report.missing.length ? 'random' : 'imported',
    });
    return {
      metrics: { imported_tensors: report.loaded.length },
      artifacts: [ARTIFACTS.model],
      summary: `imported ${report.loaded.length} tensors from ${path}`,
    };
  } finally {
    model.dispose();
  }
};
