// Readers for the official binary formats' common shape: files (plain, or members of a .tar.gz) made of
// fixed-size records. The archive is streamed, never extracted, so no archive path can escape anywhere.
import { createReadStream, statSync } from 'node:fs';
import { t as listTar } from 'tar';

/** A binary file either on disk or inside a .tar.gz (member path as stored, e.g. 'cifar-10-batches-bin/test_batch.bin'). */
export type BinaryFile = { path: string } | { archive: string; member: string };

export function describeBinaryFile(f: BinaryFile): string {
  return 'path' in f ? f.path : `${f.archive}:${f.member}`;
}

/** Receives the records of one file in order, in blocks of whole records. */
export type RecordHandler = (block: Uint8Array, count: number, firstRecord: number) => void;

export interface RecordFileSpec {
  file: BinaryFile;
  recordSize: number;
  /** When set, a file with another record count is an error (names the file and both counts). */
  expectedRecords?: number;
  /** Archive members only: a missing optional member is not an error (put optional specs last). */
  optional?: boolean;
  onRecords: RecordHandler;
}

class RecordAssembler {
  private carry: Uint8Array;
  private carried = 0;
  records = 0;
  bytes = 0;
  constructor(private readonly spec: RecordFileSpec) {
    this.carry = new Uint8Array(spec.recordSize);
  }
  push(chunk: Uint8Array): void {
    const rs = this.spec.recordSize;
    this.bytes += chunk.length;
    let off = 0;
    if (this.carried > 0) {
      const take = Math.min(rs - this.carried, chunk.length);
      this.carry.set(chunk.subarray(0, take), this.carried);
      this.carried += take;
      off = take;
      if (this.carried < rs) return;
      this.spec.onRecords(this.carry, 1, this.records);
      this.records += 1;
      this.carried = 0;
    }
    const whole = Math.floor((chunk.length - off) / rs);
    if (whole > 0) {
      this.spec.onRecords(chunk.subarray(off, off + whole * rs), whole, this.records);
      this.records += whole;
      off += whole * rs;
    }
    if (off < chunk.length) {
      this.carry.set(chunk.subarray(off), 0);
      this.carried = chunk.length - off;
    }
  }
  finish(declaredSize: number): void {
    const name = describeBinaryFile(this.spec.file);
    if (this.bytes !== declaredSize)
      throw new Error(`${name}: truncated: read ${this.bytes} bytes, the file declares ${declaredSize}`);
  }
}

function checkSize(spec: RecordFileSpec, size: number): void {
  const name = describeBinaryFile(spec.file);
  if (size % spec.recordSize !== 0)
    throw new Error(
      `${name}: corrupt or truncated: ${size} bytes is not a multiple of the ${spec.recordSize}-byte record ` +
        `(${Math.floor(size / spec.recordSize)} whole records + ${size % spec.recordSize} bytes)`,
    );
  const n = size / spec.recordSize;
  if (spec.expectedRecords !== undefined && n !== spec.expectedRecords)
    throw new Error(
      `${name}: wrong record count: expected ${spec.expectedRecords} records of ${spec.recordSize} bytes, found ${n}`,
    );
}

/** Number of records a file holds, checking it is a whole number (plain files only). */
export function countRecords(path: string, recordSize: number, expectedRecords?: number): number {
  const size = statSync(path).size;
  checkSize({ file: { path }, recordSize, expectedRecords, onRecords: () => {} }, size);
  return size / recordSize;
}

async function readPlainFile(spec: RecordFileSpec & { file: { path: string } }): Promise<number> {
  const size = statSync(spec.file.path).size;
  checkSize(spec, size);
  const asm = new RecordAssembler(spec);
  for await (const chunk of createReadStream(spec.file.path, { highWaterMark: 4 << 20 })) asm.push(chunk as Buffer);
  asm.finish(size);
  return asm.records;
}

function normalizeMember(p: string): string {
  return p.replace(/^(\.\/)+/, '');
}

/**
 * Reads record files in the given order. Plain files are streamed one after another. Members of the same
 * archive are read in one pass over the archive; a member that comes earlier in the archive than its turn is
 * buffered until then. Errors name the file and the problem; a bad archive names the archive.
 */
