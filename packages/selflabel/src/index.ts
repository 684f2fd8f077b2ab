// @scan-repro/selflabel: the self-labeling stage (confidence-masked, class-balanced cross-entropy).
export { balancingWeights, confidenceBasedCE, confidentTargets, type ConfidenceBasedCEResult } from './selflabel-loss';
export { selflabelStep, type SelflabelStepOptions, type SelflabelStepResult } from './selflabel-step';
export { runSelflabel } from './stage';
export { monitorAccuracy } from './monitor';
