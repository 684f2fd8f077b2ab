// The train and val splits of a stage, from the config alone, so that every stage sees the same images, and the
// mine run's neighbour tables checked against them.
import { artifactPath, readNeighbors, type Neighbors, type ScanConfig } from '@scan-repro/core';
import { loadSplit, type ImageSplit } from '@scan-repro/data';

/** dataset.train_split and dataset.val_split (same seeded class-stratified subsets for the cpu/ci profiles). */
export async function loadTrainVal(config: ScanConfig): Promise<{ train: ImageSplit; val: ImageSplit }> {
  const train = await loadSplit(config.dataset, config.dataset.train_split, { role: 'train' });
  const val = await loadSplit(config.dataset, config.dataset.val_split, { role: 'val' });
  return { train, val };
}

/** The mine run's neighbour tables, whose rows must be the images of the splits this stage loaded. */
export async function readNeighborsFor(mineDir: string, train: ImageSplit, val: ImageSplit): Promise<Neighbors> {
  const nb = await readNeighbors(mineDir);
  const file = artifactPath(mineDir, 'neighbors');
  for (const [key, split, indices, rows] of [
    ['train', train, nb.trainIndices, nb.train.rows],
    ['val', val, nb.valIndices, nb.val.rows],
  ] as const) {
    if (rows !== split.size) {
      throw new Error(
        `${file}: '${key}' has ${rows} rows but the ${key} split has ${split.size} images; the mine run used other data (dataset / max_train / max_val / seed)`,
      );
    }
    const ours = split.originalIndices;
    if (!indices.every((v, i) => v === (ours ? ours[i] : i))) {
      throw new Error(
        `${file}: the ${key} rows are other dataset images than the ${key} split loaded here (subset seed / max_${key} differ)`,
      );
    }
  }
  return nb;
}
