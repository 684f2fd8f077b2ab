// tables:generate: paper-tables.md + results/<table>.csv + results/<figure>.png from the recorded runs.
//   tsx tools/tables/src/main.ts [--root DIR] [--out-md FILE] [--results DIR]
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import YAML from 'yaml';
import { atomicWriteFile } from '@scan-repro/core';
import { archiveRuns } from './archive';
import { measure, readRecords } from './collect';
import { render, type PaperNumbers } from './render';

export const PAPER_NUMBERS = fileURLToPath(new URL('../paper-numbers.yaml', import.meta.url));

export async function generateTables(opts: { root: string; outMd?: string; resultsDir?: string }): Promise<{ markdown: string; files: string[] }> {
  const paper = YAML.parse(await readFile(PAPER_NUMBERS, 'utf8')) as PaperNumbers;
  const results = opts.resultsDir ?? join(opts.root, 'results');
  const files = [opts.outMd ?? join(opts.root, 'paper-tables.md')];
  const records = await readRecords(opts.root, results);
  await mkdir(results, { recursive: true });
  await archiveRuns(opts.root, records, results);
  const measured = await measure(opts.root, records, results);
  // links from the markdown file to the archived records (which are committed; runs/ is not)
  for (const m of measured) for (const r of m.runs) r.link = relative(dirname(files[0]), join(results, r.dir)).split(sep).join('/');
  const out = render(paper, measured);
  await atomicWriteFile(files[0], out.markdown);
  for (const [name, text] of Object.entries(out.csv)) { files.push(join(results, name)); await atomicWriteFile(join(results, name), text); }
  for (const [name, bytes] of Object.entries(out.png)) { files.push(join(results, name)); await atomicWriteFile(join(results, name), bytes); }
  return { markdown: out.markdown, files };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { root: { type: 'string', default: process.cwd() }, 'out-md': { type: 'string' }, results: { type: 'string' } } });
  const { files } = await generateTables({ root: resolve(values.root!), outMd: values['out-md'], resultsDir: values.results });
  process.stdout.write(`wrote ${files.length} files:\n${files.map((f) => `  ${f}`).join('\n')}\n`);
}
