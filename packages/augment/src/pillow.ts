// Pillow-exact image primitives on uint8 HWC RGB images.
//
// The official SCAN code (data/augment.py, utils/common_config.py) runs every augmentation through Pillow
// (and torchvision's PIL backend). These functions reproduce Pillow's C code bit for bit, including its
// float32 arithmetic (emulated with Math.fround) and its fixed-point paths, so that our augmented pixels equal
// Pillow's. Each function names the Pillow call it reproduces. None of them mutates its input.
//
// Sources followed: Pillow src/libImaging/{Blend,Filter,Geometry,Resample,Convert}.c and PIL/{ImageOps,
// ImageEnhance,Image}.py; verified against Pillow 13.0 by the goldens in test/__goldens__/.

import { type RgbImage, cloneImage, newImage } from './image';

const f32 = Math.fround;

// ---------------------------------------------------------------------------------------------------------
// Point operations (lookup tables)

/** Applies one 256-entry table to all three channels (Image.point with a 256-entry LUT). */
export function applyLut(img: RgbImage, lut: Uint8Array): RgbImage {
  const src = img.data;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = lut[src[i]];
  return { data: out, height: img.height, width: img.width };
}

/** Applies a per-channel table: lut[c * 256 + v] (Image.point with a 768-entry LUT). */
export function applyChannelLuts(img: RgbImage, lut: Uint8Array): RgbImage {
  const src = img.data;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i += 3) {
    out[i] = lut[src[i]];
    out[i + 1] = lut[256 + src[i + 1]];
    out[i + 2] = lut[512 + src[i + 2]];
  }
  return { data: out, height: img.height, width: img.width };
}

/** Per-channel histograms, hist[c * 256 + v] (Image.histogram). */
export function histogram(img: RgbImage): Uint32Array {
  const hist = new Uint32Array(768);
  const src = img.data;
  for (let i = 0; i < src.length; i += 3) {
    hist[src[i]]++;
    hist[256 + src[i + 1]]++;
    hist[512 + src[i + 2]]++;
  }
  return hist;
}

