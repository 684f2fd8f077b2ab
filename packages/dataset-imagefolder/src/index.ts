// @scan-repro/dataset-imagefolder: importing it registers the `imagefolder` dataset. The class-folder machinery it
// is built on (listing, sharp decode + resize, cached split loading) is in @scan-repro/data, shared with the
// ImageNet reader.
import './imagefolder';
