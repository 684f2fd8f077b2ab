// @scan-repro/selflabel: the self-labeling stage (confidence-masked, class-balanced cross-entropy); its step for
// the parity tests.
export { selflabelStep } from './selflabel-step';
export { runSelflabel } from './run-selflabel';
