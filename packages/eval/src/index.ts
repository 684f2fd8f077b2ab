// @scan-repro/eval: the evaluation stage (metrics, K-means baseline, figures).
export { runEval } from './run-eval';
export { evaluateClustering, prototypeIndices, assignToCentroids, type ClusterEvaluation } from './evaluate';
export { learningCurvePanels, writeFigure } from './figures';