/** PIL.ImageOps.autocontrast(img) with cutoff 0: stretch each channel's [min, max] to [0, 255]. */
export function autocontrast(img: RgbImage): RgbImage {
  const hist = histogram(img);
  const lut = new Uint8Array(768);
  for (let c = 0; c < 3; c++) {
    const base = c * 256;
    let lo = 0;
    while (lo < 255 && hist[base + lo] === 0) lo++;
    let hi = 255;
    while (hi > 0 && hist[base + hi] === 0) hi--;
    if (hi <= lo) {
      for (let i = 0; i < 256; i++) lut[base + i] = i;
      continue;
    }
    const scale = 255.0 / (hi - lo);
    const offset = -lo * scale;
    for (let i = 0; i < 256; i++) {
      const v = Math.trunc(i * scale + offset); // Python int() truncates toward zero
      lut[base + i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return applyChannelLuts(img, lut);
}

/** PIL.ImageOps.equalize(img): per-channel histogram equalisation with Pillow's integer step. */
export function equalize(img: RgbImage): RgbImage {
  const hist = histogram(img);
  const lut = new Uint8Array(768);
  for (let c = 0; c < 3; c++) {
    const base = c * 256;
    let nonzero = 0;
    let total = 0;
    let last = 0;
    for (let i = 0; i < 256; i++) {
      const n = hist[base + i];
      if (n) {
        nonzero++;
        total += n;
        last = n;
      }
    }
    const step = nonzero <= 1 ? 0 : Math.floor((total - last) / 255);
    if (step === 0) {
      for (let i = 0; i < 256; i++) lut[base + i] = i;
      continue;
    }
    let n = Math.floor(step / 2);
    for (let i = 0; i < 256; i++) {
      const v = Math.floor(n / step);
      lut[base + i] = v > 255 ? 255 : v; // Image.point clips table entries to 0..255
      n += hist[base + i];
    }
  }
  return applyChannelLuts(img, lut);
}

/** PIL.ImageOps.solarize(img, threshold): invert every value >= threshold (threshold may be fractional). */
export function solarize(img: RgbImage, threshold: number): RgbImage {
  const lut = new Uint8Array(256);
  for (let i = 0; i < 256; i++) lut[i] = i < threshold ? i : 255 - i;
  return applyLut(img, lut);
}

/** PIL.ImageOps.posterize(img, bits): keep the top `bits` bits (1..8) of every value. */
export function posterize(img: RgbImage, bits: number): RgbImage {
  if (!Number.isInteger(bits) || bits < 1 || bits > 8) {
    throw new RangeError(`posterize: bits must be an integer in 1..8, got ${bits}`);
  }
  const mask = ~(2 ** (8 - bits) - 1) & 0xff;
  const lut = new Uint8Array(256);
  for (let i = 0; i < 256; i++) lut[i] = i & mask;
  return applyLut(img, lut);
}

// ---------------------------------------------------------------------------------------------------------
// Grayscale, blend and the ImageEnhance family

/** Pillow's RGB -> "L": (R*19595 + G*38470 + B*7471 + 0x8000) >> 16, i.e. ITU-R 601-2 luma rounded. */
export function grayscaleL(img: RgbImage): Uint8Array {
  const src = img.data;
  const n = img.height * img.width;
  const out = new Uint8Array(n);
  for (let p = 0, i = 0; p < n; p++, i += 3) {
    out[p] = (src[i] * 19595 + src[i + 1] * 38470 + src[i + 2] * 7471 + 0x8000) >> 16;
  }
  return out;
}

/** img.convert("L").convert("RGB"): torchvision rgb_to_grayscale(img, 3) and ImageEnhance.Color's base. */
export function grayscaleRgb(img: RgbImage): RgbImage {
  const l = grayscaleL(img);
  const out = new Uint8Array(l.length * 3);
  for (let p = 0, i = 0; p < l.length; p++, i += 3) {
    out[i] = out[i + 1] = out[i + 2] = l[p];
  }
  return { data: out, height: img.height, width: img.width };
}

/**
 * Image.blend(degenerate, image, factor) on uint8 buffers (Blend.c). `factor` is passed to C as a float32;
 * for 0 <= factor <= 1 the result is truncated, otherwise it is clipped to 0..255 first.
 */
export function blendBuffers(degenerate: Uint8Array, image: Uint8Array, factor: number): Uint8Array {
  const a = f32(factor);
  if (a === 0) return degenerate.slice();
  if (a === 1) return image.slice();
  const out = new Uint8Array(image.length);
  if (a >= 0 && a <= 1) {
    for (let i = 0; i < image.length; i++) {
      const d = degenerate[i];
      out[i] = f32(d + f32(a * (image[i] - d)));
    }
  } else {
    for (let i = 0; i < image.length; i++) {
      const d = degenerate[i];
      const t = f32(d + f32(a * (image[i] - d)));
      out[i] = t <= 0 ? 0 : t >= 255 ? 255 : t;
    }
  }
  return out;
}

/** Blend against a constant degenerate value (Brightness: 0, Contrast: mean grey) through a 256-entry table. */
function blendConstant(img: RgbImage, constant: number, factor: number): RgbImage {
  const a = f32(factor);
  if (a === 0) {
    const out = newImage(img.height, img.width);
    out.data.fill(constant);
    return out;
  }
  if (a === 1) return cloneImage(img);
  const lut = new Uint8Array(256);
  const interpolate = a >= 0 && a <= 1;
  for (let v = 0; v < 256; v++) {
    const t = f32(constant + f32(a * (v - constant)));
    lut[v] = interpolate ? t : t <= 0 ? 0 : t >= 255 ? 255 : t;
  }
  return applyLut(img, lut);
}

/** ImageEnhance.Brightness(img).enhance(factor) = torchvision adjust_brightness on PIL images. */
export function adjustBrightness(img: RgbImage, factor: number): RgbImage {
  return blendConstant(img, 0, factor);
}

/** Mean of the "L" image rounded as ImageEnhance.Contrast does: int(mean + 0.5). */
export function contrastMean(img: RgbImage): number {
  const l = grayscaleL(img);
  let sum = 0;
  for (let i = 0; i < l.length; i++) sum += l[i];
  return Math.trunc(sum / l.length + 0.5);
}

/** ImageEnhance.Contrast(img).enhance(factor) = torchvision adjust_contrast on PIL images. */
export function adjustContrast(img: RgbImage, factor: number): RgbImage {
  return blendConstant(img, contrastMean(img), factor);
}

/** ImageEnhance.Color(img).enhance(factor) = torchvision adjust_saturation on PIL images. */
export function adjustSaturation(img: RgbImage, factor: number): RgbImage {
  const a = f32(factor);
  if (a === 1) return cloneImage(img);
  const gray = grayscaleRgb(img);
  return { data: blendBuffers(gray.data, img.data, a), height: img.height, width: img.width };
}

const SMOOTH_EDGE = f32(1 / 13); // ImageFilter.SMOOTH: kernel (1 1 1 / 1 5 1 / 1 1 1), scale 13, as float32
const SMOOTH_CENTRE = f32(5 / 13);
const smoothEdgeLut = new Float32Array(256);
const smoothCentreLut = new Float32Array(256);
for (let v = 0; v < 256; v++) {
  smoothEdgeLut[v] = f32(v * SMOOTH_EDGE);
  smoothCentreLut[v] = f32(v * SMOOTH_CENTRE);
}

/**
 * img.filter(ImageFilter.SMOOTH) (Filter.c ImagingFilter3x3): float32 sums in Pillow's order (row below,
 * centre row, row above; left to right) plus 0.5, truncated; the one-pixel border is copied unchanged, and
 * images smaller than 3×3 are returned unchanged.
 */
export function smoothFilter(img: RgbImage): RgbImage {
  const { height: h, width: w } = img;
  const src = img.data;
  if (h < 3 || w < 3) return cloneImage(img);
  const out = src.slice(); // borders stay as they are
  const E = smoothEdgeLut;
  const C = smoothCentreLut;
  const row = w * 3;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * row + x * 3;
      for (let c = 0; c < 3; c++) {
        const b = i + row + c; // row y + 1 (Pillow's kernel[0..2])
        const m = i + c; // row y
        const t = i - row + c; // row y - 1
        let ss = 0.5;
        ss = f32(ss + f32(f32(E[src[b - 3]] + E[src[b]]) + E[src[b + 3]]));
        ss = f32(ss + f32(f32(E[src[m - 3]] + C[src[m]]) + E[src[m + 3]]));
        ss = f32(ss + f32(f32(E[src[t - 3]] + E[src[t]]) + E[src[t + 3]]));
        out[m] = ss <= 0 ? 0 : ss >= 255 ? 255 : ss;
      }
    }
  }
  return { data: out, height: h, width: w };
}

/** ImageEnhance.Sharpness(img).enhance(factor): blend of the SMOOTH-filtered image and the image. */
export function adjustSharpness(img: RgbImage, factor: number): RgbImage {
  const smooth = smoothFilter(img);
  return { data: blendBuffers(smooth.data, img.data, factor), height: img.height, width: img.width };
}

// ---------------------------------------------------------------------------------------------------------
// HSV (Convert.c rgb2hsv_row / hsv2rgb) and torchvision adjust_hue

/**
 * torchvision's adjust_hue on PIL images: convert to Pillow HSV (uint8), add int(hue_factor * 255) to H with
 * uint8 wrap-around, convert back. hueFactor must be in [-0.5, 0.5].
 */
export function adjustHue(img: RgbImage, hueFactor: number): RgbImage {
  if (!(hueFactor >= -0.5 && hueFactor <= 0.5)) {
    throw new RangeError(`adjustHue: hue factor must be in [-0.5, 0.5], got ${hueFactor}`);
  }
  const shift = Math.trunc(hueFactor * 255) & 0xff; // np.int32(hue_factor * 255).astype(np.uint8)
  const src = img.data;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i += 3) {
    const r = src[i];
    const g = src[i + 1];
    const b = src[i + 2];
    // rgb2hsv_row, with float32 locals as in C
    const maxc = r > g ? (r > b ? r : b) : g > b ? g : b;
    const minc = r < g ? (r < b ? r : b) : g < b ? g : b;
    const v = maxc;
    let hh = 0;
    let ss = 0;
    if (maxc !== minc) {
      const cr = maxc - minc;
      const s = f32(cr / maxc);
      const rc = f32((maxc - r) / cr);
      const gc = f32((maxc - g) / cr);
      const bc = f32((maxc - b) / cr);
      let hf: number;
      if (r === maxc) hf = f32(bc - gc);
      else if (g === maxc) hf = f32(2.0 + rc - bc);
      else hf = f32(4.0 + gc - rc);
      hf = f32((hf / 6.0 + 1.0) % 1.0);
      hh = clip8Int(Math.trunc(hf * 255.0));
      ss = clip8Int(Math.trunc(s * 255.0));
    }
    hh = (hh + shift) & 0xff;
    // hsv2rgb
    if (ss === 0) {
      out[i] = out[i + 1] = out[i + 2] = v;
      continue;
    }
    const sector = Math.floor((hh * 6.0) / 255.0);
    const f = f32((hh * 6.0) / 255.0 - sector);
    const fs = f32(ss / 255.0);
    const p = clip8Int(roundHalfAwayFromZero(v * (1.0 - fs)));
    const q = clip8Int(roundHalfAwayFromZero(v * (1.0 - f32(fs * f))));
    const t = clip8Int(roundHalfAwayFromZero(v * (1.0 - fs * (1.0 - f))));
    switch (sector % 6) {
      case 0:
        out[i] = v;
        out[i + 1] = t;
        out[i + 2] = p;
        break;
      case 1:
        out[i] = q;
        out[i + 1] = v;
        out[i + 2] = p;
        break;
      case 2:
        out[i] = p;
        out[i + 1] = v;
        out[i + 2] = t;
        break;
      case 3:
        out[i] = p;
        out[i + 1] = q;
        out[i + 2] = v;
        break;
      case 4:
        out[i] = t;
        out[i + 1] = p;
        out[i + 2] = v;
        break;
      default:
        out[i] = v;
        out[i + 1] = p;
        out[i + 2] = q;
        break;
    }
  }
  return { data: out, height: img.height, width: img.width };
}

