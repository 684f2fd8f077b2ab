// @scan-repro/pretext: the pretext stage (SimCLR, MoCo v2, RotNet, imported weights); its steps for the parity tests.
export { runPretext } from './stage';
export { simclrStep } from './simclr';
export { mocoStep, createMocoState } from './moco';
export { createPretextContrastiveModel } from './common';