export async function readRecordFiles(specs: RecordFileSpec[]): Promise<number[]> {
  const counts: number[] = new Array(specs.length).fill(0);
  let i = 0;
  while (i < specs.length) {
    const f = specs[i].file;
    if ('path' in f) {
      counts[i] = await readPlainFile(specs[i] as RecordFileSpec & { file: { path: string } });
      i++;
      continue;
    }
    // gather the run of consecutive specs from the same archive
    let j = i;
    while (
      j < specs.length &&
      'archive' in specs[j].file &&
      (specs[j].file as { archive: string }).archive === f.archive
    )
      j++;
    const group = specs.slice(i, j);
    const groupCounts = await readArchiveMembers(f.archive, group);
    groupCounts.forEach((c, k) => (counts[i + k] = c));
    i = j;
  }
  return counts;
}

async function readArchiveMembers(archive: string, specs: RecordFileSpec[]): Promise<number[]> {
  const wanted = new Map<string, number>();
  specs.forEach((s, k) => wanted.set(normalizeMember((s.file as { member: string }).member), k));
  const asms = specs.map((s) => new RecordAssembler(s));
  const sizes: number[] = specs.map(() => -1);
  const done: boolean[] = specs.map(() => false);
  const pending = new Map<number, Uint8Array[]>(); // out-of-turn members, buffered
  let next = 0; // index of the member whose turn it is
  let failure: unknown = null;

  const flushInTurn = (): void => {
    while (next < specs.length && done[next] && pending.has(next)) {
      for (const c of pending.get(next)!) asms[next].push(c);
      pending.delete(next);
      asms[next].finish(sizes[next]);
      next++;
    }
  };

  try {
    await listTar({
      file: archive,
      strict: true,
      onReadEntry: (entry) => {
        const k = wanted.get(normalizeMember(entry.path));
        if (k === undefined || failure) {
          entry.resume();
          return;
        }
        const spec = specs[k];
        try {
          if (entry.type !== 'File' && entry.type !== 'OldFile')
            throw new Error(`${describeBinaryFile(spec.file)}: is a ${entry.type} entry, expected a regular file`);
          sizes[k] = entry.size ?? 0;
          checkSize(spec, sizes[k]);
        } catch (err) {
          failure = failure ?? err;
          entry.resume();
          return;
        }
        const inTurn = k === next;
        if (!inTurn) pending.set(k, []);
        entry.on('data', (chunk: Buffer) => {
          if (failure) return;
          try {
            if (inTurn) asms[k].push(chunk);
            else pending.get(k)!.push(Buffer.from(chunk));
          } catch (err) {
            failure = failure ?? err;
          }
        });
        entry.on('end', () => {
          if (failure) return;
          try {
            done[k] = true;
            if (inTurn) {
              asms[k].finish(sizes[k]);
              next++;
            }
            flushInTurn();
          } catch (err) {
            failure = failure ?? err;
          }
        });
      },
    });
  } catch (err) {
    if (failure) throw failure;
    throw new Error(`${archive}: bad archive: ${(err as Error).message}`);
  }
  if (failure) throw failure;
  const missing = specs.filter((s, k) => !done[k] && !s.optional).map((s) => (s.file as { member: string }).member);
  if (missing.length) throw new Error(`${archive}: bad archive: missing member(s) ${missing.join(', ')}`);
  return asms.map((a) => a.records);
}

/** Reads one small text member (e.g. a class-names file) of a .tar.gz; null when absent. */
export async function readArchiveText(archive: string, member: string): Promise<string | null> {
  let text: string | null = null;
  const chunks: Buffer[] = [];
  try {
    await listTar({
      file: archive,
      strict: true,
      onReadEntry: (entry) => {
        if (normalizeMember(entry.path) !== normalizeMember(member)) return entry.resume();
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => (text = Buffer.concat(chunks).toString('utf8')));
      },
    });
  } catch (err) {
    throw new Error(`${archive}: bad archive: ${(err as Error).message}`);
  }
  return text;
}