function clip8Int(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : v;
}

/** C round(): halves away from zero. */
function roundHalfAwayFromZero(x: number): number {
  return x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5);
}

// ---------------------------------------------------------------------------------------------------------
// Geometry: flips, crops, exact quarter turns

/** Image.transpose(FLIP_LEFT_RIGHT) = torchvision hflip. */
export function flipLeftRight(img: RgbImage): RgbImage {
  const { height: h, width: w } = img;
  const src = img.data;
  const out = new Uint8Array(src.length);
  const row = w * 3;
  for (let y = 0; y < h; y++) {
    const base = y * row;
    for (let x = 0; x < w; x++) {
      const s = base + x * 3;
      const d = base + (w - 1 - x) * 3;
      out[d] = src[s];
      out[d + 1] = src[s + 1];
      out[d + 2] = src[s + 2];
    }
  }
  return { data: out, height: h, width: w };
}

/**
 * Image.crop((left, top, left + width, top + height)): regions outside the image are zero, as in Pillow.
 * Returns the input itself when the crop is the whole image (callers never mutate images).
 */
export function crop(img: RgbImage, top: number, left: number, height: number, width: number): RgbImage {
  if (top === 0 && left === 0 && height === img.height && width === img.width) return img;
  const out = new Uint8Array(height * width * 3);
  const src = img.data;
  const srcRow = img.width * 3;
  const x0 = Math.max(0, -left);
  const x1 = Math.min(width, img.width - left);
  if (x1 > x0) {
    for (let y = 0; y < height; y++) {
      const sy = top + y;
      if (sy < 0 || sy >= img.height) continue;
      const s = sy * srcRow + (left + x0) * 3;
      out.set(src.subarray(s, s + (x1 - x0) * 3), (y * width + x0) * 3);
    }
  }
  return { data: out, height, width };
}

