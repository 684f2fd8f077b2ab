// @scan-repro/scan: the SCAN clustering stage (loss, training step, label-free best-head selection).
export { scanStep } from './scan-step';
export { runScan } from './stage';
