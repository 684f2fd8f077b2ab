// `scan-repro data inspect <dataset>` and `scan-repro data prepare <dataset>`: what a dataset's splits hold
// (images, per-class counts, image size, source), and getting its official files into the data root.
import type { Command } from 'commander';
import { registerAllDatasets } from '../datasets';
import { CliError } from '../errors';

// Dataset problems (missing, corrupt, truncated files) are expected failures: one line, no stack trace.
async function asCliError<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if ((e as Error)?.name === 'ConfigError') throw e;
    throw new CliError((e as Error)?.message ?? String(e));
  }
}

export function register(program: Command): void {
  const data = program
    .command('data')
    .description('dataset readers: inspect splits, prepare (download) official files');
  data
    .command('inspect')
    .description('per split: number of images, per-class counts, image size, source path (decodes into the cache once)')
    .argument('<dataset>', 'dataset config choice (cifar10 | cifar100-20 | stl10 | imagenet_50 | ...)')
    .argument('[overrides...]', 'config overrides, e.g. dataset.root=/data')
    .option('--split <names...>', 'only these splits')
    .option('--json', 'print JSON')
    .action(async (dataset: string, overrides: string[], opts: { split?: string[]; json?: boolean }) => {
      const { composeConfig } = await import('@scan-repro/core');
      const { inspectDataset, formatInspection } = await import('@scan-repro/data');
      const cfg = composeConfig([`dataset=${dataset}`, ...overrides]);
      await registerAllDatasets({ need: cfg.dataset.name });
      const report = await asCliError(() => inspectDataset(cfg.dataset, opts.split));
      process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : formatInspection(report) + '\n');
    });
  data
    .command('prepare')
    .description('make sure the official files are in the data root: download them, or say which file to put where')
    .argument('<dataset>', 'dataset config choice (cifar10 | cifar100-20 | stl10)')
    .argument('[overrides...]', 'config overrides, e.g. dataset.root=/data')
    .option('--url <url>', 'download from this mirror instead of the official URL')
    .action(async (dataset: string, overrides: string[], opts: { url?: string }) => {
      const { composeConfig } = await import('@scan-repro/core');
      const { prepareDataset } = await import('@scan-repro/data');
      const cfg = composeConfig([`dataset=${dataset}`, ...overrides]);
      await registerAllDatasets({ need: cfg.dataset.name });
      const r = await asCliError(() => prepareDataset(cfg.dataset.name, cfg.dataset.root, { url: opts.url }));
      process.stdout.write(`${r.downloaded ? 'downloaded' : 'found'} ${r.path}\n`);
    });
}
