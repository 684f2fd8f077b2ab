// Decoded-data cache: one compact set of files per dataset split, so a split is decoded from the official
// format once and later opens only read raw bytes.
//
// Layout, in <cache_dir>/<dataset>/ with KEY = <split>-<16 hex digits of the cache key>:
//   KEY.images.bin  raw uint8 HWC RGB images, one after another (fixed shape: image i at i*h*w*3)
//   KEY.labels.bin  int32 little-endian label per image (-1 = unlabelled)
//   KEY.index.bin   only for variable-size images: float64 byte offsets [n+1], then int32 (h, w) pairs [2n]
//   KEY.json        header: format, dataset, split, size, image shape, source, fingerprint, byte counts
// The binaries are written to temp files, fsynced and renamed; the header is written last (atomically) and is
// the commit marker: without a header whose byte counts match the binaries, the entry does not exist. A
// decode that fails deletes its temp files, so nothing partially decoded is ever cached.
//
// Cache key = sha256 of (format version, decoder version, dataset, split, source fingerprint). The source
// fingerprint covers every source file: size, mtime, and sha256 of its first and last MiB. That costs two
// 1 MiB reads per file instead of hashing gigabytes (STL-10's unlabelled file is 2.7 GB) on every open; it
// catches replaced, re-downloaded, truncated or extended files, touched files, and edits near either end.
// (An in-place edit in the middle that keeps size and mtime would be missed; nothing realistic does that.)
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWriteFile, removeOrphanedTmpFiles } from '@scan-repro/core';
import type { DecodedImage, ImageSplit } from './dataset';

const CACHE_FORMAT = 'scan-repro-split-cache/1';
const MIB = 1 << 20;

export interface FileFingerprint {
  path: string;
  size: number;
  mtimeMs: number;
  headSha256: string;
  tailSha256: string;
}

async function hashRange(path: string, start: number, length: number): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await fh.read(buf, done, length - done, start + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return createHash('sha256').update(buf.subarray(0, done)).digest('hex');
  } finally {
    await fh.close();
  }
}

/** Size, mtime and sha256 of the first and last MiB of a file (see the header comment for why). */
export async function fingerprintFile(path: string): Promise<FileFingerprint> {
  const st = statSync(path);
  const head = Math.min(MIB, st.size);
  const tail = Math.min(MIB, st.size);
  return {
    path,
    size: st.size,
    mtimeMs: Math.floor(st.mtimeMs),
    headSha256: await hashRange(path, 0, head),
    tailSha256: await hashRange(path, st.size - tail, tail),
  };
}

/** One hex digest over the fingerprints of all given files (order-sensitive). */
export async function fingerprintSources(paths: string[]): Promise<string> {
  const prints = [];
  for (const p of paths) prints.push(await fingerprintFile(p));
  return createHash('sha256').update(JSON.stringify(prints)).digest('hex');
}

const decodeCounts = new Map<string, number>();

/** How many times a split of `dataset` (or of any dataset) was decoded from source in this process. */
export function decodeCount(dataset?: string): number {
  if (dataset !== undefined) return decodeCounts.get(dataset) ?? 0;
  let total = 0;
  for (const v of decodeCounts.values()) total += v;
  return total;
}

/** Sink a decoder writes the split into, image by image or in blocks, in index order. */
export interface SplitWriter {
  /** Appends k fixed-shape images (k*h*w*3 bytes, HWC RGB) and their k labels. */
  append(images: Uint8Array, labels: ArrayLike<number>): void;
  /** Appends one image of any shape (only for splits declared with imageShape: null). */
  appendImage(image: DecodedImage, label: number): void;
}

export interface CachedSplitOptions {
  cacheDir: string;
  dataset: string;
  split: string;
  /** Files whose contents determine the decoded split: their fingerprint keys the cache. */
  sourceFiles: string[];
  /** Shown in reports: the archive or folder the split was read from. */
  source: string;
  /** Fixed shape of every image, or null for variable-size images. */
  imageShape: { height: number; width: number } | null;
  /** Bump when the decoder's output changes for the same source files. */
  decoderVersion?: number;
  /** Extra values that change the decoded output (e.g. a resize setting); part of the cache key. */
  keyExtra?: unknown;
  /** Splits with more image bytes than this are read from the cache file per image instead of held in memory. */
  inMemoryLimitBytes?: number;
  /** Writes the whole split into the writer; throw on any problem (nothing is cached then). */
  decode(writer: SplitWriter): Promise<void>;
}

