// Decoding image files (JPEG, PNG, WebP) to uint8 HWC RGB with sharp, as PIL + torchvision do it: shared by the
// folder-based dataset readers (imagefolder, ImageNet) and any new reader of image files.
import sharp from 'sharp';
import type { DecodedImage } from './dataset';

/** Image file extensions the folder readers accept (compared lower-case). */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp'] as const;

export function isImageFileName(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

/**
 * Output size of torchvision's `Resize(size)` with an int size (what the official SCAN ImageNet datasets use,
 * torchvision 0.5): the shorter side becomes `size`, the longer side `int(size * long / short)` (truncated),
 * a square stays square. `size = 0` means no resize.
 */
export function resizedShape(height: number, width: number, size: number): { height: number; width: number } {
  if (size <= 0) return { height, width };
  if (width <= height) return { width: size, height: Math.floor((size * height) / width) };
  return { height: size, width: Math.floor((size * width) / height) };
}

/**
 * Decode one image file to uint8 HWC RGB, shorter side resized to `resize` (0 = keep size).
 * Mirrors PIL's `Image.open(p).convert('RGB')` + torchvision Resize (bilinear): no EXIF auto-rotation,
 * alpha dropped, greyscale/CMYK/16-bit converted to 8-bit sRGB.
 */
export async function decodeImageFile(path: string, resize: number): Promise<DecodedImage> {
  try {
    const image = sharp(path, { failOn: 'error' });
    const meta = await image.metadata();
    if (!meta.width || !meta.height) throw new Error('image has no width/height');
    // EXIF orientations 5-8 swap width and height on display, but we decode unrotated like PIL does.
    const target = resizedShape(meta.height, meta.width, resize);
    let pipeline = image.removeAlpha().toColourspace('srgb');
    if (target.height !== meta.height || target.width !== meta.width) {
      pipeline = pipeline.resize({ width: target.width, height: target.height, fit: 'fill', kernel: 'linear' });
    }
    const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3 (RGB)`);
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      height: info.height,
      width: info.width,
    };
  } catch (err) {
    throw new Error(
      `cannot decode image ${path}: ${(err as Error).message} (expected a readable JPEG, PNG or WebP file)`,
      { cause: err },
    );
  }
}

export interface DecodeOptions {
  /** shorter side target (0 = keep the original size) */
  resize: number;
  /** images decoded at once; libvips threads each decode, so a few per core keeps the pool busy */
  concurrency?: number;
  /** receives every decoded image exactly once, in file order (so it can be streamed into the cache) */
  onImage: (i: number, image: DecodedImage) => void;
}

/**
 * Decodes many files with bounded concurrency, so 7,000+ JPEGs neither run one at a time nor open all at
 * once, and hands them out in file order. Files are taken in windows of 4 x concurrency: decoded images wait
 * at most one window for their predecessors, which bounds memory. The first unreadable file rejects,
 * naming the file.
 */
export async function decodeImagesInOrder(files: readonly string[], opts: DecodeOptions): Promise<void> {
  const concurrency = Math.max(1, opts.concurrency ?? 8);
  const window = 4 * concurrency;
  for (let start = 0; start < files.length; start += window) {
    const end = Math.min(files.length, start + window);
    const decoded: DecodedImage[] = new Array(end - start);
    let next = start;
    const worker = async () => {
      while (next < end) {
        const i = next++;
        decoded[i - start] = await decodeImageFile(files[i], opts.resize);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, end - start) }, worker));
    for (let i = start; i < end; i++) opts.onImage(i, decoded[i - start]);
  }
}
