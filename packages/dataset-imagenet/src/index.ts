// Public API of @scan-repro/dataset-imagenet. Importing it registers imagenet_50, imagenet_100, imagenet_200
// (the SCAN subsets, class index = line order of subsets/<name>.txt) and imagenet (all wnid folders, sorted).
export {
  openImagenet,
  resolveImagenetLayout,
  findImagenetRoot,
  IMAGENET_SPLIT_FOLDERS,
  type ImagenetOptions,
  type ImagenetLayout,
} from './imagenet';
export {
  imagenetSubsetClasses,
  parseSubsetList,
  isImagenetSubsetName,
  IMAGENET_SUBSETS,
  type ImagenetClass,
  type ImagenetSubsetName,
} from './subsets';