interface CacheHeader {
  format: string;
  key: string;
  dataset: string;
  split: string;
  size: number;
  imageShape: { height: number; width: number } | null;
  source: string;
  sourceFiles: string[];
  fingerprint: string;
  imageBytes: number;
  labelBytes: number;
  indexBytes: number;
  createdAt: string;
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._+-]/g, '_');
}

function fileSizeOr(path: string, fallback: number): number {
  try {
    return statSync(path).size;
  } catch {
    return fallback;
  }
}

/** Returns the split from the cache, decoding it into the cache first when missing or stale. */
export async function loadCachedSplit(opts: CachedSplitOptions): Promise<ImageSplit> {
  const fingerprint = await fingerprintSources(opts.sourceFiles);
  const key = createHash('sha256')
    .update(
      JSON.stringify([
        CACHE_FORMAT,
        opts.decoderVersion ?? 1,
        opts.dataset,
        opts.split,
        fingerprint,
        opts.keyExtra ?? null,
      ]),
    )
    .digest('hex')
    .slice(0, 16);
  const dir = join(opts.cacheDir, safeName(opts.dataset));
  const base = join(dir, `${safeName(opts.split)}-${key}`);
  await removeOrphanedTmpFiles(dir); // a decode killed mid-write (SIGKILL) left these; they are never renamed
  const header = await readValidHeader(base, key);
  if (header) return openCachedSplit(base, header, opts.inMemoryLimitBytes ?? 1 << 30);

  decodeCounts.set(opts.dataset, (decodeCounts.get(opts.dataset) ?? 0) + 1);
  mkdirSync(dir, { recursive: true });
  const written = await writeCacheEntry(base, key, fingerprint, opts);
  removeStaleEntries(dir, safeName(opts.split), key);
  return openCachedSplit(base, written, opts.inMemoryLimitBytes ?? 1 << 30);
}

async function readValidHeader(base: string, key: string): Promise<CacheHeader | null> {
  if (!existsSync(`${base}.json`)) return null;
  try {
    const h = JSON.parse(await readFile(`${base}.json`, 'utf8')) as CacheHeader;
    if (h.format !== CACHE_FORMAT || h.key !== key) return null;
    if (fileSizeOr(`${base}.images.bin`, -1) !== h.imageBytes) return null;
    if (fileSizeOr(`${base}.labels.bin`, -1) !== h.labelBytes) return null;
    if (h.indexBytes > 0 && fileSizeOr(`${base}.index.bin`, -1) !== h.indexBytes) return null;
    return h;
  } catch {
    return null; // unreadable header: decode again and overwrite it
  }
}

class GrowableInt32 {
  data = new Int32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  view(): Int32Array {
    return this.data.subarray(0, this.length);
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}

function finishFile(fd: number, tmp: string, final: string): void {
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, final);
}

