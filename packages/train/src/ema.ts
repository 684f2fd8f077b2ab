// Exponential moving average of the weights, as the official utils/ema.py is used in selflabel.py:
// after every optimizer step, update_params (shadow = alpha * shadow + (1 - alpha) * param, parameters only)
// then apply_shadow (load the whole shadow state dict back into the model). Two consequences, kept on purpose:
// - the model trains FROM the averaged weights each step, so a step moves the weights by (1 - alpha) x the
//   optimizer's update (the optimizer's own state still accumulates the full gradients);
// - the shadow holds the buffers (BN running statistics) as they were when the EMA was created, and
//   apply_shadow loads them back: BN statistics are reset to their start-of-stage values after every step
//   (reference §2.4 quirk). `resetBuffers: false` keeps the running statistics instead.
import * as tf from '@tensorflow/tfjs-core';
import type { NamedArray } from '@scan-repro/core';
import { restoreVariables, snapshotVariables } from './variables';

export interface EmaOptions {
  /** Non-trainable state (BN running stats) that apply_shadow restores to its creation-time value (default true). */
  resetBuffers?: boolean;
}

export class Ema {
  private readonly shadow = new Map<string, tf.Variable>();
  private readonly bufferSnapshot = new Map<string, tf.Tensor>();

  constructor(
    private readonly params: Map<string, tf.Variable>,
    readonly alpha: number,
    private readonly buffers: Map<string, tf.Variable> = new Map(),
    opts: EmaOptions = {},
  ) {
    if (!(alpha >= 0 && alpha <= 1)) throw new Error(`Ema: alpha = ${alpha}, expected a number in [0, 1]`);
    // tidy: the clone is only the variable's initial value (a variable is never disposed by tidy)
    for (const [name, p] of params)
      this.shadow.set(
        name,
        tf.tidy(() => tf.variable(p.clone(), false)),
      );
    if (opts.resetBuffers ?? true) for (const [name, b] of buffers) this.bufferSnapshot.set(name, tf.keep(b.clone()));
  }

  /** update_params + apply_shadow: call once after every optimizer step. */
  update(): void {
    tf.tidy(() => {
      for (const [name, p] of this.params) {
        const s = this.shadow.get(name)!;
        s.assign(tf.add(tf.mul(s, this.alpha), tf.mul(p, 1 - this.alpha)));
        p.assign(s);
      }
      for (const [name, snap] of this.bufferSnapshot) this.buffers.get(name)!.assign(snap);
    });
  }

  /** Shadow weights and the buffer snapshot, for checkpoints. */
  state(): Record<string, NamedArray> {
    const out = snapshotVariables(this.shadow, 'shadow/');
    for (const [name, t] of this.bufferSnapshot) {
      const data = t.dataSync();
      out[`buffer/${name}`] =
        t.dtype === 'int32'
          ? { dtype: 'I32', shape: [...t.shape], data: Int32Array.from(data as Int32Array) }
          : { dtype: 'F32', shape: [...t.shape], data: Float32Array.from(data as Float32Array) };
    }
    return out;
  }

  loadState(state: Record<string, NamedArray>, source = 'EMA state'): void {
    restoreVariables(this.shadow, state, 'shadow/', source);
    for (const [name, old] of this.bufferSnapshot) {
      const arr = state[`buffer/${name}`];
      if (!arr) throw new Error(`${source}: tensor 'buffer/${name}' is missing`);
      old.dispose();
      this.bufferSnapshot.set(
        name,
        tf.keep(tf.tensor(arr.data as Float32Array | Int32Array, arr.shape, old.dtype as 'float32' | 'int32')),
      );
    }
  }

  dispose(): void {
    for (const v of this.shadow.values()) v.dispose();
    for (const t of this.bufferSnapshot.values()) t.dispose();
    this.shadow.clear();
    this.bufferSnapshot.clear();
  }
}
