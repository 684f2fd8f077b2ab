// Public API of @scan-repro/dataset-imagefolder. Importing it registers the `imagefolder` dataset.
// The class-folder machinery it is built on (listing, sharp decode + resize, cached split loading) is in
// @scan-repro/data, shared with the ImageNet reader.
export {
  openImageFolder,
  inspectImageFolder,
  imageFolderFiles,
  HOLDOUT_VAL_FRACTION,
  type ImageFolderInfo,
  type ImageFolderLayout,
} from './imagefolder';
