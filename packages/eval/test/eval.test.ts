import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { evaluateClustering, prototypeIndices } from '../src/evaluate';
import { heatmapLayout, renderConfusionPng, renderCurvesPng, renderImageGridPng } from '../src/png';

const decode = (bytes: Uint8Array) => PNG.sync.read(Buffer.from(bytes));
const pixel = (png: PNG, x: number, y: number) => Array.from(png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3));

describe('evaluateClustering', () => {
  it('known predictions give the hand / scikit-learn values', () => {
    const target = Int32Array.from([0, 0, 1, 1, 2, 2, 2, 0]);
    const pred = Int32Array.from([1, 1, 0, 0, 2, 0, 2, 1]);
    const ev = evaluateClustering(pred, target, 3, 3, { mapping: 'hungarian' });
    expect(ev.mapping).toBe('hungarian');
    expect(Array.from(ev.clusterToClass)).toEqual([1, 0, 2]);
    expect(ev.acc).toBe(7 / 8);
    // sklearn 1.x normalized_mutual_info_score / adjusted_rand_score / adjusted_mutual_info_score(target, pred)
    expect(ev.nmi).toBeCloseTo(0.7794365191085162, 12);
    expect(ev.ari).toBeCloseTo(0.6190476190476191, 12);
    expect(ev.ami).toBeCloseTo(0.6598363252848235, 10);
    expect(Array.from(ev.confusion)).toEqual([3, 0, 0, 0, 2, 0, 0, 1, 2]);
  });

  it('overclustering (more clusters than classes) uses the many-to-one majority mapping', () => {
    const target = Int32Array.from([0, 0, 0, 1, 1, 1]);
    const pred = Int32Array.from([0, 0, 1, 2, 3, 1]);
    const ev = evaluateClustering(pred, target, 4, 2, { mapping: 'hungarian' });
    expect(ev.mapping).toBe('majority');
    expect(Array.from(ev.clusterToClass)).toEqual([0, 0, 1, 1]); // cluster 1 ties 1:1 -> first class
    expect(ev.acc).toBe(5 / 6);
    expect(Array.from(ev.confusion)).toEqual([3, 0, 1, 2]);
  });

  it('top-5 goes through the same mapping', () => {
    const C = 6;
    const target = Int32Array.from([0, 1, 1, 2, 2, 2]);
    // rankings (best first); argmax = first entry
    const rankings = [[0, 1, 2, 3, 4, 5], [1, 0, 2, 3, 4, 5], [1, 2, 0, 3, 4, 5], [2, 0, 1, 3, 4, 5], [0, 2, 1, 3, 4, 5], [1, 0, 3, 4, 5, 2]];
    const probs = new Float32Array(6 * C);
    rankings.forEach((r, i) => r.forEach((k, rank) => (probs[i * C + k] = [0.5, 0.2, 0.12, 0.08, 0.06, 0.04][rank])));
    const pred = Int32Array.from(rankings, (r) => r[0]);
    const ev = evaluateClustering(pred, target, C, C, { mapping: 'hungarian', probs, top5: true });
    expect(Array.from(ev.clusterToClass).slice(0, 3)).toEqual([0, 1, 2]);
    expect(ev.acc).toBe(4 / 6); // samples 4 and 5 are wrong at top-1
    expect(ev.top5).toBe(5 / 6); // sample 4 has cluster 2 second; sample 5 has it sixth
  });
});

describe('prototypeIndices', () => {
  it('takes the top-k confident members of each cluster and returns the one nearest their mean; -1 for an empty cluster', () => {
    // cluster 0: samples 0..3 (confidences .9 .8 .7 .6), features 0, 1, 2, 10 -> top 3 = {0,1,2}, mean 1 -> sample 1
    const probs = Float32Array.from([0.9, 0.1, 0, 0.8, 0.2, 0, 0.7, 0.3, 0, 0.6, 0.4, 0, 0.2, 0.8, 0]);
    const features = Float32Array.from([0, 1, 2, 10, 5]);
    expect(Array.from(prototypeIndices(probs, features, 5, 3))).toEqual([1, 4, -1]);
    // with top-4 the outlier enters: mean 3.25 -> sample 2 (distance 1.25) is nearest
    expect(prototypeIndices(probs, features, 5, 4)[0]).toBe(2);
  });
});

describe('pictures', () => {
  it('confusion.png decodes with the layout size; diagonal cells dark, off-diagonal white, labels drawn', () => {
    const labels = ['airplane', 'cat', 'dog'];
    const m = [5, 0, 0, 0, 5, 0, 0, 0, 5];
    const png = decode(renderConfusionPng(m, 3, labels));
    const L = heatmapLayout(3, labels);
    expect([png.width, png.height]).toEqual([L.width, L.height]);
    const centre = (r: number, c: number) => pixel(png, L.x0 + c * L.cell + (L.cell >> 1), L.y0 + r * L.cell + (L.cell >> 1));
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) {
        if (r === c) expect(centre(r, c)[0]).toBeLessThan(50);
        else expect(centre(r, c)).toEqual([255, 255, 255]);
      }
    }
    // the left label column of row 0 has black text pixels
    let dark = 0;
    for (let x = 0; x < L.x0; x++) for (let y = L.y0; y < L.y0 + L.cell; y++) if (pixel(png, x, y)[0] === 0) dark++;
    expect(dark).toBeGreaterThan(10);
  });

  it('prototypes.png: upscaled tiles in their grid cells, grey for a missing prototype', () => {
    const red = { data: Uint8Array.from({ length: 4 * 4 * 3 }, (_, i) => (i % 3 === 0 ? 255 : 0)), height: 4, width: 4 };
    const blue = { data: Uint8Array.from({ length: 4 * 4 * 3 }, (_, i) => (i % 3 === 2 ? 255 : 0)), height: 4, width: 4 };
    const png = decode(renderImageGridPng([red, blue, null], ['0:A', '1:B', '2:-'], { cols: 2, scale: 5 }));
    // pad 4, tile 20, caption 11: 2 columns, 2 rows
    expect([png.width, png.height]).toEqual([4 + 2 * 24, 4 + 2 * (20 + 11 + 4)]);
    expect(pixel(png, 4 + 10, 4 + 10)).toEqual([255, 0, 0]);
    expect(pixel(png, 4 + 24 + 10, 4 + 10)).toEqual([0, 0, 255]);
    expect(pixel(png, 4 + 10, 4 + 35 + 10)).toEqual([200, 200, 200]);
  });

  it('curves.png: one panel per series with a drawn line', () => {
    const png = decode(renderCurvesPng([{ name: 'loss', points: [{ step: 1, value: 3 }, { step: 2, value: 1 }, { step: 3, value: 0.5 }] }]));
    expect([png.width, png.height]).toEqual([360, 122]);
    let blue = 0;
    for (let i = 0; i < png.width * png.height; i++) if (png.data[i * 4] === 31 && png.data[i * 4 + 2] === 180) blue++;
    expect(blue).toBeGreaterThan(300);
  });
});
