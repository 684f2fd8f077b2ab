#!/usr/bin/env node
// Nx runtime input: a cheap content fingerprint of a dataset's files, so that adding, replacing or removing the
// data changes the hash of every task on it. Usage: data-fingerprint.mjs <path relative to the data root>...
// (the paths a reader accepts, e.g. cifar-10-batches-bin cifar-10-binary.tar.gz). Plain Node (no tsx): Nx runs it
// for every hash computation. The data root is resolved like @scan-repro/data's resolveDataRoot: env SCAN_DATA_DIR
// (relative to the repo root), else ../shared/data next to the repo, else <repo>/data.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const env = process.env.SCAN_DATA_DIR?.trim();
const shared = resolve(repo, '..', 'shared', 'data');
const root = env ? resolve(repo, env) : existsSync(shared) ? shared : resolve(repo, 'data');
const MIB = 1 << 20;

function fileDigest(path, size, h) {
  // First and last MiB plus the size: catches a different archive without reading 170 MB on every hash.
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(MIB, size));
    readSync(fd, buf, 0, buf.length, 0);
    h.update(buf);
    if (size > MIB) {
      readSync(fd, buf, 0, buf.length, Math.max(0, size - MIB));
      h.update(buf);
    }
  } finally {
    closeSync(fd);
  }
}

function walk(path, rel, h, depth) {
  const s = statSync(path);
  if (s.isFile()) {
    h.update(`${rel}\0${s.size}\n`);
    if (depth === 0) fileDigest(path, s.size, h);
    return;
  }
  if (!s.isDirectory()) return;
  for (const e of readdirSync(path).sort()) walk(join(path, e), `${rel}/${e}`, h, depth + 1);
}

const h = createHash('sha256');
const found = [];
for (const rel of process.argv.slice(2)) {
  const p = join(root, rel);
  if (!existsSync(p)) continue;
  found.push(rel);
  walk(p, rel, h, 0);
}
// Only relative names and content go into the hash: the same data on another machine gives the same hash.
process.stdout.write(
  found.length ? `${found.join(',')}:${h.digest('hex')}` : `missing:${process.argv.slice(2).join(',')}`,
);