async function writeCacheEntry(
  base: string,
  key: string,
  fingerprint: string,
  opts: CachedSplitOptions,
): Promise<CacheHeader> {
  const tag = `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmpImages = `${base}.images.bin${tag}`;
  const imagesFd = openSync(tmpImages, 'w');
  let imagesClosed = false;
  const labels = new GrowableInt32();
  const offsets: number[] = [0];
  const shapes = new GrowableInt32();
  let imageBytes = 0;
  const fixed = opts.imageShape;
  const perImage = fixed ? fixed.height * fixed.width * 3 : 0;
  const where = `${opts.dataset}/${opts.split}`;

  const writer: SplitWriter = {
    append(images, imgLabels) {
      if (!fixed) throw new Error(`${where}: append() needs a fixed image shape; use appendImage()`);
      if (images.length !== imgLabels.length * perImage)
        throw new Error(
          `${where}: ${images.length} image bytes for ${imgLabels.length} labels (expected ${perImage} bytes each)`,
        );
      writeAll(imagesFd, images);
      imageBytes += images.length;
      for (let i = 0; i < imgLabels.length; i++) labels.push(imgLabels[i]);
    },
    appendImage(image, label) {
      if (image.data.length !== image.height * image.width * 3)
        throw new Error(
          `${where}: image ${labels.length} has ${image.data.length} bytes, expected ${image.height}x${image.width}x3`,
        );
      if (fixed && (image.height !== fixed.height || image.width !== fixed.width))
        throw new Error(
          `${where}: image ${labels.length} is ${image.height}x${image.width}, expected ${fixed.height}x${fixed.width}`,
        );
      writeAll(imagesFd, image.data);
      imageBytes += image.data.length;
      labels.push(label);
      offsets.push(imageBytes);
      shapes.push(image.height);
      shapes.push(image.width);
    },
  };

  const tmpFiles = [tmpImages];
  try {
    await opts.decode(writer);
    finishFile(imagesFd, tmpImages, `${base}.images.bin`);
    imagesClosed = true;
    const labelBytes = new Uint8Array(labels.view().slice().buffer);
    const tmpLabels = `${base}.labels.bin${tag}`;
    tmpFiles.push(tmpLabels);
    const lfd = openSync(tmpLabels, 'w');
    writeAll(lfd, labelBytes);
    finishFile(lfd, tmpLabels, `${base}.labels.bin`);
    let indexBytes = 0;
    if (!fixed) {
      const off = Float64Array.from(offsets);
      const idx = new Uint8Array(off.byteLength + shapes.length * 4);
      idx.set(new Uint8Array(off.buffer), 0);
      idx.set(new Uint8Array(shapes.view().slice().buffer), off.byteLength);
      const tmpIndex = `${base}.index.bin${tag}`;
      tmpFiles.push(tmpIndex);
      const ifd = openSync(tmpIndex, 'w');
      writeAll(ifd, idx);
      finishFile(ifd, tmpIndex, `${base}.index.bin`);
      indexBytes = idx.length;
    }
    const header: CacheHeader = {
      format: CACHE_FORMAT,
      key,
      dataset: opts.dataset,
      split: opts.split,
      size: labels.length,
      imageShape: fixed,
      source: opts.source,
      sourceFiles: opts.sourceFiles,
      fingerprint,
      imageBytes,
      labelBytes: labelBytes.length,
      indexBytes,
      createdAt: new Date().toISOString(),
    };
    await atomicWriteFile(`${base}.json`, JSON.stringify(header, null, 1));
    return header;
  } catch (err) {
    if (!imagesClosed) closeSync(imagesFd);
    for (const f of tmpFiles) if (existsSync(f)) unlinkSync(f);
    throw err;
  }
}

// Entries for the same split with another key were made from older source files: delete them.
function removeStaleEntries(dir: string, split: string, key: string): void {
  const pattern = new RegExp(
    `^${split.replace(/[.+]/g, '\\$&')}-([0-9a-f]{16})\\.(json|images\\.bin|labels\\.bin|index\\.bin)$`,
  );
  for (const f of readdirSync(dir)) {
    const m = pattern.exec(f);
    if (m && m[1] !== key) {
      try {
        unlinkSync(join(dir, f));
      } catch {
        // another process may have removed it already
      }
    }
  }
}

async function openCachedSplit(base: string, h: CacheHeader, inMemoryLimit: number): Promise<ImageSplit> {
  const labelBuf = await readFile(`${base}.labels.bin`);
  const labels = new Int32Array(h.size);
  new Uint8Array(labels.buffer).set(labelBuf);
  let offsets: Float64Array | null = null;
  let shapes: Int32Array | null = null;
  if (!h.imageShape) {
    const idx = await readFile(`${base}.index.bin`);
    offsets = new Float64Array(h.size + 1);
    new Uint8Array(offsets.buffer).set(idx.subarray(0, offsets.byteLength));
    shapes = new Int32Array(2 * h.size);
    new Uint8Array(shapes.buffer).set(idx.subarray(offsets.byteLength));
  }
  const shapeOf = (i: number): [number, number, number] => {
    if (h.imageShape) {
      const n = h.imageShape.height * h.imageShape.width * 3;
      return [i * n, h.imageShape.height, h.imageShape.width];
    }
    return [offsets![i], shapes![2 * i], shapes![2 * i + 1]];
  };
  const check = (i: number): void => {
    if (!Number.isInteger(i) || i < 0 || i >= h.size)
      throw new RangeError(`${h.dataset}/${h.split}: image index ${i} out of range [0, ${h.size})`);
  };

  let image: (i: number) => DecodedImage;
  if (h.imageBytes <= inMemoryLimit) {
    const buf = await readFile(`${base}.images.bin`);
    const all = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    image = (i) => {
      check(i);
      const [off, height, width] = shapeOf(i);
      return { data: all.subarray(off, off + height * width * 3), height, width };
    };
  } else {
    // Too big to hold (STL-10 unlabelled: 2.7 GB): one positioned read per image from the cache file.
    const fd = openSync(`${base}.images.bin`, 'r');
    image = (i) => {
      check(i);
      const [off, height, width] = shapeOf(i);
      const data = new Uint8Array(height * width * 3);
      let done = 0;
      while (done < data.length) {
        const n = readSync(fd, data, done, data.length - done, off + done);
        if (n === 0) throw new Error(`${base}.images.bin: truncated at image ${i}`);
        done += n;
      }
      return { data, height, width };
    };
  }
  return {
    dataset: h.dataset,
    split: h.split,
    size: h.size,
    source: h.source,
    labels,
    imageShape: h.imageShape,
    image,
  };
}
