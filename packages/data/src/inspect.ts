// `scan-repro data inspect <dataset>`: what each split holds, read through the same loader the stages use.
import { openDataset, type DatasetConfig } from './dataset';
import { loadSplitByName } from './subset';

export interface SplitInspection {
  split: string;
  size: number;
  /** Images per class index 0..numClasses-1. */
  classCounts: number[];
  /** Images with label -1. */
  unlabelled: number;
  imageShape: { height: number; width: number } | null;
  source: string;
}

export interface DatasetInspection {
  dataset: string;
  numClasses: number;
  classNames: string[];
  splits: SplitInspection[];
}

/** Loads every split of the configured dataset (decoding into the cache if needed) and counts it. */
export async function inspectDataset(cfg: DatasetConfig, splits?: string[]): Promise<DatasetInspection> {
  const ds = openDataset(cfg);
  const out: SplitInspection[] = [];
  for (const name of splits ?? ds.splits) {
    const split = await loadSplitByName(ds, name);
    const classCounts = new Array<number>(ds.numClasses).fill(0);
    let unlabelled = 0;
    for (const l of split.labels) {
      if (l === -1) unlabelled++;
      else if (l >= 0 && l < ds.numClasses) classCounts[l]++;
      else throw new Error(`${ds.name}/${name}: label ${l} outside [0, ${ds.numClasses}) in ${split.source}`);
    }
    out.push({
      split: name,
      size: split.size,
      classCounts,
      unlabelled,
      imageShape: split.imageShape,
      source: split.source,
    });
  }
  return { dataset: ds.name, numClasses: ds.numClasses, classNames: ds.classNames, splits: out };
}

/** Plain-text report of an inspection (one block per split). */
export function formatInspection(r: DatasetInspection): string {
  const lines = [`dataset ${r.dataset}: ${r.numClasses} classes`];
  for (const s of r.splits) {
    const shape = s.imageShape ? `${s.imageShape.height}x${s.imageShape.width}x3` : 'variable size';
    lines.push(`  ${s.split}: ${s.size} images, ${shape}, source ${s.source}`);
    if (s.unlabelled) lines.push(`    unlabelled: ${s.unlabelled}`);
    const counts = s.classCounts.map((c, i) => `${r.classNames[i] ?? i}=${c}`);
    if (s.classCounts.some((c) => c > 0)) lines.push(`    per class: ${counts.join(', ')}`);
  }
  return lines.join('\n');
}
