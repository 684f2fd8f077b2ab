// The paper's upper-bound experiment "results without false positives in the nearest neighbours": the labels
// remove every mined neighbour of another class. An image whose neighbours are all wrong keeps only itself, so it
// trains on its own augmentations [ISSUE #99]. This uses labels during training and exists only for that figure
// (scan.oracle_neighbors = true); the method itself never sees a label.

/**
 * Rewrites the first `take` columns of each row of an N×width neighbour table (column 0 = the image itself) so
 * that they hold only same-class entries of those columns, repeated cyclically to fill the row. Drawing a column
 * uniformly then draws (up to the rounding of the repetition) uniformly among the correct neighbours and the
 * image itself. Columns beyond `take` are left as they are. Returns a new table and the share of removed entries.
 */
export function dropFalsePositiveNeighbors(
  table: Int32Array,
  width: number,
  take: number,
  labels: ArrayLike<number>,
): { table: Int32Array; removed: number } {
  const n = table.length / width;
  if (!Number.isInteger(n) || n !== labels.length) {
    throw new Error(
      `oracle neighbours: a ${table.length}-entry table of width ${width} does not match ${labels.length} labels`,
    );
  }
  const out = Int32Array.from(table);
  const kept: number[] = [];
  let removed = 0;
  for (let i = 0; i < n; i++) {
    kept.length = 0;
    for (let c = 0; c < take; c++) {
      const j = table[i * width + c];
      if (labels[j] === labels[i]) kept.push(j);
      else removed++;
    }
    if (!kept.length) kept.push(i); // column 0 is the image itself, so this only guards malformed tables
    for (let c = 0; c < take; c++) out[i * width + c] = kept[c % kept.length];
  }
  return { table: out, removed: take > 1 ? removed / (n * (take - 1)) : 0 };
}
