/**
 * Linear sum assignment (rectangular), the shortest-augmenting-path method of Jonker–Volgenant as
 * described by Crouse (2016) — the same algorithm scipy.optimize.linear_sum_assignment uses, so
 * optimal costs agree with scipy (the chosen assignment can differ only between equal-cost optima).
 * O(n² m) for an n × m matrix with n ≤ m. Written here instead of taken from npm because the maintained
 * option (linear-sum-assignment) drags in a large spectra-processing dependency for ~80 lines of code.
 */
export interface Assignment {
  /** Row indices, ascending. */
  rowInd: Int32Array;
  /** Column assigned to rowInd[i]. */
  colInd: Int32Array;
}

export function linearSumAssignment(
  cost: ArrayLike<number>,
  numRows: number,
  numCols: number,
  opts: { maximize?: boolean } = {},
): Assignment {
  if (!Number.isInteger(numRows) || !Number.isInteger(numCols) || numRows < 0 || numCols < 0) {
    throw new Error(`linearSumAssignment: numRows/numCols must be non-negative integers, got ${numRows} × ${numCols}`);
  }
  if (cost.length !== numRows * numCols) {
    throw new Error(
      `linearSumAssignment: cost has ${cost.length} entries, expected numRows*numCols = ${numRows * numCols}`,
    );
  }
  for (let i = 0; i < cost.length; i++) {
    if (!Number.isFinite(cost[i]))
      throw new Error(`linearSumAssignment: cost[${i}] = ${cost[i]}, expected a finite number`);
  }
  // Work on a matrix with rows ≤ cols (transpose otherwise), negated when maximising.
  const transpose = numRows > numCols;
  const n = transpose ? numCols : numRows;
  const m = transpose ? numRows : numCols;
  const sign = opts.maximize ? -1 : 1;
  const c = new Float64Array(n * m);
  for (let i = 0; i < numRows; i++) {
    for (let j = 0; j < numCols; j++) {
      const v = sign * cost[i * numCols + j];
      if (transpose) c[j * m + i] = v;
      else c[i * m + j] = v;
    }
  }
  const { rowToCol } = solveRowsLeCols(c, n, m);
  // Pairs (row, col) in the caller's orientation, sorted by row like scipy.
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) pairs.push(transpose ? [rowToCol[i], i] : [i, rowToCol[i]]);
  pairs.sort((a, b) => a[0] - b[0]);
  return { rowInd: Int32Array.from(pairs, (p) => p[0]), colInd: Int32Array.from(pairs, (p) => p[1]) };
}

/** Crouse's LAPJVsp for n ≤ m: each row is matched by one shortest augmenting path (Dijkstra with potentials). */
function solveRowsLeCols(c: Float64Array, n: number, m: number): { rowToCol: Int32Array } {
  const u = new Float64Array(n);
  const v = new Float64Array(m);
  const shortest = new Float64Array(m);
  const path = new Int32Array(m).fill(-1);
  const col4row = new Int32Array(n).fill(-1);
  const row4col = new Int32Array(m).fill(-1);
  const SR = new Uint8Array(n);
  const SC = new Uint8Array(m);
  const remaining = new Int32Array(m);

  for (let curRow = 0; curRow < n; curRow++) {
    let minVal = 0;
    let i = curRow;
    let numRemaining = m;
    // Reverse order so ties resolve toward lower column indices the way scipy's loop does.
    for (let it = 0; it < m; it++) remaining[it] = m - it - 1;
    SR.fill(0);
    SC.fill(0);
    shortest.fill(Infinity);
    let sink = -1;
    while (sink === -1) {
      let index = -1;
      let lowest = Infinity;
      SR[i] = 1;
      for (let it = 0; it < numRemaining; it++) {
        const j = remaining[it];
        const r = minVal + c[i * m + j] - u[i] - v[j];
        if (r < shortest[j]) {
          path[j] = i;
          shortest[j] = r;
        }
        // Prefer an unassigned column on ties: it ends the search sooner (as in scipy).
        if (shortest[j] < lowest || (shortest[j] === lowest && row4col[j] === -1)) {
          lowest = shortest[j];
          index = it;
        }
      }
      minVal = lowest;
      if (minVal === Infinity) throw new Error('linearSumAssignment: cost matrix is infeasible');
      const j = remaining[index];
      if (row4col[j] === -1) sink = j;
      else i = row4col[j];
      SC[j] = 1;
      remaining[index] = remaining[--numRemaining];
    }
    // Update dual variables.
    u[curRow] += minVal;
    for (let r = 0; r < n; r++) {
      if (SR[r] && r !== curRow) u[r] += minVal - shortest[col4row[r]];
    }
    for (let j = 0; j < m; j++) {
      if (SC[j]) v[j] -= minVal - shortest[j];
    }
    // Augment along the path back to curRow.
    let j = sink;
    for (;;) {
      const r = path[j];
      row4col[j] = r;
      const prev = col4row[r];
      col4row[r] = j;
      if (r === curRow) break;
      j = prev;
    }
  }
  return { rowToCol: col4row };
}
