// @scan-repro/metrics: clustering metrics (Hungarian / majority mapping, accuracy, NMI, ARI, AMI), K-means, kNN.
export {
  applyMapping,
  clusterAccuracy,
  clusterMapping,
  mappedAccuracy,
  hungarianAccuracy,
  hungarianMatch,
  top5Accuracy,
  type MappingRule,
} from './accuracy';
export { argmaxRows, confusionMatrix } from './labels';
export { ami, ari, nmi } from './information';
export { neighborAccuracy } from './neighbors';
export { kmeans } from './kmeans';
export { weightedKnnAccuracy } from './knn';
