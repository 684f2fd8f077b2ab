// The sweep end to end at the ci profile: two entries run through the real CLI (pretext, mine), their records
// are archived without weights, the table, CSV and figure come from those records, and a second call reruns
// nothing. Plan errors name the file and the entry.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '@scan-repro/test-utils';
import { describe, expect, it } from 'vitest';
import { readPlan } from '../src/sweep';

const repo = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const tmp = tempDir('scan-sweep');

function sweep(args: string[]) {
  const r = spawnSync(join(repo, 'node_modules/.bin/tsx'), [join(repo, 'tools/sweep/src/main.ts'), ...args], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, MLFLOW_TRACKING_URI: '' },
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

function writePlan(name: string, text: string): string {
  const file = join(tmp, `${name}.yaml`);
  writeFileSync(file, text);
  return file;
}

describe('tools/sweep', () => {
  it('runs each entry once, archives its records and tabulates them', () => {
    const plan = writePlan(
      'tiny',
      `profile: ci
runs:
  - {name: base, note: the ci profile, overrides: []}
  - {name: t05, note: temperature 0.5, overrides: [pretext.temperature=0.5, pretext.epochs=1, pretext.warmup_epochs=0.5]}
`,
    );
    const doc = join(tmp, 'doc.md');
    writeFileSync(
      doc,
      '# prose\n<!-- sweep-table:begin (tools/sweep writes this block) -->\nold\n<!-- sweep-table:end -->\nkept\n',
    );
    const args = ['--plan', plan, '--results', join(tmp, 'results'), '--runs', join(tmp, 'runs'), '--doc', doc];
    const first = sweep(args);
    expect(first.status, first.err).toBe(0);
    expect(first.err).toContain('2 of 2 entries to run: base, t05');

    // records without weights, one folder per stage
    for (const stage of ['pretext', 'mine']) {
      const files = readdirSync(join(tmp, 'results/tiny/t05', stage));
      expect(files).toContain('manifest.json');
      expect(files).toContain('config.yaml');
      expect(files.some((f) => f.endsWith('.safetensors'))).toBe(false);
    }
    // the table's cells are the records' values
    const manifest = (stage: string) =>
      JSON.parse(readFileSync(join(tmp, 'results/tiny/t05', stage, 'manifest.json'), 'utf8')) as {
        metrics: Record<string, number>;
        wallTimeS: number;
        cpuTimeS: number;
      };
    const pretext = manifest('pretext');
    const mine = manifest('mine');
    expect(pretext.metrics.epochs).toBe(1);
    const text = readFileSync(doc, 'utf8');
    expect(text.startsWith('# prose\n')).toBe(true);
    expect(text.endsWith('<!-- sweep-table:end -->\nkept\n')).toBe(true);
    expect(text).not.toContain('\nold\n');
    const row = text.split('\n').find((l) => l.startsWith('| t05 |'))!;
    const cells = row.split('|').map((c) => c.trim());
    expect(cells[2]).toBe(String(pretext.metrics.train_images));
    expect(cells[8]).toBe('0.5');
    expect(cells[9]).toBe('0.5');
    expect(cells[10]).toBe('0');
    expect(cells[13]).toBe((100 * pretext.metrics.knn_accuracy).toFixed(1));
    expect(cells[15]).toBe((100 * mine.metrics.train_neighbor_accuracy).toFixed(1));
    expect(Number(cells[11])).toBeCloseTo((pretext.wallTimeS + mine.wallTimeS) / 60, 1);
    expect(Number(cells[12])).toBeCloseTo((pretext.cpuTimeS + mine.cpuTimeS) / 60, 1);

    // plain cells here (no commas in these notes): header, base, t05
    const [header, ...lines] = readFileSync(join(tmp, 'results/tiny.csv'), 'utf8').trim().split('\n');
    const columns = header.split(',');
    const t05 = Object.fromEntries(lines[1].split(',').map((v, i) => [columns[i], v]));
    expect(lines.map((l) => l.split(',')[0])).toEqual(['base', 't05']);
    expect(Number(t05.steps)).toBe(pretext.metrics.steps);
    expect(existsSync(join(tmp, 'results/tiny.png'))).toBe(true);
    expect(JSON.parse(readFileSync(join(tmp, 'results/tiny.vl.json'), 'utf8')).data.values).toHaveLength(2);

    const again = sweep(args);
    expect(again.status, again.err).toBe(0);
    expect(again.err).toContain('every entry has a record');
    expect(again.err).not.toContain('$ scan-repro');
  });

  it.each([
    ['runs: []', "expected 'profile: <name>'"],
    ['profile: cpu\nruns: []', "expected a non-empty list 'runs'"],
    ['profile: cpu\nruns:\n  - {name: A b, note: x, overrides: []}', 'runs[0].name: expected lower-case'],
    [
      'profile: cpu\nruns:\n  - {name: a, note: x, overrides: [profile.name=ci]}',
      "'profile.name=ci' is not a sweep choice",
    ],
    [
      'profile: cpu\nruns:\n  - {name: a, note: x, overrides: []}\n  - {name: a, note: y, overrides: []}',
      "'a' appears twice",
    ],
  ])('rejects a bad plan: %s', (text, message) => {
    const file = writePlan('bad', text);
    expect(() => readPlan(file)).toThrow(`${file}: `);
    expect(() => readPlan(file)).toThrow(message);
  });
});
