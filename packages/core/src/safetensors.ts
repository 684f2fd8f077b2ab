// safetensors codec (https://github.com/huggingface/safetensors#format): 8-byte little-endian header length N,
// N bytes of JSON header {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {string: string}},
// then the raw little-endian tensor bytes. Used for model weights, neighbours and checkpoints so that files
// load in PyTorch / numpy (safetensors.numpy.load_file) unchanged.
import { endianness } from 'node:os';

export type DType = 'F32' | 'I32' | 'U8' | 'F64' | 'I64';
export type TypedArrayFor = Float32Array | Int32Array | Uint8Array | Float64Array | BigInt64Array;
export interface NamedArray {
  dtype: DType;
  shape: number[];
  data: TypedArrayFor;
}

const DTYPES: Record<
  DType,
  { bytes: number; make: (buf: ArrayBuffer, offset: number, length: number) => TypedArrayFor; ctor: Function }
> = {
  F32: { bytes: 4, make: (b, o, n) => new Float32Array(b, o, n), ctor: Float32Array },
  I32: { bytes: 4, make: (b, o, n) => new Int32Array(b, o, n), ctor: Int32Array },
  U8: { bytes: 1, make: (b, o, n) => new Uint8Array(b, o, n), ctor: Uint8Array },
  F64: { bytes: 8, make: (b, o, n) => new Float64Array(b, o, n), ctor: Float64Array },
  I64: { bytes: 8, make: (b, o, n) => new BigInt64Array(b, o, n), ctor: BigInt64Array },
};

if (endianness() !== 'LE')
  throw new Error('safetensors codec: this machine is big-endian; only little-endian is supported');

const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Encode tensors (sorted by name, 8-byte aligned header as the reference implementation writes it). */
export function writeSafetensors(tensors: Record<string, NamedArray>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata))
      if (typeof v !== 'string') throw new Error(`safetensors metadata '${k}' must be a string, got ${typeof v}`);
    header.__metadata__ = metadata;
  }
  const names = Object.keys(tensors).sort();
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    const spec = DTYPES[t.dtype];
    if (!spec) throw new Error(`tensor '${name}': dtype ${t.dtype} is not one of ${Object.keys(DTYPES).join(', ')}`);
    if (!(t.data instanceof spec.ctor))
      throw new Error(`tensor '${name}': dtype ${t.dtype} needs a ${spec.ctor.name}, got ${t.data.constructor.name}`);
    if (t.shape.some((d) => !Number.isInteger(d) || d < 0) || count(t.shape) !== t.data.length) {
      throw new Error(
        `tensor '${name}': shape [${t.shape}] holds ${count(t.shape)} values but data has ${t.data.length}`,
      );
    }
    const bytes = t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const name of names) {
    const d = tensors[name].data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), pos);
    pos += d.byteLength;
  }
  return out;
}

/** Decode; `source` (file name) is named in every error. Arrays share memory with `bytes` when aligned. */
export function readSafetensors(
  bytes: Uint8Array,
  source: string,
): { tensors: Record<string, NamedArray>; metadata: Record<string, string> } {
  const fail = (why: string): never => {
    throw new Error(`${source}: not a valid safetensors file: ${why}`);
  };
  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, expected at least the 8-byte header length`);
  const headerLen = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (headerLen > BigInt(bytes.length - 8))
    fail(`truncated or corrupt: header length ${headerLen} exceeds the ${bytes.length - 8} bytes after it`);
  const dataStart = 8 + Number(headerLen);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart)));
  } catch (e) {
    return fail(`corrupt header (${(e as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) fail('header is not a JSON object');
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors: Record<string, NamedArray> = {};
  const ranges: [number, number, string][] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!raw || typeof raw !== 'object') fail('__metadata__ is not an object');
      for (const [k, v] of Object.entries(raw as object)) {
        if (typeof v !== 'string') fail(`__metadata__.${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const spec = DTYPES[t?.dtype as DType];
    if (!spec)
      fail(`tensor '${name}' has dtype ${JSON.stringify(t?.dtype)}; supported: ${Object.keys(DTYPES).join(', ')}`);
    const shape = t.shape as number[];
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0))
      fail(`tensor '${name}' has a bad shape ${JSON.stringify(t.shape)}`);
    const offs = t.data_offsets as number[];
    if (
      !Array.isArray(offs) ||
      offs.length !== 2 ||
      !offs.every((o) => Number.isInteger(o) && o >= 0) ||
      offs[1] < offs[0]
    ) {
      fail(`tensor '${name}' has bad data_offsets ${JSON.stringify(t.data_offsets)}`);
    }
    const [begin, end] = offs;
    if (end - begin !== count(shape) * spec.bytes)
      fail(
        `tensor '${name}': data_offsets span ${end - begin} bytes but ${t.dtype}[${shape}] needs ${count(shape) * spec.bytes}`,
      );
    if (end > dataLen)
      fail(`truncated: tensor '${name}' ends at byte ${end} of the data section but it holds only ${dataLen}`);
    ranges.push([begin, end, name]);
    const abs = bytes.byteOffset + dataStart + begin;
    const n = count(shape);
    const data =
      abs % spec.bytes === 0
        ? spec.make(bytes.buffer as ArrayBuffer, abs, n)
        : spec.make(bytes.slice(dataStart + begin, dataStart + end).buffer, 0, n);
    tensors[name] = { dtype: t.dtype as DType, shape, data };
  }
  // The format requires the tensors to tile the data section exactly (no holes, no overlap, no trailing bytes).
  ranges.sort((a, b) => a[0] - b[0]);
  let pos = 0;
  for (const [begin, end, name] of ranges) {
    if (begin !== pos) fail(`tensor '${name}' starts at byte ${begin}, expected ${pos} (overlapping or missing data)`);
    pos = end;
  }
  if (pos !== dataLen) fail(`${dataLen - pos} unexpected bytes after the last tensor`);
  return { tensors, metadata };
}
