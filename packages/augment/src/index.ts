// Public API of @scan-repro/augment: the image augmentations of the SCAN reproduction (Pillow/torchvision-exact,
// seeded with core's Rng), as named transforms for the loader and the stages.
export type { RgbImage } from './image';
export { createTransform, type ImageTransform, type TransformName, type TransformOptions } from './pipelines';
