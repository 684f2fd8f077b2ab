// The figures of the project as Vega-Lite specs: learning curves, a confusion matrix, sweep plots (mean ± std
// over seeds, the paper's values beside ours) and image grids. Each spec carries its data and its config, so the
// .vl.json written next to a PNG redraws the same figure in any Vega-Lite viewer.
import type { TopLevelSpec } from 'vega-lite';
import { PNG } from 'pngjs';
import { FONT_FAMILY } from './render';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const CONFIG = {
  font: FONT_FAMILY,
  background: 'white',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
};

function figure(spec: Record<string, unknown>): TopLevelSpec {
  return { $schema: SCHEMA, config: CONFIG, ...spec } as TopLevelSpec;
}

const finite = (v: number) => Number.isFinite(v);

export interface CurveSeries {
  name: string;
  points: { epoch: number; value: number }[];
}
/** One panel: the series that share a quantity and unit (e.g. train and val loss of one stage). */
export interface CurvePanel {
  title: string;
  metric: string;
  unit: string;
  series: CurveSeries[];
}

/**
 * Learning curves, one panel per quantity stacked vertically: x = epoch (integer ticks), y = `metric (unit)`,
 * one line per series with its own legend. Non-finite values (a diverged epoch) are left out.
 */
export function learningCurvesSpec(panels: CurvePanel[], opts: { title?: string } = {}): TopLevelSpec {
  if (!panels.length) throw new Error('learningCurvesSpec: no panels');
  return figure({
    ...(opts.title ? { title: opts.title } : {}),
    vconcat: panels.map((p) => {
      const values = p.series.flatMap((s) =>
        s.points.filter((pt) => finite(pt.value)).map((pt) => ({ series: s.name, epoch: pt.epoch, value: pt.value })),
      );
      const epochs = values.map((v) => v.epoch);
      const lo = epochs.length ? Math.min(...epochs) : 0,
        hi = epochs.length ? Math.max(...epochs) : 1;
      // a constant curve (e.g. no confident predictions yet) gets a span around its value, not an empty domain
      const ys = [...new Set(values.map((v) => v.value))];
      const flat =
        ys.length === 1
          ? { domain: [ys[0] - Math.max(1, Math.abs(ys[0]) * 0.05), ys[0] + Math.max(1, Math.abs(ys[0]) * 0.05)] }
          : {};
      const longest = Math.max(0, ...p.series.map((s) => s.points.length));
      return {
        title: p.title,
        width: 420,
        height: 150,
        data: { values },
        // markers only while they stay apart; a lone epoch still shows as a point
        mark: { type: 'line', point: longest <= 40, strokeWidth: 1.5 },
        encoding: {
          x: {
            field: 'epoch',
            type: 'quantitative',
            title: 'epoch',
            scale: { domain: lo < hi ? [lo, hi] : [lo - 1, hi + 1], nice: false },
            axis: { tickMinStep: 1, format: 'd' },
          },
          y: {
            field: 'value',
            type: 'quantitative',
            title: `${p.metric} (${p.unit})`,
            scale: { zero: false, ...flat },
          },
          // labelLimit 0: entries are never cut (vega's estimate of text width runs long)
          color: {
            field: 'series',
            type: 'nominal',
            title: 'series',
            scale: { domain: p.series.map((s) => s.name) },
            legend: { labelLimit: 0 },
          },
        },
      };
    }),
    resolve: { scale: { color: 'independent' } },
  });
}

/** Names made unique for an ordinal axis (ImageNet has two 'crane' classes): the second gets ' (2)', .... */
function uniqueNames(names: string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((n) => {
    const k = (seen.get(n) ?? 0) + 1;
    seen.set(n, k);
    return k === 1 ? n : `${n} (${k})`;
  });
}

/**
 * Confusion matrix of a C×C count matrix (row = true class, column = predicted class): class names on both axes,
 * the count in each cell (up to 30 classes), colour = count with its scale as a legend. Beyond 30 classes the cells
 * shrink and only non-zero cells are listed (the empty ones show the background); beyond 60 the names go.
 */