/**
 * Rotates by k quarter turns counter-clockwise (k mod 4), exactly: Image.transpose(ROTATE_90/180/270),
 * also equal to np.rot90(hwc, k). Non-square images swap height and width for odd k.
 */
export function rotate90(img: RgbImage, k: number): RgbImage {
  const turns = ((Math.trunc(k) % 4) + 4) % 4;
  const { height: h, width: w } = img;
  const src = img.data;
  if (turns === 0) return cloneImage(img);
  const oh = turns === 2 ? h : w;
  const ow = turns === 2 ? w : h;
  const out = new Uint8Array(src.length);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let sy: number;
      let sx: number;
      if (turns === 1) {
        sy = x;
        sx = w - 1 - y;
      } else if (turns === 2) {
        sy = h - 1 - y;
        sx = w - 1 - x;
      } else {
        sy = h - 1 - x;
        sx = y;
      }
      const s = (sy * w + sx) * 3;
      const d = (y * ow + x) * 3;
      out[d] = src[s];
      out[d + 1] = src[s + 1];
      out[d + 2] = src[s + 2];
    }
  }
  return { data: out, height: oh, width: ow };
}

// ---------------------------------------------------------------------------------------------------------
// Affine transforms with nearest-neighbour sampling (Geometry.c ImagingTransformAffine), fill 0

