// Shared plumbing for datasets distributed as an archive of binary files (CIFAR, STL-10): find the extracted
// folder or the archive in the data root, and check class-name files against the names we embed.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DatasetSource } from './dataset';
import { missingDataMessage } from './prepare';
import type { BinaryFile, RecordFileSpec } from './records';

/** Where a binary dataset's files are: an extracted folder, or members of a .tar.gz under `prefix`. */
export type BinaryLocation = { kind: 'dir'; dir: string } | { kind: 'archive'; archive: string; prefix: string };

/**
 * Finds `<root>/<folder>/` (preferred: no decompression) or `<root>/<archive>`; otherwise throws the
 * missing-data message naming both and the official download.
 */
export function locateBinaryDataset(
  root: string,
  folder: string,
  archive: string,
  source: DatasetSource,
): BinaryLocation {
  const dir = join(root, folder);
  if (existsSync(dir) && statSync(dir).isDirectory()) return { kind: 'dir', dir };
  const arc = join(root, archive);
  if (existsSync(arc) && statSync(arc).isFile()) return { kind: 'archive', archive: arc, prefix: `${folder}/` };
  throw new Error(missingDataMessage(source, root));
}

export function locationPath(loc: BinaryLocation): string {
  return loc.kind === 'dir' ? loc.dir : loc.archive;
}

export function binaryFile(loc: BinaryLocation, name: string): BinaryFile {
  return loc.kind === 'dir' ? { path: join(loc.dir, name) } : { archive: loc.archive, member: loc.prefix + name };
}

/** The files whose fingerprint keys the cache: the archive, or the named files of the folder. */
export function sourceFilesFor(loc: BinaryLocation, names: string[]): string[] {
  if (loc.kind === 'archive') return [loc.archive];
  const files = names.map((n) => join(loc.dir, n));
  for (const f of files) if (!existsSync(f)) throw new Error(`${f}: missing (expected in ${loc.dir})`);
  return files;
}

/**
 * A record spec that collects a small text file (class names) when present; check the result with
 * checkClassNames. Absent files are skipped: the embedded names are the reference.
 */
export function textFileSpec(loc: BinaryLocation, name: string, sink: { text: string | null }): RecordFileSpec | null {
  const file = binaryFile(loc, name);
  if ('path' in file && !existsSync(file.path)) return null;
  const chunks: Uint8Array[] = [];
  return {
    file,
    recordSize: 1,
    optional: true,
    onRecords: (block, count, first) => {
      chunks.push(block.slice(0, count));
      sink.text = Buffer.concat(chunks).toString('utf8');
      void first;
    },
  };
}

/** Throws when a class-names file lists other names (or another order) than the embedded ones. */
export function checkClassNames(fileLabel: string, text: string | null, expected: string[]): void {
  if (text === null) return;
  const names = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  if (names.length !== expected.length || names.some((n, i) => n !== expected[i]))
    throw new Error(
      `${fileLabel}: class names [${names.join(', ')}] differ from the official list [${expected.join(', ')}]; ` +
        'labels would be misnamed, so the file is rejected',
    );
}

export function readTextIfExists(path: string): string | null {
  return existsSync(path) ? readFileSync(path, 'utf8') : null;
}