export function confusionMatrixSpec(
  counts: ArrayLike<number>,
  classNames: string[],
  opts: { title?: string; xTitle?: string; yTitle?: string } = {},
): TopLevelSpec {
  const C = classNames.length;
  if (counts.length !== C * C)
    throw new Error(`confusionMatrixSpec: ${counts.length} counts for ${C} class names, expected ${C}×${C} = ${C * C}`);
  const names = uniqueNames(classNames);
  const showCounts = C <= 30;
  const values: { true_class: string; predicted_class: string; count: number }[] = [];
  let max = 0;
  for (let r = 0; r < C; r++) {
    for (let c = 0; c < C; c++) {
      const count = counts[r * C + c];
      max = Math.max(max, count);
      if (showCounts || count > 0) values.push({ true_class: names[r], predicted_class: names[c], count });
    }
  }
  const step = C <= 12 ? 40 : C <= 30 ? 28 : C <= 60 ? 14 : Math.max(1, Math.floor(900 / C));
  const axis = C <= 60 ? { labelLimit: 120 } : { labels: false, ticks: false };
  return figure({
    ...(opts.title ? { title: opts.title } : {}),
    data: { values },
    width: { step },
    height: { step },
    encoding: {
      x: {
        field: 'predicted_class',
        type: 'ordinal',
        title: opts.xTitle ?? 'predicted class',
        scale: { domain: names },
        axis: { ...axis, labelAngle: -45 },
      },
      y: { field: 'true_class', type: 'ordinal', title: opts.yTitle ?? 'true class', scale: { domain: names }, axis },
    },
    layer: [
      {
        mark: 'rect',
        encoding: {
          color: {
            field: 'count',
            type: 'quantitative',
            title: 'images',
            scale: { scheme: 'blues', domain: [0, Math.max(1, max)] },
          },
        },
      },
      ...(showCounts
        ? [
            {
              mark: { type: 'text', fontSize: step >= 40 ? 12 : 9 },
              encoding: {
                text: { field: 'count', type: 'quantitative', format: 'd' },
                // white on the dark half of the colour scale
                color: { condition: { test: `datum.count > ${max / 2}`, value: 'white' }, value: 'black' },
              },
            },
          ]
        : []),
    ],
  });
}

export interface SweepPoint {
  x: number;
  mean: number;
  std?: number;
  seeds?: number;
}
export interface SweepSeries {
  name: string;
  source: 'ours' | 'paper';
  points: SweepPoint[];
}

/**
 * A measured quantity against a swept setting: one line per series with markers, ours with mean ± std over seeds
 * as a shaded band and error bars, the paper's values dashed. `xScale` 'symlog' keeps K = 0 on a log-like axis;
 * the swept values themselves are the ticks.
 */