/** COORD() in Geometry.c: negative coordinates map to -1, others truncate. */
function coord(v: number): number {
  return v < 0 ? -1 : Math.trunc(v);
}

/**
 * img.transform(img.size, Image.AFFINE, a, NEAREST) with Pillow's default fill (black). `a` maps output pixel
 * centres to input coordinates: (x, y) -> (a0 x + a1 y + a2, a3 x + a4 y + a5). Follows Pillow's dispatch:
 * pure scale/translate matrices use ImagingScaleAffine (double), others 16.16 fixed point when in range.
 */
export function affineNearest(img: RgbImage, a: readonly number[]): RgbImage {
  const { height: h, width: w } = img;
  if (a[1] === 0 && a[3] === 0) return scaleAffine(img, a);
  const fixedOk = (x: number, y: number) =>
    Math.abs(x * a[0] + y * a[1] + a[2]) < 32768.0 && Math.abs(x * a[3] + y * a[4] + a[5]) < 32768.0;
  if (fixedOk(0, 0) && fixedOk(w, h) && fixedOk(0, h) && fixedOk(w, 0)) return affineFixed(img, a);
  return affineFloat(img, a);
}

function scaleAffine(img: RgbImage, a: readonly number[]): RgbImage {
  const { height: h, width: w } = img;
  const src = img.data;
  const out = new Uint8Array(src.length);
  const xintab = new Int32Array(w);
  let xo = a[2] + a[0] * 0.5;
  let yo = a[5] + a[4] * 0.5;
  let xmin = w;
  let xmax = 0;
  for (let x = 0; x < w; x++) {
    const xin = coord(xo);
    if (xin >= 0 && xin < w) {
      xmax = x + 1;
      if (x < xmin) xmin = x;
      xintab[x] = xin;
    }
    xo += a[0];
  }
  for (let y = 0; y < h; y++) {
    const yi = coord(yo);
    if (yi >= 0 && yi < h) {
      const srow = yi * w * 3;
      const drow = y * w * 3;
      for (let x = xmin; x < xmax; x++) {
        const s = srow + xintab[x] * 3;
        const d = drow + x * 3;
        out[d] = src[s];
        out[d + 1] = src[s + 1];
        out[d + 2] = src[s + 2];
      }
    }
    yo += a[4];
  }
  return { data: out, height: h, width: w };
}

function affineFixed(img: RgbImage, a: readonly number[]): RgbImage {
  const { height: h, width: w } = img;
  const src = img.data;
  const out = new Uint8Array(src.length);
  const fix = (v: number) => Math.floor(v * 65536.0 + 0.5) | 0;
  const a0 = fix(a[0]);
  const a1 = fix(a[1]);
  const a3 = fix(a[3]);
  const a4 = fix(a[4]);
  let a2 = fix(a[2] + a[0] * 0.5 + a[1] * 0.5);
  let a5 = fix(a[5] + a[3] * 0.5 + a[4] * 0.5);
  for (let y = 0; y < h; y++) {
    let xx = a2;
    let yy = a5;
    let d = y * w * 3;
    for (let x = 0; x < w; x++, d += 3) {
      const xin = xx >> 16;
      if (xin >= 0 && xin < w) {
        const yin = yy >> 16;
        if (yin >= 0 && yin < h) {
          const s = (yin * w + xin) * 3;
          out[d] = src[s];
          out[d + 1] = src[s + 1];
          out[d + 2] = src[s + 2];
        }
      }
      xx = (xx + a0) | 0;
      yy = (yy + a3) | 0;
    }
    a2 = (a2 + a1) | 0;
    a5 = (a5 + a4) | 0;
  }
  return { data: out, height: h, width: w };
}

