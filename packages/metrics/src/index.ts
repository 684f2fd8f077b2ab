export { linearSumAssignment, type Assignment } from './assignment';
export {
  applyMapping,
  clusterAccuracy,
  clusterMapping,
  mappedAccuracy,
  hungarianAccuracy,
  hungarianMatch,
  majorityVoteMapping,
  top5Accuracy,
  type ClusterMapping,
  type MappingRule,
} from './accuracy';
export { argmaxRows, confusionMatrix, contingencyMatrix, type Labels } from './labels';
export { ami, ari, mutualInformation, nmi } from './information';
export { neighborAccuracy } from './neighbors';
export { kmeans, type KMeansOptions, type KMeansResult } from './kmeans';
export { l2Normalize, weightedKnnAccuracy, weightedKnnPredict, type WeightedKnnOptions } from './knn';
