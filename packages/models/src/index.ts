// @scan-repro/models: ResNet backbones, contrastive and cluster heads, PyTorch-named state dicts, safetensors I/O.
export { createBackbone, type Backbone } from './resnet';
export { createClusterHeads, type ClusterHead } from './heads';
export {
  ContrastiveModel,
  ClusteringModel,
  createContrastiveModel,
  contrastiveModelFromConfig,
  createClusteringModel,
  isPretextHeadKey,
  type NamedModule,
} from './models';
export { stateDict, loadStateDict } from './stateDict';
export { saveModel, loadModel } from './io';
