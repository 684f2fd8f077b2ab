export { scanLoss, scanValidationLoss, SCAN_ENTROPY_EPS, type ScanLossTerms } from './scan-loss';
