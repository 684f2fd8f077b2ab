// The committed tables are what the committed records give: paper-tables.md, every results/<table>.csv and every
// figure spec results/<figure>.vl.json are regenerated from a copy of results/ (its archived run records only, no
// runs/ folder) and must equal the committed files byte for byte. A hand-edited number, a record committed without
// regenerating, or a generator change without regenerating fails here.
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateTables } from '@scan-repro/tables';
import { tempDir } from '@scan-repro/test-utils';
import { REPO } from './experiments-workspace';

const REGENERATE = 'regenerate with `npx nx run tables:generate` and commit';
const root = tempDir('committed-tables');
let markdown: string;

beforeAll(async () => {
  cpSync(join(REPO, 'results'), join(root, 'results'), { recursive: true });
  ({ markdown } = await generateTables({ root }));
}, 120_000);

describe('the committed tables', () => {
  it('paper-tables.md is what the committed records give', () => {
    expect(markdown, `paper-tables.md is stale: ${REGENERATE}`).toBe(
      readFileSync(join(REPO, 'paper-tables.md'), 'utf8'),
    );
  });

  it('every results/*.csv and figure spec is what the committed records give', () => {
    const files = readdirSync(join(REPO, 'results')).filter((f) => f.endsWith('.csv') || f.endsWith('.vl.json'));
    // runs.csv is the run log (tracking), not a table
    const tables = files.filter((f) => f !== 'runs.csv');
    expect(tables.length).toBeGreaterThan(5);
    for (const f of tables) {
      expect(readFileSync(join(root, 'results', f), 'utf8'), `results/${f} is stale: ${REGENERATE}`).toBe(
        readFileSync(join(REPO, 'results', f), 'utf8'),
      );
    }
  });
});