function affineFloat(img: RgbImage, a: readonly number[]): RgbImage {
  const { height: h, width: w } = img;
  const src = img.data;
  const out = new Uint8Array(src.length);
  let xo = a[2] + a[1] * 0.5 + a[0] * 0.5;
  let yo = a[5] + a[4] * 0.5 + a[3] * 0.5;
  for (let y = 0; y < h; y++) {
    let xx = xo;
    let yy = yo;
    let d = y * w * 3;
    for (let x = 0; x < w; x++, d += 3) {
      const xin = coord(xx);
      if (xin >= 0 && xin < w) {
        const yin = coord(yy);
        if (yin >= 0 && yin < h) {
          const s = (yin * w + xin) * 3;
          out[d] = src[s];
          out[d + 1] = src[s + 1];
          out[d + 2] = src[s + 2];
        }
      }
      xx += a[0];
      yy += a[3];
    }
    xo += a[1];
    yo += a[4];
  }
  return { data: out, height: h, width: w };
}

/** Python's round(x, 15) for the rotation matrix entries (correctly rounded decimal). */
function round15(x: number): number {
  return Number(x.toFixed(15));
}

/**
 * img.rotate(degrees) with Pillow's defaults: counter-clockwise about the centre (w/2, h/2), NEAREST,
 * same size, fill black. Multiples of 180° (and of 90° for square images) take Pillow's exact transpose path.
 */
export function rotate(img: RgbImage, degrees: number): RgbImage {
  let angle = degrees % 360.0; // Python float modulo: result has the sign of 360
  if (angle !== 0 && angle < 0) angle += 360.0;
  if (angle === 0) return cloneImage(img);
  if (angle === 180) return rotate90(img, 2);
  if ((angle === 90 || angle === 270) && img.width === img.height) return rotate90(img, angle === 90 ? 1 : 3);
  const cx = img.width / 2;
  const cy = img.height / 2;
  const rad = -(angle * (Math.PI / 180)); // -math.radians(angle)
  const m = [round15(Math.cos(rad)), round15(Math.sin(rad)), 0.0, round15(-Math.sin(rad)), round15(Math.cos(rad)), 0.0];
  const tx = m[0] * -cx + m[1] * -cy + m[2];
  const ty = m[3] * -cx + m[4] * -cy + m[5];
  m[2] = tx + cx;
  m[5] = ty + cy;
  return affineNearest(img, m);
}

/** img.transform(size, AFFINE, (1, v, 0, 0, 1, 0)): the official ShearX. */
export function shearX(img: RgbImage, v: number): RgbImage {
  return affineNearest(img, [1, v, 0, 0, 1, 0]);
}

/** img.transform(size, AFFINE, (1, 0, 0, v, 1, 0)): the official ShearY. */
export function shearY(img: RgbImage, v: number): RgbImage {
  return affineNearest(img, [1, 0, 0, v, 1, 0]);
}

/** The official TranslateX: AFFINE (1, 0, fraction * width, 0, 1, 0); positive moves content left. */
export function translateX(img: RgbImage, fraction: number): RgbImage {
  return affineNearest(img, [1, 0, fraction * img.width, 0, 1, 0]);
}

/** The official TranslateY: AFFINE (1, 0, 0, 0, 1, fraction * height); positive moves content up. */
export function translateY(img: RgbImage, fraction: number): RgbImage {
  return affineNearest(img, [1, 0, 0, 0, 1, fraction * img.height]);
}

// ---------------------------------------------------------------------------------------------------------
// Resampling: Image.resize(size, BILINEAR) (Resample.c, antialiased, 8-bit fixed point)

const PRECISION_BITS = 32 - 8 - 2;

interface Coeffs {
  bounds: Int32Array; // [xmin, count] per output index
  ksize: number;
  kk: Int32Array; // fixed-point weights, ksize per output index
}

