// Public API of @scan-repro/dataset-imagefolder. Importing it registers the `imagefolder` dataset.
// It also holds the class-folder machinery (listing, sharp decode + resize, cached split loading) that the
// ImageNet reader builds on.
export {
  openImageFolder,
  inspectImageFolder,
  imageFolderFiles,
  checkNumClasses,
  HOLDOUT_VAL_FRACTION,
  type ImageFolderInfo,
  type ImageFolderLayout,
} from './imagefolder';
export { listClassFolderFiles, listImageFiles, listSubfolders, type FileList } from './folders';
export { decodeImageFile, decodeImagesInOrder, resizedShape, isImageFileName, IMAGE_EXTENSIONS } from './decode';
export { loadFolderSplit, type FolderSplitSpec } from './split';
