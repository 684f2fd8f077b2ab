// What the main thread and a kernel worker share (wasm-threads.ts, kernel-worker.ts): the layout of the control
// words and the job message.
import type { NamedAttrMap } from '@tensorflow/tfjs-core';

/** Int32 control words in the shared ctrl buffer. */
export const CTRL = {
  /** jobs posted so far (main thread writes; the worker waits on it) */
  REQ: 0,
  /** sequence number of the last job finished (worker writes; the main thread waits on it) */
  DONE: 1,
  /** a WORKER_STATE (worker writes) */
  STATE: 2,
} as const;
export const CTRL_WORDS = 3;

export const WORKER_STATE = { STARTING: 0, READY: 1, DEAD: 2 } as const;

/** Ways a test can make a worker fail: throw outside a job, exit, or stop answering. */
export type WorkerFault = 'throw' | 'exit' | 'hang';

export interface JobInput {
  name: string;
  shape: number[];
  offset: number;
}

export interface WorkerJob {
  seq: number;
  kernel: string;
  inputs: JobInput[];
  attrs: NamedAttrMap;
  outOffset: number;
  outCapacity: number;
  /** the shared data buffer, sent when it changes */
  buffer?: SharedArrayBuffer;
  fault?: WorkerFault;
  /** test hook: pause this long after finishing, before waiting for the next job */
  lateWaitMs?: number;
  stop?: boolean;
}
