// Worker thread of the batch loader: rebuilds the view transforms from their specs and applies them to the
// raw images the main thread sends (see loader.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { createTransform } from '@scan-repro/augment';
import type { DecodedImage } from './dataset';
import { transformBatch, type TransformSpec } from './loader';

const views = (workerData as { views: { spec: TransformSpec; source: 'self' | 'neighbor' }[] }).views;
const transforms = views.map((v) => createTransform(v.spec.name, v.spec.options));
const sources = views.map((v) => v.source);
const needNeighbor = sources.includes('neighbor');

parentPort!.on('message', (job: { id: number; seeds: Uint32Array; pixels: Uint8Array; layout: Int32Array }) => {
  try {
    const image = (k: number): DecodedImage => {
      const off = job.layout[3 * k];
      const height = job.layout[3 * k + 1];
      const width = job.layout[3 * k + 2];
      return { data: job.pixels.subarray(off, off + height * width * 3), height, width };
    };
    const per = needNeighbor ? 2 : 1;
    const selfImages = Array.from(job.seeds, (_, s) => image(per * s));
    const nbrImages = Array.from(job.seeds, (_, s) => (needNeighbor ? image(per * s + 1) : null));
    const out = transformBatch(transforms, sources, job.seeds, selfImages, nbrImages);
    parentPort!.postMessage(
      { id: job.id, views: out },
      out.map((v) => v.buffer as ArrayBuffer),
    );
  } catch (err) {
    parentPort!.postMessage({ id: job.id, error: (err as Error).message });
  }
});
