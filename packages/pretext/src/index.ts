export { ntXentLoss, rotnetLoss } from './losses';
export { runPretext, PretextInterrupted } from './stage';
export { simclrStep, type SimclrBatch } from './simclr';
export { mocoStep, createMocoState, type MocoState } from './moco';
export { RotnetModel, createRotnetModel, rot90, rotnetStep } from './rotnet';
export { createPretextContrastiveModel } from './common';
