// ConfigError carries one issue per bad key so that a single run reports every problem at once.

export interface ConfigIssue {
  /** 'scan.entropy_weight', a group name, or the override / file that could not be read. */
  key: string;
  value?: unknown;
  /** What would have been accepted ("an integer >= 1", "one of adam | sgd"). */
  expected: string;
  /** Closest valid key or choice, for typos. */
  suggestion?: string;
  /** Where the value came from: 'override scan.lr=x', 'configs/dataset/stl10.yaml', 'env SCAN_DATA_DIR'. */
  origin?: string;
}

export function formatIssue(issue: ConfigIssue): string {
  const value = issue.value === undefined ? '' : ` = ${JSON.stringify(issue.value)}`;
  const origin = issue.origin ? ` (from ${issue.origin})` : '';
  const suggestion = issue.suggestion ? `; did you mean '${issue.suggestion}'?` : '';
  return `${issue.key}${value}${origin}: expected ${issue.expected}${suggestion}`;
}

export class ConfigError extends Error {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[] | string) {
    const list = typeof issues === 'string' ? [{ key: 'config', expected: issues }] : issues;
    super(
      list.length === 1
        ? `config error: ${formatIssue(list[0])}`
        : `config errors:\n${list.map((i) => '  ' + formatIssue(i)).join('\n')}`,
    );
    this.name = 'ConfigError';
    this.issues = list;
  }
}

/** Levenshtein distance (insert / delete / substitute, each cost 1). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** The candidate closest to `input`. Dotted keys compare group and key separately: a typo in the key costs its
 *  edit distance, a wrong or misspelt group a flat 0.5-1, so 'scan.ema' suggests 'selflabel.ema' and 'scn.lr' 'scan.lr'. */
export function closestMatch(input: string, candidates: Iterable<string>): string | undefined {
  const split = (s: string): [string, string] => {
    const i = s.lastIndexOf('.');
    return i < 0 ? ['', s] : [s.slice(0, i), s.slice(i + 1)];
  };
  const [inGroup, inKey] = split(input);
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const [group, key] = split(c);
    let score = editDistance(input, c);
    if (!input.includes('.')) score = Math.min(score, editDistance(input, key) + 0.5);
    else if (c.includes('.')) {
      const groupDistance = editDistance(inGroup, group);
      score = Math.min(score, editDistance(inKey, key) + (groupDistance === 0 ? 0 : groupDistance <= 2 ? 0.5 : 1));
    }
    if (score < bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return best;
}
