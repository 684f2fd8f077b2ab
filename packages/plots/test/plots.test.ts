import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import {
  confusionMatrixSpec,
  figureFiles,
  imageGridSpec,
  learningCurvesSpec,
  renderFigure,
  renderSvg,
  sweepSpec,
} from '../src';

/** The texts of one kind of SVG text group that vega writes (role-axis-label, role-legend-title, role-mark, ...). */
function texts(svg: string, role: string): string[] {
  const out: string[] = [];
  for (const g of svg.matchAll(new RegExp(`<g class="mark-text ${role}[ "][^>]*>(.*?)</g>`, 'g'))) {
    for (const t of g[1].matchAll(/<text[^>]*>([^<]*)<\/text>/g))
      out.push(t[1].replace(/&amp;/g, '&').replace(/&lt;/g, '<'));
  }
  return out;
}
const svgSize = (svg: string) => [
  Number(svg.match(/<svg[^>]* width="(\d+)"/)![1]),
  Number(svg.match(/<svg[^>]* height="(\d+)"/)![1]),
];
const dataValues = (spec: unknown) => (spec as { data: { values: Record<string, unknown>[] } }).data.values;
const pixel = (png: PNG, x: number, y: number) =>
  Array.from(png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3));

describe('learning curves', () => {
  const panels = [
    {
      title: 'pretext',
      metric: 'loss',
      unit: 'nats',
      series: [
        {
          name: 'train loss',
          points: [
            { epoch: 1, value: 6.25 },
            { epoch: 2, value: 5.5 },
            { epoch: 3, value: NaN },
            { epoch: 4, value: 4.75 },
          ],
        },
      ],
    },
    {
      title: 'scan',
      metric: 'accuracy',
      unit: '%',
      series: [
        {
          name: 'val (head 0)',
          points: [
            { epoch: 1, value: 20 },
            { epoch: 2, value: 30 },
            { epoch: 3, value: 35 },
          ],
        },
        {
          name: 'train',
          points: [
            { epoch: 1, value: 25 },
            { epoch: 3, value: 45 },
          ],
        },
      ],
    },
  ];

  it('keeps the input numbers in the spec (non-finite left out)', () => {
    const spec = learningCurvesSpec(panels) as unknown as { vconcat: unknown[] };
    expect(dataValues(spec.vconcat[0])).toEqual([
      { series: 'train loss', epoch: 1, value: 6.25 },
      { series: 'train loss', epoch: 2, value: 5.5 },
      { series: 'train loss', epoch: 4, value: 4.75 },
    ]);
    expect(
      dataValues(spec.vconcat[1])
        .filter((v) => v.series === 'train')
        .map((v) => [v.epoch, v.value]),
    ).toEqual([
      [1, 25],
      [3, 45],
    ]);
  });

  it('draws epoch axes with integer ticks, y titles with metric and unit, and a legend per panel', async () => {
    const fig = await renderFigure(learningCurvesSpec(panels));
    expect(texts(fig.svg, 'role-axis-title')).toEqual(expect.arrayContaining(['epoch', 'loss (nats)', 'accuracy (%)']));
    const ticks = texts(fig.svg, 'role-axis-label');
    for (const e of ['1', '2', '3', '4']) expect(ticks).toContain(e);
    expect(ticks.filter((t) => /^\d+\.\d+$/.test(t) && Number(t) < 5)).toEqual([]); // no fractional epochs (y ticks are ≥ 4.75)
    expect(texts(fig.svg, 'role-legend-label').sort()).toEqual(['train', 'train loss', 'val (head 0)']);
    expect(texts(fig.svg, 'role-title-text')).toEqual(['pretext', 'scan']);
    const png = PNG.sync.read(Buffer.from(fig.png));
    const [w, h] = svgSize(fig.svg);
    expect([png.width, png.height]).toEqual([2 * w, 2 * h]);
    expect(w).toBeGreaterThan(420); // the panel width plus axis and legend
  });

  it('gives a constant curve a span around its value and shows long legend entries whole', async () => {
    const name = 'train: consistency − 5·entropy (a long legend entry)';
    const spec = learningCurvesSpec([
      {
        title: 'selflabel',
        metric: 'confident predictions',
        unit: '% of images',
        series: [
          {
            name,
            points: [
              { epoch: 1, value: 0 },
              { epoch: 2, value: 0 },
            ],
          },
        ],
      },
    ]);
    expect(
      (spec as unknown as { vconcat: { encoding: { y: { scale: { domain: number[] } } } }[] }).vconcat[0].encoding.y
        .scale.domain,
    ).toEqual([-1, 1]);
    const svg = await renderSvg(spec);
    expect(texts(svg, 'role-axis-label')).toEqual(expect.arrayContaining(['1', '2', '0.0', '1.0'])); // epochs; the value's span
    expect(texts(svg, 'role-legend-label')).toEqual([name]);
  });

  it('refuses an empty figure', () => {
    expect(() => learningCurvesSpec([])).toThrow(/no panels/);
  });
});

