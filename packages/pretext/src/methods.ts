// The pretext methods by their config name (pretext.method). A new method is one file exporting a PretextMethodFn
// (usually trainedMethod(setUp), see simclr.ts) and one line here.
import type { PretextMethod } from '@scan-repro/core';
import { importWeights } from './import';
import { moco } from './moco';
import { rotnet } from './rotnet';
import { simclr } from './simclr';
import type { PretextMethodFn } from './trained-method';

export const PRETEXT_METHODS: Record<PretextMethod, PretextMethodFn> = {
  simclr,
  moco,
  rotnet,
  import: importWeights,
};
