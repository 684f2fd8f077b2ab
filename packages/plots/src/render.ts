// Vega-Lite spec -> SVG (vega, headless) -> PNG (resvg). Text is set in Inter, loaded from the TTF files of
// @expo-google-fonts/inter (resvg reads TTF/OTF, not WOFF), never from the system, so every machine draws the
// same pixels. Same spec, same bytes: text widths are estimated from Inter's glyph classes (never measured with
// whatever canvas package is installed), SVG definition ids restart for every figure, the number locale is fixed,
// and nothing reads the clock.
import { createRequire } from 'node:module';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { Resvg } from '@resvg/resvg-js';

export const FONT_FAMILY = 'Inter';
const require = createRequire(import.meta.url);
// regular for labels, bold for titles (vega sets titles in bold)
const FONT_FILES = [
  require.resolve('@expo-google-fonts/inter/400Regular/Inter_400Regular.ttf'),
  require.resolve('@expo-google-fonts/inter/700Bold/Inter_700Bold.ttf'),
];
// d3's en-US number format, given explicitly so that tick labels never follow another default.
const NUMBER_LOCALE = { decimal: '.', thousands: ',', grouping: [3], currency: ['$', ''] };

// Inter's advance widths in em, roughly: narrow glyphs, wide ones, the rest. vega's own estimate (0.8 em for every
// character) runs long enough to push a long axis title out of its panel and to cut legend entries.
const NARROW = /[ il.,:;'|!()[\]1fjtr-]/,
  WIDE = /[A-Zmw%@]/;
function textWidth(item: { fontSize?: number; fontWeight?: string | number }, text: unknown): number {
  let em = 0;
  for (const ch of String(text ?? '').trim()) em += NARROW.test(ch) ? 0.32 : WIDE.test(ch) ? 0.74 : 0.6;
  const bold = item.fontWeight === 'bold' || Number(item.fontWeight) >= 600;
  return Math.ceil(em * (item.fontSize ?? 11) * (bold ? 1.06 : 1));
}
// vega's hook for a text measure of one's own (not in its type declarations); it then never uses a canvas
(vega as unknown as { textMetrics: { width: typeof textWidth } }).textMetrics.width = textWidth;

export interface Figure {
  spec: TopLevelSpec;
  svg: string;
  png: Uint8Array;
}

// Definition ids (gradients, clip paths) are module-wide counters: renders run one at a time so that each
// figure's ids start from zero.
let queue: Promise<unknown> = Promise.resolve();
function oneAtATime<T>(fn: () => Promise<T>): Promise<T> {
  const next = queue.then(fn, fn);
  queue = next.catch(() => undefined);
  return next;
}

export function renderSvg(spec: TopLevelSpec): Promise<string> {
  return oneAtATime(async () => {
    // The runtime takes locale definitions here; vega's types describe the formatters made from them.
    const locale = { number: NUMBER_LOCALE } as unknown as vega.ViewOptions['locale'];
    const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none', locale });
    try {
      await view.runAsync();
      vega.resetSVGDefIds();
      return await view.toSVG();
    } finally {
      view.finalize();
    }
  });
}

/** `scale` device pixels per SVG unit. Raster images inside (image grids) are scaled nearest-neighbour. */
export function svgToPng(svg: string, scale = 2): Uint8Array {
  const image = new Resvg(svg, {
    font: {
      loadSystemFonts: false,
      fontFiles: FONT_FILES,
      defaultFontFamily: FONT_FAMILY,
      sansSerifFamily: FONT_FAMILY,
    },
    fitTo: { mode: 'zoom', value: scale },
    imageRendering: 1,
    logLevel: 'off',
  }).render();
  return new Uint8Array(image.asPng());
}

export async function renderFigure(spec: TopLevelSpec, opts: { scale?: number } = {}): Promise<Figure> {
  const svg = await renderSvg(spec);
  return { spec, svg, png: svgToPng(svg, opts.scale) };
}

export const specJson = (spec: TopLevelSpec) => `${JSON.stringify(spec, null, 2)}\n`;

/** The files of one figure: `<name>.png` and its Vega-Lite spec `<name>.vl.json` beside it. */
export function figureFiles(name: string, figure: Figure): Record<string, string | Uint8Array> {
  return { [`${name}.png`]: figure.png, [`${name}.vl.json`]: specJson(figure.spec) };
}