describe('confusion matrix', () => {
  const names = ['airplane', 'cat', 'dog'];
  const counts = [50, 3, 0, 7, 41, 12, 0, 9, 38];

  it('lists every cell with its count under the class names', () => {
    const values = dataValues(confusionMatrixSpec(counts, names));
    expect(values).toHaveLength(9);
    expect(values.find((v) => v.true_class === 'cat' && v.predicted_class === 'dog')!.count).toBe(12);
    expect(values.map((v) => v.count)).toEqual(counts);
  });

  it('draws class names on both axes, the count in each cell and a colour legend', async () => {
    const fig = await renderFigure(
      confusionMatrixSpec(counts, names, { xTitle: 'predicted class (hungarian)', title: 'Confusion' }),
    );
    const labels = texts(fig.svg, 'role-axis-label');
    for (const n of names) expect(labels.filter((l) => l === n)).toHaveLength(2);
    expect(texts(fig.svg, 'role-axis-title').sort()).toEqual(['predicted class (hungarian)', 'true class']);
    expect(
      texts(fig.svg, 'role-mark')
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual([...counts].sort((a, b) => a - b));
    expect(fig.svg).toContain('role-legend-gradient');
    expect(texts(fig.svg, 'role-legend-title')).toEqual(['images']);
    const scale = texts(fig.svg, 'role-legend-label').map(Number);
    expect(scale[0]).toBe(0);
    expect(scale.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...scale)).toBeLessThanOrEqual(50); // the domain is [0, largest count]
  });

  it('checks its input, keeps duplicate class names apart, and leaves counts and names out when large', () => {
    expect(() => confusionMatrixSpec([1, 2, 3], names)).toThrow(/3 counts for 3 class names, expected 3×3 = 9/);
    const dup = dataValues(confusionMatrixSpec([1, 0, 0, 1], ['crane', 'crane']));
    expect([...new Set(dup.map((v) => v.true_class))]).toEqual(['crane', 'crane (2)']);
    const C = 70;
    const big = confusionMatrixSpec(
      Array.from({ length: C * C }, (_, i) => (i % (C + 1) === 0 ? 5 : 0)),
      Array.from({ length: C }, (_, i) => `c${i}`),
    ) as unknown as { layer: unknown[]; encoding: { x: { axis: { labels?: boolean } } } };
    expect(dataValues(big)).toHaveLength(C); // the diagonal only
    expect(big.layer).toHaveLength(1); // no count texts
    expect(big.encoding.x.axis.labels).toBe(false);
  });
});

