export { ntXentLoss, rotnetLoss } from './losses';
export { runPretext } from './stage';
export { PRETEXT_METHODS } from './methods';
export { PretextInterrupted, trainedMethod, type PretextMethodFn, type PretextTraining } from './trained-method';
export { simclrStep, type SimclrBatch } from './simclr';
export { mocoStep, createMocoState, shuffleBnPieces, SHUFFLE_BN_GROUPS, type MocoState } from './moco';
export { RotnetModel, createRotnetModel, rot90, rotnetStep } from './rotnet';
export { createPretextContrastiveModel } from './common';
