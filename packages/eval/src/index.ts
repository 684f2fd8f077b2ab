// @scan-repro/eval: the evaluation stage (metrics, K-means baseline, pictures).
export { runEval } from './run-eval';