describe('sweep plot', () => {
  const series = [
    {
      name: 'cifar10 (ci)',
      source: 'ours' as const,
      points: [
        { x: 0, mean: 40, std: 2, seeds: 3 },
        { x: 5, mean: 55.5, std: 1.5, seeds: 3 },
        { x: 20, mean: 60, std: 0, seeds: 1 },
      ],
    },
    { name: 'paper: cifar10', source: 'paper' as const, points: [{ x: 20, mean: 81.8 }] },
  ];

  it('carries mean, std and the band limits of each point', () => {
    const values = dataValues(sweepSpec(series, { xTitle: 'K', yTitle: 'accuracy (%)' }));
    expect(values[1]).toEqual({
      series: 'cifar10 (ci)',
      source: 'ours',
      x: 5,
      mean: 55.5,
      std: 1.5,
      low: 54,
      high: 57,
      seeds: 3,
    });
    expect(values[3]).toEqual({ series: 'paper: cifar10', source: 'paper', x: 20, mean: 81.8 });
  });

  it('draws the swept values as ticks, the titles, and legends for the series and for ours vs paper', async () => {
    const fig = await renderFigure(
      sweepSpec(series, {
        xTitle: 'number of neighbours K',
        yTitle: 'accuracy (%)',
        xScale: 'symlog',
        yDomain: [0, 100],
      }),
    );
    const ticks = texts(fig.svg, 'role-axis-label');
    for (const t of ['0', '5', '20', '100']) expect(ticks).toContain(t);
    expect(texts(fig.svg, 'role-axis-title').sort()).toEqual(['accuracy (%)', 'number of neighbours K']);
    expect(texts(fig.svg, 'role-legend-label').sort()).toEqual(['cifar10 (ci)', 'ours', 'paper', 'paper: cifar10']);
    expect(fig.svg).toContain('stroke-dasharray="6,4"'); // the paper's line
    expect(fig.svg).toContain('role-mark layer_0_marks'); // the std band
  });
});

describe('image grid', () => {
  const solid = (rgb: number[]) => ({
    data: Uint8Array.from({ length: 4 * 4 * 3 }, (_, i) => rgb[i % 3]),
    height: 4,
    width: 4,
  });

  it('draws each tile scaled up in its cell, grey for a missing one, captions below', async () => {
    const fig = await renderFigure(
      imageGridSpec([solid([255, 0, 0]), solid([0, 0, 255]), null], ['0: A', '1: B', '2: -'], { cols: 2, scale: 10 }),
      { scale: 1 },
    );
    expect(texts(fig.svg, 'role-mark')).toEqual(['0: A', '1: B', '2: -']);
    const png = PNG.sync.read(Buffer.from(fig.png));
    const centres = [
      ...fig.svg.matchAll(/<image [^>]*transform="translate\((\d+),(\d+)\)" width="40" height="40"/g),
    ].map((m) => [Number(m[1]) + 20, Number(m[2]) + 20]);
    expect(centres).toHaveLength(2);
    const [ox, oy] = fig.svg
      .match(/<g fill="none" stroke-miterlimit="4" transform="translate\((\d+),(\d+)\)"/)!
      .slice(1)
      .map(Number);
    expect(pixel(png, ox + centres[0][0], oy + centres[0][1])).toEqual([255, 0, 0]);
    expect(pixel(png, ox + centres[1][0], oy + centres[1][1])).toEqual([0, 0, 255]);
    expect(pixel(png, ox + centres[0][0], oy + centres[0][1] + 40 + 22)).toEqual([200, 200, 200]); // one row (tile + caption) down
  });
});

describe('rendering', () => {
  it('is deterministic: the same spec gives the same SVG and PNG bytes, also after other figures', async () => {
    const spec = confusionMatrixSpec([5, 1, 2, 7], ['a', 'b']);
    const first = await renderFigure(spec);
    await renderSvg(
      sweepSpec([{ name: 's', source: 'ours', points: [{ x: 1, mean: 2 }] }], { xTitle: 'x', yTitle: 'y' }),
    );
    const [again, parallel] = await Promise.all([renderFigure(spec), renderFigure(spec)]);
    expect(again.svg).toBe(first.svg);
    expect(Buffer.from(again.png).equals(Buffer.from(first.png))).toBe(true);
    expect(Buffer.from(parallel.png).equals(Buffer.from(first.png))).toBe(true);
  });

  it("names a figure's files: the PNG and its Vega-Lite spec beside it", async () => {
    const spec = confusionMatrixSpec([1], ['a']);
    const files = figureFiles('confusion', await renderFigure(spec));
    expect(Object.keys(files)).toEqual(['confusion.png', 'confusion.vl.json']);
    expect(JSON.parse(files['confusion.vl.json'] as string)).toEqual(JSON.parse(JSON.stringify(spec)));
    expect((files['confusion.vl.json'] as string).endsWith('\n')).toBe(true);
  });
});
