// Small raster pictures written with pngjs: a confusion-matrix heatmap with class names, an image grid for the
// prototypes, and line plots for learning curves. Text uses a built-in 5×7 bitmap font (upper case, digits and
// a few signs), so nothing needs fonts or native libraries.
import { PNG } from 'pngjs';

export type Rgb = [number, number, number];

/** An RGB raster with an opaque alpha channel, written as PNG by encodePng. */
export class Canvas {
  readonly data: Uint8Array;
  constructor(readonly width: number, readonly height: number, background: Rgb = [255, 255, 255]) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new Error(`Canvas: size ${width}×${height}, expected positive integers`);
    this.data = new Uint8Array(width * height * 4);
    this.fillRect(0, 0, width, height, background);
  }

  set(x: number, y: number, [r, g, b]: Rgb): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const o = (y * this.width + x) * 4;
    this.data[o] = r; this.data[o + 1] = g; this.data[o + 2] = b; this.data[o + 3] = 255;
  }

  fillRect(x0: number, y0: number, w: number, h: number, c: Rgb): void {
    for (let y = Math.max(0, y0); y < Math.min(this.height, y0 + h); y++) for (let x = Math.max(0, x0); x < Math.min(this.width, x0 + w); x++) this.set(x, y, c);
  }

  line(x0: number, y0: number, x1: number, y1: number, c: Rgb): void {
    // Bresenham
    x0 = Math.round(x0); y0 = Math.round(y0); x1 = Math.round(x1); y1 = Math.round(y1);
    const dx = Math.abs(x1 - x0), dy = -Math.abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    let err = dx + dy;
    for (;;) {
      this.set(x0, y0, c);
      if (x0 === x1 && y0 === y1) break;
      const e2 = 2 * err;
      if (e2 >= dy) { err += dy; x0 += sx; }
      if (e2 <= dx) { err += dx; y0 += sy; }
    }
  }

  /** Text at (x, y) (top-left), `scale` pixels per font dot; vertical = rotated 90° counter-clockwise (reads bottom-up). */
  text(x: number, y: number, text: string, c: Rgb, scale = 1, vertical = false): void {
    let pen = 0;
    for (const ch of text.toUpperCase()) {
      const cols = FONT[ch] ?? FONT['?'];
      for (let col = 0; col < 5; col++) {
        for (let row = 0; row < 7; row++) {
          if (!((cols[col] >> row) & 1)) continue;
          const gx = pen + col, gy = row;
          const px = vertical ? x + gy * scale : x + gx * scale;
          const py = vertical ? y - gx * scale : y + gy * scale;
          this.fillRect(px, vertical ? py - scale + 1 : py, scale, scale, c);
        }
      }
      pen += 6;
    }
  }
}

/** Width in pixels of `text` at `scale` (6 dots per character including the gap). */
export function textWidth(text: string, scale = 1): number {
  return Math.max(0, text.length * 6 - 1) * scale;
}

export function encodePng(canvas: Canvas): Uint8Array {
  const png = new PNG({ width: canvas.width, height: canvas.height });
  png.data = Buffer.from(canvas.data.buffer, canvas.data.byteOffset, canvas.data.byteLength);
  return new Uint8Array(PNG.sync.write(png));
}

