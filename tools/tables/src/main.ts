// tables:generate: paper-tables.md + results/<table>.csv + results/<figure>.png with its Vega-Lite spec
// results/<figure>.vl.json from the recorded runs of the committed profiles (paper, cpu). `--profile ci`
// (nx run tables:generate -c ci) renders the ci runs instead, into the git-ignored runs/ci/tables/ unless told where.
//   tsx tools/tables/src/main.ts [--root DIR] [--profile ci] [--out-md FILE] [--results DIR]
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import YAML from 'yaml';
import { atomicWriteFile } from '@scan-repro/core';
import { figureFiles, renderFigure } from '@scan-repro/plots';
import { archiveRuns } from './archive';
import { COMMITTED_PROFILES, measure, readRecords } from './collect';
import { render, type PaperNumbers } from './render';

export const PAPER_NUMBERS = fileURLToPath(new URL('../paper-numbers.yaml', import.meta.url));

export async function generateTables(opts: {
  root: string;
  outMd?: string;
  resultsDir?: string;
  profiles?: string[];
}): Promise<{ markdown: string; files: string[] }> {
  const paper = YAML.parse(await readFile(PAPER_NUMBERS, 'utf8')) as PaperNumbers;
  const profiles = opts.profiles ?? COMMITTED_PROFILES;
  const committed = profiles.every((p) => COMMITTED_PROFILES.includes(p));
  const scratch = join(opts.root, 'runs', profiles.join('+'), 'tables');
  const results = opts.resultsDir ?? (committed ? join(opts.root, 'results') : scratch);
  const files = [opts.outMd ?? (committed ? join(opts.root, 'paper-tables.md') : join(scratch, 'paper-tables.md'))];
  const records = await readRecords(opts.root, results, profiles);
  await mkdir(results, { recursive: true });
  await archiveRuns(opts.root, records, results);
  const measured = await measure(opts.root, records, results);
  // links from the markdown file to the archived records (which are committed; runs/ is not)
  for (const m of measured)
    for (const r of m.runs) r.link = relative(dirname(files[0]), join(results, r.dir)).split(sep).join('/');
  const out = render(paper, measured);
  await atomicWriteFile(files[0], out.markdown);
  for (const [name, text] of Object.entries(out.csv)) {
    files.push(join(results, name));
    await atomicWriteFile(join(results, name), text);
  }
  for (const [name, spec] of Object.entries(out.figures)) {
    for (const [file, data] of Object.entries(figureFiles(name, await renderFigure(spec)))) {
      files.push(join(results, file));
      await atomicWriteFile(join(results, file), data);
    }
  }
  return { markdown: out.markdown, files };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      root: { type: 'string', default: process.cwd() },
      profile: { type: 'string' },
      'out-md': { type: 'string' },
      results: { type: 'string' },
    },
  });
  const profiles = values.profile ? values.profile.split(',') : undefined;
  for (const p of profiles ?? [])
    if (!['paper', 'cpu', 'ci'].includes(p)) throw new Error(`--profile ${p}: expected paper, cpu or ci`);
  const { files } = await generateTables({
    root: resolve(values.root!),
    outMd: values['out-md'],
    resultsDir: values.results,
    profiles,
  });
  process.stdout.write(`wrote ${files.length} files:\n${files.map((f) => `  ${f}`).join('\n')}\n`);
}