/** precompute_coeffs + normalize_coeffs_8bpc for the bilinear (triangle) filter with support 1. */
function bilinearCoeffs(inSize: number, in0: number, in1: number, outSize: number): Coeffs {
  const scale = (in1 - in0) / outSize;
  const filterscale = scale < 1.0 ? 1.0 : scale;
  const support = 1.0 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = in0 + (xx + 0.5) * scale;
    let ww = 0.0;
    const ss = 1.0 / filterscale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    for (let x = 0; x < xmax; x++) {
      let t = (x + xmin - center + 0.5) * ss;
      if (t < 0.0) t = -t;
      const wgt = t < 1.0 ? 1.0 - t : 0.0;
      k[x] = wgt;
      ww += wgt;
    }
    for (let x = 0; x < xmax; x++) {
      const kv = ww !== 0.0 ? k[x] / ww : k[x];
      kk[xx * ksize + x] =
        kv < 0 ? Math.trunc(-0.5 + kv * (1 << PRECISION_BITS)) : Math.trunc(0.5 + kv * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { bounds, ksize, kk };
}

function clip8Fixed(ss: number): number {
  const v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/**
 * img.resize((outWidth, outHeight), Image.BILINEAR): Pillow's two-pass antialiased resampling (horizontal
 * pass into a uint8 temporary, then vertical), used by torchvision Resize / RandomResizedCrop on PIL images.
 */
export function resizeBilinear(img: RgbImage, outHeight: number, outWidth: number): RgbImage {
  const { height: h, width: w } = img;
  if (!Number.isInteger(outHeight) || !Number.isInteger(outWidth) || outHeight < 1 || outWidth < 1) {
    throw new RangeError(`resizeBilinear: output size must be positive integers, got ${outHeight}×${outWidth}`);
  }
  if (outHeight === h && outWidth === w) return cloneImage(img);
  const needHorizontal = outWidth !== w;
  const needVertical = outHeight !== h;
  const vert = bilinearCoeffs(h, 0, h, outHeight);
  const yFirst = vert.bounds[0];
  const yLast = vert.bounds[outHeight * 2 - 2] + vert.bounds[outHeight * 2 - 1];
  const half = 1 << (PRECISION_BITS - 1);

  let cur = img.data;
  let curH = h;
  let curW = w;
  let rowOffset = 0; // first source row held in `cur`
  if (needHorizontal) {
    const hor = bilinearCoeffs(w, 0, w, outWidth);
    const rows = yLast - yFirst;
    const tmp = new Uint8Array(rows * outWidth * 3);
    for (let yy = 0; yy < rows; yy++) {
      const srow = (yy + yFirst) * w * 3;
      for (let xx = 0; xx < outWidth; xx++) {
        const xmin = hor.bounds[xx * 2];
        const xmax = hor.bounds[xx * 2 + 1];
        const kb = xx * hor.ksize;
        let s0 = half;
        let s1 = half;
        let s2 = half;
        for (let x = 0; x < xmax; x++) {
          const kv = hor.kk[kb + x];
          const s = srow + (x + xmin) * 3;
          s0 += cur[s] * kv;
          s1 += cur[s + 1] * kv;
          s2 += cur[s + 2] * kv;
        }
        const d = (yy * outWidth + xx) * 3;
        tmp[d] = clip8Fixed(s0);
        tmp[d + 1] = clip8Fixed(s1);
        tmp[d + 2] = clip8Fixed(s2);
      }
    }
    cur = tmp;
    curH = rows;
    curW = outWidth;
    rowOffset = yFirst;
  }
  if (!needVertical) {
    return { data: cur === img.data ? cur.slice() : cur, height: curH, width: curW };
  }
  const out = new Uint8Array(outHeight * curW * 3);
  for (let yy = 0; yy < outHeight; yy++) {
    const ymin = vert.bounds[yy * 2] - rowOffset;
    const ymax = vert.bounds[yy * 2 + 1];
    const kb = yy * vert.ksize;
    for (let xx = 0; xx < curW; xx++) {
      let s0 = half;
      let s1 = half;
      let s2 = half;
      for (let y = 0; y < ymax; y++) {
        const kv = vert.kk[kb + y];
        const s = ((y + ymin) * curW + xx) * 3;
        s0 += cur[s] * kv;
        s1 += cur[s + 1] * kv;
        s2 += cur[s + 2] * kv;
      }
      const d = (yy * curW + xx) * 3;
      out[d] = clip8Fixed(s0);
      out[d + 1] = clip8Fixed(s1);
      out[d + 2] = clip8Fixed(s2);
    }
  }
  return { data: out, height: outHeight, width: curW };
}
