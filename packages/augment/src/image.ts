/** A decoded image: uint8, height × width × 3 (RGB), row-major HWC. Same shape as the datasets' images. */
export interface RgbImage {
  data: Uint8Array;
  height: number;
  width: number;
}

/** Throws a message that names `where` and the offending field when `img` is not a well-formed RgbImage. */
export function assertRgbImage(img: RgbImage, where: string): void {
  if (!img || !(img.data instanceof Uint8Array)) {
    throw new TypeError(
      `${where}: image.data must be a Uint8Array (uint8 HWC RGB), got ${img ? typeof img.data : img}`,
    );
  }
  const { height, width } = img;
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new RangeError(`${where}: image height/width must be positive integers, got ${height}×${width}`);
  }
  if (img.data.length !== height * width * 3) {
    throw new RangeError(
      `${where}: image.data has ${img.data.length} bytes but height×width×3 = ${height}×${width}×3 = ${height * width * 3}`,
    );
  }
}

export function newImage(height: number, width: number): RgbImage {
  return { data: new Uint8Array(height * width * 3), height, width };
}

export function cloneImage(img: RgbImage): RgbImage {
  return { data: img.data.slice(), height: img.height, width: img.width };
}