// Classic 5×7 font: five column bytes per glyph, bit 0 = top row.
const FONT: Record<string, number[]> = {
  ' ': [0, 0, 0, 0, 0], '?': [0x02, 0x01, 0x51, 0x09, 0x06],
  '0': [0x3e, 0x51, 0x49, 0x45, 0x3e], '1': [0x00, 0x42, 0x7f, 0x40, 0x00], '2': [0x42, 0x61, 0x51, 0x49, 0x46],
  '3': [0x21, 0x41, 0x45, 0x4b, 0x31], '4': [0x18, 0x14, 0x12, 0x7f, 0x10], '5': [0x27, 0x45, 0x45, 0x45, 0x39],
  '6': [0x3c, 0x4a, 0x49, 0x49, 0x30], '7': [0x01, 0x71, 0x09, 0x05, 0x03], '8': [0x36, 0x49, 0x49, 0x49, 0x36],
  '9': [0x06, 0x49, 0x49, 0x29, 0x1e],
  A: [0x7e, 0x11, 0x11, 0x11, 0x7e], B: [0x7f, 0x49, 0x49, 0x49, 0x36], C: [0x3e, 0x41, 0x41, 0x41, 0x22],
  D: [0x7f, 0x41, 0x41, 0x22, 0x1c], E: [0x7f, 0x49, 0x49, 0x49, 0x41], F: [0x7f, 0x09, 0x09, 0x09, 0x01],
  G: [0x3e, 0x41, 0x49, 0x49, 0x7a], H: [0x7f, 0x08, 0x08, 0x08, 0x7f], I: [0x00, 0x41, 0x7f, 0x41, 0x00],
  J: [0x20, 0x40, 0x41, 0x3f, 0x01], K: [0x7f, 0x08, 0x14, 0x22, 0x41], L: [0x7f, 0x40, 0x40, 0x40, 0x40],
  M: [0x7f, 0x02, 0x0c, 0x02, 0x7f], N: [0x7f, 0x04, 0x08, 0x10, 0x7f], O: [0x3e, 0x41, 0x41, 0x41, 0x3e],
  P: [0x7f, 0x09, 0x09, 0x09, 0x06], Q: [0x3e, 0x41, 0x51, 0x21, 0x5e], R: [0x7f, 0x09, 0x19, 0x29, 0x46],
  S: [0x46, 0x49, 0x49, 0x49, 0x31], T: [0x01, 0x01, 0x7f, 0x01, 0x01], U: [0x3f, 0x40, 0x40, 0x40, 0x3f],
  V: [0x1f, 0x20, 0x40, 0x20, 0x1f], W: [0x3f, 0x40, 0x38, 0x40, 0x3f], X: [0x63, 0x14, 0x08, 0x14, 0x63],
  Y: [0x07, 0x08, 0x70, 0x08, 0x07], Z: [0x61, 0x51, 0x49, 0x45, 0x43],
  '-': [0x08, 0x08, 0x08, 0x08, 0x08], '.': [0x00, 0x60, 0x60, 0x00, 0x00], _: [0x40, 0x40, 0x40, 0x40, 0x40],
  '%': [0x23, 0x13, 0x08, 0x64, 0x62], ':': [0x00, 0x36, 0x36, 0x00, 0x00], '/': [0x20, 0x10, 0x08, 0x04, 0x02],
  '(': [0x00, 0x1c, 0x22, 0x41, 0x00], ')': [0x00, 0x41, 0x22, 0x1c, 0x00], '=': [0x14, 0x14, 0x14, 0x14, 0x14],
};

const MAX_LABEL_CHARS = 14;
const shortLabel = (s: string) => (s.length > MAX_LABEL_CHARS ? s.slice(0, MAX_LABEL_CHARS) : s);

export interface HeatmapLayout {
  width: number;
  height: number;
  /** Top-left of cell (row 0, col 0) and the cell side in pixels. */
  x0: number;
  y0: number;
  cell: number;
}

/** Where the heatmap's cells go: labels on the left (true class) and on top (predicted, vertical), when C <= 60. */
export function heatmapLayout(numClasses: number, labels: string[]): HeatmapLayout {
  const cell = numClasses <= 20 ? 24 : numClasses <= 60 ? 12 : Math.max(1, Math.floor(1000 / numClasses));
  const labelled = numClasses <= 60;
  const longest = labelled ? Math.max(...labels.map((l) => textWidth(shortLabel(l)))) : 0;
  const margin = labelled ? longest + 8 : 4;
  return { width: margin + numClasses * cell + 4, height: margin + numClasses * cell + 4, x0: margin, y0: margin, cell };
}

/**
 * Row-normalised heatmap of a C×C matrix (rows = true class, columns = predicted class), white → dark blue.
 */
