export { confidenceBasedCE, type ConfidenceBasedCEResult } from './selflabel-loss';
