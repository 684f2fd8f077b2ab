// The pretext stage: learn (SimCLR / MoCo / RotNet) or import the representation that mining and SCAN start from.
// Output: the model artifact with PyTorch names (backbone.* + contrastive_head.*, or rotnet_head.* for RotNet).
import type { Stage } from '@scan-repro/core';
import { PRETEXT_METHODS } from './methods';

export const runPretext: Stage = async (config, run, _inputs, opts = {}) => {
  const method = Object.hasOwn(PRETEXT_METHODS, config.pretext.method)
    ? PRETEXT_METHODS[config.pretext.method]
    : undefined;
  if (!method)
    throw new Error(
      `pretext.method = '${config.pretext.method}', expected one of ${Object.keys(PRETEXT_METHODS).join(', ')}`,
    );
  return method(config, run, opts);
};
