// Kernel worker for the wasm backend's extra threads (see wasm-threads.ts). It runs its own single-threaded tfjs
// wasm backend with our kernels registered, and serves one job at a time, synchronously: the main thread writes
// the inputs into shared memory, posts the job description on the port and bumps ctrl[0]; this thread wakes,
// reads the job with receiveMessageOnPort, runs the kernel, writes the output into shared memory and bumps
// ctrl[1]. No event loop is involved, so the main thread can block on Atomics.wait inside a kernel.
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernels } from './wasm-kernels';

interface Job {
  kernel: string;
  inputs: { name: string; shape: number[]; offset: number }[];
  attrs: tf.NamedAttrMap;
  outOffset: number;
  outCapacity: number;
  buffer?: SharedArrayBuffer;
  stop?: boolean;
}

const { ctrl: ctrlBuffer, port } = workerData as { ctrl: SharedArrayBuffer; port: MessagePort };
const ctrl = new Int32Array(ctrlBuffer);
let data: Float32Array<ArrayBufferLike> = new Float32Array(0);

registerWasmKernels();
await tf.setBackend('wasm');
await tf.ready();
const backend = tf.backend() as unknown as { typedArrayFromHeap(t: tf.TensorInfo): Float32Array };

function runJob(job: Job): number[] {
  if (job.buffer) data = new Float32Array(job.buffer);
  const inputs: Record<string, tf.Tensor> = {};
  for (const input of job.inputs) {
    const size = input.shape.reduce((a, b) => a * b, 1);
    inputs[input.name] = tf.tensor(data.subarray(input.offset, input.offset + size), input.shape, 'float32');
  }
  const out = tf.engine().runKernel(job.kernel, inputs, job.attrs) as tf.Tensor;
  try {
    if (out.size > job.outCapacity) throw new Error(`${job.kernel} output of ${out.size} values exceeds the ${job.outCapacity} reserved`);
    data.set(backend.typedArrayFromHeap(out), job.outOffset);
    return out.shape;
  } finally {
    tf.dispose([out, ...Object.values(inputs)]);
  }
}

Atomics.store(ctrl, 1, -1); // ready
Atomics.notify(ctrl, 1);
let seen = 0;
for (;;) {
  Atomics.wait(ctrl, 0, seen);
  seen = Atomics.load(ctrl, 0);
  const job = receiveMessageOnPort(port)?.message as Job | undefined;
  if (!job || job.stop) break;
  let reply: { shape?: number[]; error?: string };
  try {
    reply = { shape: runJob(job) };
  } catch (err) {
    reply = { error: String((err as Error)?.stack ?? err) };
  }
  port.postMessage(reply);
  Atomics.store(ctrl, 1, seen);
  Atomics.notify(ctrl, 1);
}
