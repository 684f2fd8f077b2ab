// @scan-repro/selflabel: the self-labeling stage (confidence-masked, class-balanced cross-entropy).
export { selflabelStep } from './selflabel-step';
export { runSelflabel } from './stage';
