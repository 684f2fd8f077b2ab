// Getting the official files into the data root: download when the network allows, otherwise say exactly
// which file is expected where.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { datasetSource, type DatasetSource } from './dataset';
import { resolveDataRoot } from './paths';

/** The first of `source.expected` present under `root`, or null. */
export function findSource(source: DatasetSource, root: string): string | null {
  for (const rel of source.expected) {
    const p = join(root, rel);
    if (existsSync(p)) return p;
  }
  return null;
}

/** The message for missing data: which file, where, and how to get it. */
export function missingDataMessage(source: DatasetSource, root: string, reason?: string): string {
  const expected = source.expected.map((e) => join(root, e)).join(' or ');
  const lines = [`${source.title} not found: expected ${expected}.`];
  if (reason) lines.push(reason);
  if (source.download)
    lines.push(
      `Download ${source.download.url} and put it at ${join(root, source.download.file)} ` +
        `(or run \`scan-repro data prepare\` where the network is reachable).`,
    );
  lines.push(
    'The data root is dataset.root from the config, else env SCAN_DATA_DIR, else ../shared/data next to the repo.',
  );
  return lines.join(' ');
}

export interface PrepareOptions {
  /** Overrides the official URL (mirrors; tests). */
  url?: string;
  timeoutMs?: number;
  /** Do not try to download (also env SCAN_OFFLINE=1). */
  offline?: boolean;
}

/**
 * Makes sure `datasetName`'s official files are in `root` (default: the resolved data root): returns the path
 * found, or downloads the official archive (md5-checked, written atomically); when that is impossible, throws
 * an error naming the expected file and where to put it.
 */
export async function prepareDataset(
  datasetName: string,
  root?: string,
  opts: PrepareOptions = {},
): Promise<{ path: string; downloaded: boolean }> {
  const source = datasetSource(datasetName);
  const dataRoot = resolveDataRoot(root);
  if (!source)
    throw new Error(`dataset '${datasetName}' has no download description; put its files under ${dataRoot} by hand`);
  const found = findSource(source, dataRoot);
  if (found) return { path: found, downloaded: false };
  if (!source.download) throw new Error(missingDataMessage(source, dataRoot));
  if (opts.offline || process.env.SCAN_OFFLINE === '1')
    throw new Error(missingDataMessage(source, dataRoot, 'Offline (SCAN_OFFLINE=1): not downloading.'));

  const url = opts.url ?? source.download.url;
  const target = join(dataRoot, source.download.file);
  const tmp = `${target}.part-${randomBytes(4).toString('hex')}`;
  try {
    mkdirSync(dataRoot, { recursive: true });
    const res = await fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs ?? 30 * 60_000) });
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} ${res.statusText}`);
    const md5 = createHash('md5');
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    body.on('data', (c: Buffer) => md5.update(c));
    await pipeline(body, createWriteStream(tmp));
    const digest = md5.digest('hex');
    if (source.download.md5 && !opts.url && digest !== source.download.md5)
      throw new Error(`md5 ${digest} does not match the official ${source.download.md5}`);
    renameSync(tmp, target);
    return { path: target, downloaded: true };
  } catch (err) {
    if (existsSync(tmp)) unlinkSync(tmp);
    const e = err as Error & { cause?: Error };
    const why = e.cause?.message ? `${e.message} (${e.cause.message})` : e.message;
    throw new Error(missingDataMessage(source, dataRoot, `Downloading ${url} failed: ${why}.`));
  }
}
