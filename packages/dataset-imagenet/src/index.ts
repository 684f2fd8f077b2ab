// @scan-repro/dataset-imagenet: importing it registers imagenet_50, imagenet_100, imagenet_200 (the SCAN subsets,
// class index = line order of subsets/<name>.txt) and imagenet (all wnid folders, sorted).
import './imagenet';