export function sweepSpec(
  series: SweepSeries[],
  opts: { title?: string; xTitle: string; yTitle: string; xScale?: 'linear' | 'symlog'; yDomain?: [number, number] },
): TopLevelSpec {
  const values = series.flatMap((s) =>
    s.points
      .filter((p) => finite(p.x) && finite(p.mean))
      .map((p) => ({
        series: s.name,
        source: s.source,
        x: p.x,
        mean: p.mean,
        ...(p.std !== undefined && finite(p.std) ? { std: p.std, low: p.mean - p.std, high: p.mean + p.std } : {}),
        ...(p.seeds !== undefined ? { seeds: p.seeds } : {}),
      })),
  );
  const ticks = [...new Set(values.map((v) => v.x))].sort((a, b) => a - b);
  const x = {
    field: 'x',
    type: 'quantitative',
    title: opts.xTitle,
    scale: {
      type: opts.xScale ?? 'linear',
      zero: false,
      nice: false,
      ...(ticks.length ? { domain: [ticks[0], ticks[ticks.length - 1]] } : {}),
    },
    axis: { values: ticks, format: '~r', grid: true },
  };
  // line symbols in the legends (the band layer would make them faint patches)
  const legend = { symbolType: 'stroke', symbolOpacity: 1, symbolStrokeWidth: 2, symbolSize: 300, labelLimit: 0 };
  const color = {
    field: 'series',
    type: 'nominal',
    title: 'series',
    scale: { domain: series.map((s) => s.name) },
    legend,
  };
  const withStd = { filter: 'isValid(datum.std)' };
  // solid = ours, dashed = the paper's; the legend lists only the sources present
  const sources = (['ours', 'paper'] as const).filter((src) => series.some((s) => s.source === src));
  const dashes = { domain: sources, range: sources.map((src) => (src === 'ours' ? [1, 0] : [6, 4])) };
  const mean = {
    field: 'mean',
    type: 'quantitative',
    title: opts.yTitle,
    ...(opts.yDomain ? { scale: { domain: opts.yDomain } } : {}),
  };
  return figure({
    ...(opts.title ? { title: opts.title } : {}),
    width: 480,
    height: 300,
    data: { values },
    encoding: { x, color },
    layer: [
      {
        transform: [withStd],
        mark: { type: 'area', opacity: 0.15 },
        encoding: { y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' } },
      },
      {
        transform: [withStd],
        mark: { type: 'rule', strokeWidth: 1.5 },
        encoding: { y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' } },
      },
      {
        mark: 'line',
        encoding: { y: mean, strokeDash: { field: 'source', type: 'nominal', title: 'source', scale: dashes, legend } },
      },
      // markers in a layer of their own: on the line layer they would blank the dash legend's symbols
      { mark: { type: 'point', filled: true, size: 40, opacity: 1 }, encoding: { y: mean } },
    ],
  });
}

export interface Tile {
  data: Uint8Array;
  height: number;
  width: number;
}

/** A uint8 HWC RGB image as a PNG data URL (embedded in the spec, so the spec stands alone). */
function tileUrl(t: Tile): string {
  if (t.data.length !== t.height * t.width * 3)
    throw new Error(`imageGridSpec: tile of ${t.data.length} bytes, expected ${t.height}×${t.width}×3`);
  const png = new PNG({ width: t.width, height: t.height });
  for (let i = 0; i < t.width * t.height; i++) {
    png.data[i * 4] = t.data[i * 3];
    png.data[i * 4 + 1] = t.data[i * 3 + 1];
    png.data[i * 4 + 2] = t.data[i * 3 + 2];
    png.data[i * 4 + 3] = 255;
  }
  return `data:image/png;base64,${PNG.sync.write(png).toString('base64')}`;
}

/**
 * Image tiles in a grid, `cols` per row, each drawn `scale` times its size (nearest neighbour) and captioned below;
 * a missing tile (null) is a grey square.
 */
export function imageGridSpec(
  tiles: (Tile | null)[],
  captions: string[],
  opts: { cols: number; scale: number; title?: string },
): TopLevelSpec {
  if (!tiles.length) throw new Error('imageGridSpec: no tiles');
  const w = Math.max(1, ...tiles.map((t) => t?.width ?? 0)) * opts.scale;
  const h = Math.max(1, ...tiles.map((t) => t?.height ?? 0)) * opts.scale;
  const cols = Math.max(1, Math.min(opts.cols, tiles.length));
  const values = tiles.map((t, i) => ({
    col: i % cols,
    row: Math.floor(i / cols),
    caption: captions[i] ?? '',
    url: t ? tileUrl(t) : null,
  }));
  return figure({
    ...(opts.title ? { title: opts.title } : {}),
    config: { ...CONFIG, view: { stroke: null } },
    data: { values },
    width: { step: w + 8 },
    height: { step: h + 22 },
    encoding: { x: { field: 'col', type: 'ordinal', axis: null }, y: { field: 'row', type: 'ordinal', axis: null } },
    layer: [
      {
        transform: [{ filter: 'datum.url === null' }],
        mark: { type: 'square', size: w * h, color: '#c8c8c8', opacity: 1, yOffset: -7 },
      },
      {
        transform: [{ filter: 'datum.url !== null' }],
        mark: { type: 'image', width: w, height: h, smooth: false, yOffset: -7 },
        encoding: { url: { field: 'url' } },
      },
      {
        mark: { type: 'text', baseline: 'top', yOffset: h / 2 - 5, limit: w + 6 },
        encoding: { text: { field: 'caption' } },
      },
    ],
  });
}
