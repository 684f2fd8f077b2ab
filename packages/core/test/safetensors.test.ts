import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors, type NamedArray } from '../src/index';

const fixture = join(__dirname, 'fixtures/reference.safetensors');

describe('safetensors', () => {
  it('reads a file written by the official safetensors library (test/fixtures/make_safetensors_reference.py)', () => {
    const { tensors, metadata } = readSafetensors(readFileSync(fixture), fixture);
    expect(metadata).toEqual({ best_head: '3', note: 'made by safetensors.numpy' });
    const w = tensors['backbone.conv1.weight'];
    expect(w.dtype).toBe('F32');
    expect(w.shape).toEqual([2, 3, 2, 2]);
    expect(Array.from(w.data as Float32Array)).toEqual(Array.from({ length: 24 }, (_, i) => (i - 10) / 4));
    expect(tensors.neighbors).toMatchObject({ dtype: 'I32', shape: [2, 3] });
    expect(Array.from(tensors.neighbors.data as Int32Array)).toEqual([0, 5, 7, 1, 2, 9]);
    expect(Array.from(tensors.labels_u8.data as Uint8Array)).toEqual([0, 255, 17]);
    expect(Array.from(tensors.scale_f64.data as Float64Array)).toEqual([1e-300, -2.5, Math.PI]);
    expect(Array.from(tensors.count_i64.data as BigInt64Array)).toEqual([-(2n ** 40n), 3n]);
    expect(tensors.scalar).toMatchObject({ shape: [] });
    expect(tensors.scalar.data[0]).toBe(3.5);
  });

  it('round-trips every dtype, including empty and scalar tensors', () => {
    const tensors: Record<string, NamedArray> = {
      'b.f32': { dtype: 'F32', shape: [2, 2], data: new Float32Array([1.5, -2, 3e-8, 4]) },
      'a.i32': { dtype: 'I32', shape: [3], data: new Int32Array([-1, 0, 2 ** 31 - 1]) },
      u8: { dtype: 'U8', shape: [5], data: new Uint8Array([1, 2, 3, 4, 5]) },
      f64: { dtype: 'F64', shape: [1, 1], data: new Float64Array([Math.E]) },
      i64: { dtype: 'I64', shape: [2], data: new BigInt64Array([1n, -(2n ** 62n)]) },
      empty: { dtype: 'F32', shape: [0, 3], data: new Float32Array(0) },
      scalar: { dtype: 'F32', shape: [], data: new Float32Array([7]) },
    };
    const bytes = writeSafetensors(tensors, { epoch: '3' });
    // Header length is a multiple of 8 so that tensor data is aligned.
    expect(Number(new DataView(bytes.buffer).getBigUint64(0, true)) % 8).toBe(0);
    const back = readSafetensors(bytes, 'mem');
    expect(back.metadata).toEqual({ epoch: '3' });
    for (const [name, t] of Object.entries(tensors)) {
      expect(back.tensors[name].dtype).toBe(t.dtype);
      expect(back.tensors[name].shape).toEqual(t.shape);
      expect(Array.from(back.tensors[name].data as ArrayLike<number>)).toEqual(Array.from(t.data as ArrayLike<number>));
    }
    // Unaligned input buffers are copied rather than failing.
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    expect(Array.from(readSafetensors(shifted.subarray(1), 'shifted').tensors['b.f32'].data as Float32Array)).toEqual(
      [1.5, -2, 3e-8, 4].map(Math.fround),
    );
  });

  it('rejects bad input with the tensor name', () => {
    expect(() => writeSafetensors({ x: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).toThrow(
      "tensor 'x': shape [3] holds 3 values but data has 2",
    );
    expect(() => writeSafetensors({ x: { dtype: 'I32', shape: [2], data: new Float32Array(2) } })).toThrow(
      "tensor 'x': dtype I32 needs a Int32Array, got Float32Array",
    );
  });

  it('names the file and the problem for corrupt or truncated files', () => {
    const good = readFileSync(fixture);
    expect(() => readSafetensors(good.subarray(0, 5), 'f.safetensors')).toThrow(
      'f.safetensors: not a valid safetensors file: truncated: 5 bytes',
    );
    expect(() => readSafetensors(good.subarray(0, 100), 'f.safetensors')).toThrow(
      /header length 472 exceeds the 92 bytes/,
    );
    expect(() => readSafetensors(good.subarray(0, good.length - 3), 'f.safetensors')).toThrow(
      /truncated: tensor '.*' ends at byte \d+ of the data section but it holds only/,
    );
    const garbled = Uint8Array.from(good);
    garbled[8] = 0x78; // 'x' instead of the header's opening '{'
    expect(() => readSafetensors(garbled, 'g.safetensors')).toThrow(
      /g\.safetensors: not a valid safetensors file: corrupt header/,
    );
    const extra = new Uint8Array(good.length + 4);
    extra.set(good);
    expect(() => readSafetensors(extra, 'e')).toThrow('4 unexpected bytes after the last tensor');
    const f16 = writeSafetensors({ x: { dtype: 'F32', shape: [1], data: new Float32Array(1) } });
    const text = new TextDecoder().decode(f16).replace('"F32"', '"F16"');
    expect(() => readSafetensors(new TextEncoder().encode(text), 'h')).toThrow(
      `tensor 'x' has dtype "F16"; supported: F32, I32, U8, F64, I64`,
    );
  });
});
