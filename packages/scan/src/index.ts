// @scan-repro/scan: the SCAN clustering stage (loss, training step, label-free best-head selection).
export { scanLoss, scanValidationLoss, SCAN_ENTROPY_EPS, type ScanLossTerms } from './scan-loss';
export { scanStep, scanHeadsStep, frozenBackboneFeatures, type ScanStepOptions, type ScanStepResult } from './scan-step';
export { evaluateHeads, updateBestHead, splitHeads, headProbabilitiesForward, type HeadEvaluation, type BestHead } from './scan-validate';
export { runScan } from './stage';
export { singleHeadModule } from './single-head';
export { dropFalsePositiveNeighbors } from './oracle-neighbors';
