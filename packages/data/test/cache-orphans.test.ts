// A decode killed with SIGKILL before its rename leaves temp files in the cache folder; the next load of that
// dataset removes those whose writer is dead and leaves writes in progress alone.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { loadCachedSplit } from '../src/index';
import { tempDir } from '@scan-repro/test-utils';

const root = tempDir('scan-cache-orphans');
const dataIndex = fileURLToPath(new URL('../src/index.ts', import.meta.url));

const options = (src: string) => ({
  cacheDir: join(root, 'cache'),
  dataset: 'killed',
  split: 'train',
  sourceFiles: [src],
  source: src,
  imageShape: { height: 1, width: 1 },
});

it('a decode killed with SIGKILL mid-write leaves a temp file that the next run removes', async () => {
  const src = join(root, 'src.bin');
  writeFileSync(src, 'source');
  const folder = join(root, 'cache', 'killed');
  // the child writes a first image into the cache's temp file, then never finishes
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `
    const { loadCachedSplit } = await import(${JSON.stringify(dataIndex)});
    await loadCachedSplit({ ...${JSON.stringify(options(src))}, async decode(w) {
      w.append(Uint8Array.from([1, 2, 3]), [0]);
      console.log('writing');
      await new Promise(() => setInterval(() => {}, 1000));
    } });`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((ok, ko) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('writing')) ok();
    });
    child.on('exit', (code) => ko(new Error(`child exited early with ${code}`)));
  });
  child.kill('SIGKILL');
  await new Promise((ok) => child.once('exit', ok));
  const orphans = readdirSync(folder).filter((n) => n.includes(`.tmp-${child.pid}-`));
  expect(orphans.length).toBeGreaterThan(0);
  // a write in progress by a live process (our parent) must survive
  const live = join(folder, `train-other.images.bin.tmp-${process.ppid}-abcd`);
  writeFileSync(live, 'in progress');

  const split = await loadCachedSplit({
    ...options(src),
    async decode(w) {
      w.append(Uint8Array.from([9, 9, 9]), [0]);
    },
  });
  expect(Array.from(split.image(0).data)).toEqual([9, 9, 9]);
  for (const name of orphans) expect(existsSync(join(folder, name)), name).toBe(false);
  expect(existsSync(live)).toBe(true);
}, 120_000);