export function renderConfusionPng(matrix: ArrayLike<number>, numClasses: number, labels: string[]): Uint8Array {
  if (matrix.length !== numClasses * numClasses) throw new Error(`renderConfusionPng: matrix has ${matrix.length} entries, expected ${numClasses}×${numClasses}`);
  if (labels.length !== numClasses) throw new Error(`renderConfusionPng: ${labels.length} labels for ${numClasses} classes`);
  const L = heatmapLayout(numClasses, labels);
  const canvas = new Canvas(L.width, L.height);
  for (let r = 0; r < numClasses; r++) {
    let sum = 0;
    for (let c = 0; c < numClasses; c++) sum += matrix[r * numClasses + c];
    for (let c = 0; c < numClasses; c++) {
      const v = sum > 0 ? matrix[r * numClasses + c] / sum : 0;
      const colour: Rgb = [Math.round(255 - 247 * v), Math.round(255 - 207 * v), Math.round(255 - 148 * v)];
      canvas.fillRect(L.x0 + c * L.cell, L.y0 + r * L.cell, L.cell, L.cell, colour);
    }
  }
  if (numClasses <= 60) {
    labels.forEach((l, i) => {
      const t = shortLabel(l);
      canvas.text(L.x0 - 4 - textWidth(t), L.y0 + i * L.cell + Math.floor((L.cell - 7) / 2), t, [0, 0, 0]);
      canvas.text(L.x0 + i * L.cell + Math.floor((L.cell - 7) / 2), L.y0 - 4, t, [0, 0, 0], 1, true);
    });
  }
  return encodePng(canvas);
}

/** uint8 HWC RGB tiles upscaled (nearest) by `scale`, `cols` per row, each captioned below. */
export function renderImageGridPng(
  tiles: ({ data: Uint8Array; height: number; width: number } | null)[],
  captions: string[],
  opts: { cols: number; scale: number },
): Uint8Array {
  if (tiles.length === 0) throw new Error('renderImageGridPng: no tiles');
  const th = Math.max(...tiles.map((t) => t?.height ?? 0), 1) * opts.scale;
  const tw = Math.max(...tiles.map((t) => t?.width ?? 0), 1) * opts.scale;
  const capH = 11, pad = 4;
  const cols = Math.min(opts.cols, tiles.length);
  const rows = Math.ceil(tiles.length / cols);
  const canvas = new Canvas(pad + cols * (tw + pad), pad + rows * (th + capH + pad));
  tiles.forEach((t, i) => {
    const x0 = pad + (i % cols) * (tw + pad);
    const y0 = pad + Math.floor(i / cols) * (th + capH + pad);
    if (t) {
      for (let y = 0; y < t.height * opts.scale; y++) {
        for (let x = 0; x < t.width * opts.scale; x++) {
          const o = (Math.floor(y / opts.scale) * t.width + Math.floor(x / opts.scale)) * 3;
          canvas.set(x0 + x, y0 + y, [t.data[o], t.data[o + 1], t.data[o + 2]]);
        }
      }
    } else canvas.fillRect(x0, y0, tw, th, [200, 200, 200]);
    canvas.text(x0, y0 + th + 2, shortLabel(captions[i] ?? '').slice(0, Math.floor((tw + 1) / 6)), [0, 0, 0]);
  });
  return encodePng(canvas);
}

/** One small line plot per series (value against step), stacked vertically, titled with the series name. */
export function renderCurvesPng(series: { name: string; points: { step: number; value: number }[] }[]): Uint8Array {
  const W = 360, H = 110, pad = 6;
  const canvas = new Canvas(W, Math.max(1, series.length) * (H + pad) + pad);
  series.forEach((s, k) => {
    const top = pad + k * (H + pad);
    const pts = s.points.filter((p) => Number.isFinite(p.value));
    const lo = Math.min(...pts.map((p) => p.value)), hi = Math.max(...pts.map((p) => p.value));
    const s0 = Math.min(...pts.map((p) => p.step)), s1 = Math.max(...pts.map((p) => p.step));
    canvas.text(pad, top, `${s.name} ${pts.length ? `${lo.toPrecision(3)}..${hi.toPrecision(3)}` : '(NO DATA)'}`, [0, 0, 0]);
    const px = pad + 2, py = top + 12, pw = W - 2 * pad - 4, ph = H - 16;
    canvas.line(px, py + ph, px + pw, py + ph, [160, 160, 160]);
    canvas.line(px, py, px, py + ph, [160, 160, 160]);
    const X = (st: number) => px + (s1 > s0 ? ((st - s0) / (s1 - s0)) * pw : pw / 2);
    const Y = (v: number) => py + ph - (hi > lo ? ((v - lo) / (hi - lo)) * ph : ph / 2);
    for (let i = 1; i < pts.length; i++) canvas.line(X(pts[i - 1].step), Y(pts[i - 1].value), X(pts[i].step), Y(pts[i].value), [31, 119, 180]);
    if (pts.length === 1) canvas.fillRect(Math.round(X(pts[0].step)) - 1, Math.round(Y(pts[0].value)) - 1, 3, 3, [31, 119, 180]);
  });
  return encodePng(canvas);
}
