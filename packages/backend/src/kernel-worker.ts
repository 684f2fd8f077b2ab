// Kernel worker for the wasm backend's extra threads (see wasm-threads.ts). It runs its own single-threaded tfjs
// wasm backend with our kernels registered, and serves jobs synchronously: the main thread writes the inputs into
// shared memory, posts the job (with its sequence number) on the port and bumps ctrl[REQ]; this thread takes
// every posted job with receiveMessageOnPort, runs the kernel, writes the output into shared memory, replies with
// the job's number and stores it in ctrl[DONE]. No event loop is involved, so the main thread can block on
// Atomics.wait inside a kernel.
//
// The port, not the counter, says whether there is work: a notify meant for an earlier wait can wake a later one
// (the main thread stores, we finish that job and wait again, then its notify lands), so a wakeup only means
// "look again". A failure outside a job is written to ctrl[STATE] (the main thread cannot see worker events
// while it blocks) after a `fatal` message that says why.
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernels } from './wasm-kernels';
import { CTRL, WORKER_STATE, type WorkerFault, type WorkerJob } from './kernel-protocol';

const { ctrl: ctrlBuffer, port } = workerData as { ctrl: SharedArrayBuffer; port: MessagePort };
const ctrl = new Int32Array(ctrlBuffer);
let data: Float32Array<ArrayBufferLike> = new Float32Array(0);

function die(reason: string): void {
  if (Atomics.load(ctrl, CTRL.STATE) === WORKER_STATE.DEAD) return;
  port.postMessage({ fatal: reason });
  Atomics.store(ctrl, CTRL.STATE, WORKER_STATE.DEAD);
  Atomics.notify(ctrl, CTRL.DONE);
}
process.on('exit', (code) => die(`the worker exited (code ${code})`));

registerWasmKernels();
await tf.setBackend('wasm');
await tf.ready();
const backend = tf.backend() as unknown as { typedArrayFromHeap(t: tf.TensorInfo): Float32Array };

function runJob(job: WorkerJob): number[] {
  if (job.buffer) data = new Float32Array(job.buffer);
  const inputs: Record<string, tf.Tensor> = {};
  try {
    for (const input of job.inputs) {
      const size = input.shape.reduce((a, b) => a * b, 1);
      inputs[input.name] = tf.tensor(data.subarray(input.offset, input.offset + size), input.shape, 'float32');
    }
    const out = tf.engine().runKernel(job.kernel, inputs, job.attrs) as tf.Tensor;
    try {
      if (out.size > job.outCapacity)
        throw new Error(`${job.kernel} output of ${out.size} values exceeds the ${job.outCapacity} reserved`);
      data.set(backend.typedArrayFromHeap(out), job.outOffset);
      return out.shape;
    } finally {
      out.dispose();
    }
  } finally {
    tf.dispose(Object.values(inputs));
  }
}

/** Test hook (wasmThreadFaults): fails the way a broken worker would, outside the job's error reply. */
function injectFault(fault: WorkerFault): void {
  if (fault === 'throw') throw new Error('injected fault: uncaught exception in the worker loop');
  if (fault === 'exit') process.exit(7);
  if (fault === 'hang') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

function serve(): void {
  for (;;) {
    const posted = Atomics.load(ctrl, CTRL.REQ);
    const received = receiveMessageOnPort(port);
    if (received === undefined) {
      // a job posted after the load has bumped REQ, so this returns at once; any other wakeup just looks again
      Atomics.wait(ctrl, CTRL.REQ, posted);
      continue;
    }
    const job = received.message as WorkerJob;
    if (job.stop) return;
    if (job.fault) injectFault(job.fault);
    let reply: { seq: number; shape?: number[]; error?: string };
    try {
      reply = { seq: job.seq, shape: runJob(job) };
    } catch (err) {
      reply = { seq: job.seq, error: String((err as Error)?.stack ?? err) };
    }
    port.postMessage(reply);
    Atomics.store(ctrl, CTRL.DONE, job.seq);
    Atomics.notify(ctrl, CTRL.DONE);
    if (job.lateWaitMs) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, job.lateWaitMs);
  }
}

Atomics.store(ctrl, CTRL.STATE, WORKER_STATE.READY);
Atomics.notify(ctrl, CTRL.STATE);
try {
  serve();
} catch (err) {
  die(String((err as Error)?.stack ?? err));
}
