// @scan-repro/eval: the evaluation stage (metrics, K-means baseline, figures).
export { runEval } from './stage';
