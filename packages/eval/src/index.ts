// @scan-repro/eval: the evaluation stage (metrics, K-means baseline, pictures).
export { runEval } from './stage';
export { evaluateClustering, prototypeIndices, assignToCentroids, type ClusterEvaluation } from './evaluate';
export { Canvas, encodePng, textWidth, heatmapLayout, renderConfusionPng, renderImageGridPng, renderCurvesPng, type HeatmapLayout, type Rgb } from './png';
