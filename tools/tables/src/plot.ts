// A tiny line-plot renderer (pngjs): axes, light grid, one coloured polyline with square markers per series.
// Text is not drawn (no font dependency): the markdown next to each PNG gives the axis names, the legend
// colours and the numbers themselves (results/*.csv).
import { PNG } from 'pngjs';

export interface Series { name: string; points: [number, number][] }
export const PALETTE: [number, number, number][] = [[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189], [140, 86, 75]];
export const colourName = ['blue', 'orange', 'green', 'red', 'purple', 'brown'];

export function linePlot(series: Series[], opts: { width?: number; height?: number; yRange?: [number, number]; logX?: boolean } = {}): Buffer {
  const W = opts.width ?? 480, H = opts.height ?? 320, M = 30;
  const png = new PNG({ width: W, height: H });
  png.data.fill(255);
  const set = (x: number, y: number, [r, g, b]: [number, number, number]) => {
    x = Math.round(x); y = Math.round(y);
    if (x < 0 || y < 0 || x >= W || y >= H) return;
    const i = (y * W + x) * 4;
    png.data[i] = r; png.data[i + 1] = g; png.data[i + 2] = b; png.data[i + 3] = 255;
  };
  const line = (x0: number, y0: number, x1: number, y1: number, c: [number, number, number]) => {
    const n = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
    for (let t = 0; t <= n; t++) set(x0 + ((x1 - x0) * t) / n, y0 + ((y1 - y0) * t) / n, c);
  };
  const all = series.flatMap((s) => s.points);
  const tx = (x: number) => (opts.logX ? Math.log10(x + 1) : x);
  const xs = all.map(([x]) => tx(x));
  const [xmin, xmax] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  const [ymin, ymax] = opts.yRange ?? [0, 100];
  const px = (x: number) => M + ((tx(x) - xmin) / (xmax - xmin || 1)) * (W - 2 * M);
  const py = (y: number) => H - M - ((y - ymin) / (ymax - ymin || 1)) * (H - 2 * M);
  for (let g = 0; g <= 10; g++) line(M, py(ymin + ((ymax - ymin) * g) / 10), W - M, py(ymin + ((ymax - ymin) * g) / 10), [230, 230, 230]);
  line(M, H - M, W - M, H - M, [0, 0, 0]);
  line(M, M, M, H - M, [0, 0, 0]);
  for (const [x] of all) line(px(x), H - M, px(x), H - M + 4, [0, 0, 0]);
  series.forEach((s, k) => {
    const c = PALETTE[k % PALETTE.length];
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < pts.length; i++) line(px(pts[i - 1][0]), py(pts[i - 1][1]), px(pts[i][0]), py(pts[i][1]), c);
    for (const [x, y] of pts) for (let dx = -2; dx <= 2; dx++) for (let dy = -2; dy <= 2; dy++) set(px(x) + dx, py(y) + dy, c);
  });
  return PNG.sync.write(png);
}
