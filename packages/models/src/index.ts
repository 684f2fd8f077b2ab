export { createBackbone, type Backbone, type BackboneConfig, type BackboneName } from './resnet';
export { createContrastiveHead, createClusterHeads, type ContrastiveHead, type ClusterHead } from './heads';
export {
  ContrastiveModel,
  ClusteringModel,
  createContrastiveModel,
  contrastiveModelFromConfig,
  createClusteringModel,
  isPretextHeadKey,
  PRETEXT_HEAD_PREFIXES,
  type NamedModule,
} from './models';
export { stateDict, loadStateDict, torchShape, type LoadStateDictOptions, type LoadStateDictReport } from './stateDict';
export { saveModel, loadModel } from './io';
export { BN_EPS, BN_MOMENTUM } from './layers';
