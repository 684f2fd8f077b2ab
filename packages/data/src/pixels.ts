// Pixel layout conversions from the official storage orders to our uint8 HWC RGB.

/**
 * Planar row-major CHW (CIFAR: 1024 R, 1024 G, 1024 B, each 32x32 row by row) → interleaved HWC.
 * Reads h*w*3 bytes of `src` from `srcOffset`, writes them to `dst` from `dstOffset`.
 */
export function planarRowMajorToHwc(
  src: Uint8Array,
  srcOffset: number,
  dst: Uint8Array,
  dstOffset: number,
  h: number,
  w: number,
): void {
  const plane = h * w;
  for (let p = 0; p < plane; p++) {
    const o = dstOffset + 3 * p;
    dst[o] = src[srcOffset + p];
    dst[o + 1] = src[srcOffset + plane + p];
    dst[o + 2] = src[srcOffset + 2 * plane + p];
  }
}

/**
 * Planar column-major CHW (STL-10: per channel, column by column: byte c*h*w + x*h + y is pixel (row y,
 * column x)) → interleaved HWC. This is what numpy's reshape(3, 96, 96) followed by transpose(2, 1, 0) does.
 */
export function planarColumnMajorToHwc(
  src: Uint8Array,
  srcOffset: number,
  dst: Uint8Array,
  dstOffset: number,
  h: number,
  w: number,
): void {
  const plane = h * w;
  for (let c = 0; c < 3; c++) {
    const base = srcOffset + c * plane;
    for (let x = 0; x < w; x++) {
      const col = base + x * h;
      for (let y = 0; y < h; y++) dst[dstOffset + 3 * (y * w + x) + c] = src[col + y];
    }
  }
}
