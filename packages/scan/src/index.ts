// @scan-repro/scan: the SCAN clustering stage; its step for the parity tests.
export { scanStep } from './scan-step';
export { runScan } from './run-scan';
