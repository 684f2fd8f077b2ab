// Optimizers with PyTorch's update rules (torch.optim.SGD / torch.optim.Adam as of 1.4, what the official code
// ran), so that the paper's hyperparameters mean the same thing here. Weight decay is L2 added to the gradient
// (not AdamW); SGD has dampening 0; Adam uses bias correction and eps outside the square root.
import * as tf from '@tensorflow/tfjs-core';
import type { NamedArray } from '@scan-repro/core';
import { restoreVariables, snapshotVariables } from './variables';

export interface OptimizerConfig {
  optimizer: 'sgd' | 'adam';
  lr: number;
  /** SGD momentum (ignored by Adam, whose betas are fixed at 0.9 / 0.999 as in the official code). */
  momentum: number;
  nesterov: boolean;
  weight_decay: number;
}

export interface Optimizer {
  /**
   * One update. `grads` is keyed by the parameter names of the map given to createOptimizer (PyTorch names) or
   * by the tf.Variable names (what tf.variableGrads / accumulateGradients return). Parameters without a
   * gradient are left alone, as PyTorch skips parameters whose .grad is None. `lr` overrides the config's lr
   * (schedules). The caller still owns (and disposes) `grads`.
   */
  step(grads: Record<string, tf.Tensor>, lr?: number): void;
  /** Number of step() calls so far. */
  readonly steps: number;
  /** Buffers (momentum / Adam moments) and the step count, for checkpoints. */
  state(): Record<string, NamedArray>;
  loadState(state: Record<string, NamedArray>, source?: string): void;
  dispose(): void;
}

const ADAM_BETA1 = 0.9;
const ADAM_BETA2 = 0.999;
const ADAM_EPS = 1e-8;

function checkConfig(cfg: OptimizerConfig): void {
  if (cfg.optimizer !== 'sgd' && cfg.optimizer !== 'adam')
    throw new Error(`createOptimizer: optimizer '${cfg.optimizer}', expected 'sgd' or 'adam'`);
  for (const key of ['lr', 'momentum', 'weight_decay'] as const) {
    if (!Number.isFinite(cfg[key]) || cfg[key] < 0)
      throw new Error(`createOptimizer: ${key} = ${cfg[key]}, expected a finite number >= 0`);
  }
  if (cfg.optimizer === 'sgd' && cfg.nesterov && cfg.momentum <= 0) {
    throw new Error('createOptimizer: nesterov = true needs momentum > 0 (as torch.optim.SGD requires)');
  }
}

export function createOptimizer(cfg: OptimizerConfig, params: Map<string, tf.Variable>): Optimizer {
  checkConfig(cfg);
  const byTfName = new Map<string, string>();
  for (const [name, v] of params) byTfName.set(v.name, name);
  // Slots are created on a parameter's first update (as PyTorch's lazily created state).
  const slots: Record<string, Map<string, tf.Variable>> = cfg.optimizer === 'sgd'
    ? { momentum_buffer: new Map() }
    : { exp_avg: new Map(), exp_avg_sq: new Map() };
  let steps = 0;

  function resolve(key: string): string {
    if (params.has(key)) return key;
    const name = byTfName.get(key);
    if (name === undefined)
      throw new Error(`optimizer.step: gradient '${key}' matches no parameter (by name or tf variable name)`);
    return name;
  }

  function slot(kind: string, name: string, init: () => tf.Tensor): tf.Variable {
    let v = slots[kind].get(name);
    if (!v) {
      v = tf.tidy(() => tf.variable(init(), false));
      slots[kind].set(name, v);
    }
    return v;
  }

  function sgdUpdate(name: string, p: tf.Variable, g: tf.Tensor, lr: number): void {
    tf.tidy(() => {
      let d = cfg.weight_decay !== 0 ? tf.add(g, tf.mul(p, cfg.weight_decay)) : g;
      if (cfg.momentum !== 0) {
        const existing = slots.momentum_buffer.get(name);
        let buf: tf.Tensor;
        if (!existing) {
          buf = d; // torch: buf = clone(d_p) on the first step
          slots.momentum_buffer.set(name, tf.variable(d, false));
        } else {
          buf = tf.add(tf.mul(existing, cfg.momentum), d); // dampening 0
          existing.assign(buf);
        }
        d = cfg.nesterov ? tf.add(d, tf.mul(buf, cfg.momentum)) : buf;
      }
      p.assign(tf.sub(p, tf.mul(d, lr)));
    });
  }

  function adamUpdate(name: string, p: tf.Variable, g: tf.Tensor, lr: number, t: number): void {
    tf.tidy(() => {
      const d = cfg.weight_decay !== 0 ? tf.add(g, tf.mul(p, cfg.weight_decay)) : g;
      const m = slot('exp_avg', name, () => tf.zerosLike(p));
      const v = slot('exp_avg_sq', name, () => tf.zerosLike(p));
      m.assign(tf.add(tf.mul(m, ADAM_BETA1), tf.mul(d, 1 - ADAM_BETA1)));
      v.assign(tf.add(tf.mul(v, ADAM_BETA2), tf.mul(tf.square(d), 1 - ADAM_BETA2)));
      const biasCorrection1 = 1 - ADAM_BETA1 ** t;
      const biasCorrection2 = 1 - ADAM_BETA2 ** t;
      const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(biasCorrection2)), ADAM_EPS);
      p.assign(tf.sub(p, tf.mul(tf.div(m, denom), lr / biasCorrection1)));
    });
  }

  // Adam's step count is per parameter in PyTorch (a parameter that skipped steps has a smaller t).
  const adamSteps = new Map<string, number>();

  return {
    get steps() {
      return steps;
    },
    step(grads, lr = cfg.lr) {
      if (!Number.isFinite(lr) || lr < 0) throw new Error(`optimizer.step: lr = ${lr}, expected a finite number >= 0`);
      for (const [key, g] of Object.entries(grads)) {
        const name = resolve(key);
        const p = params.get(name)!;
        if (g.shape.join(',') !== p.shape.join(','))
          throw new Error(`optimizer.step: gradient of '${name}' has shape [${g.shape}], parameter has [${p.shape}]`);
        if (cfg.optimizer === 'sgd') sgdUpdate(name, p, g, lr);
        else {
          const t = (adamSteps.get(name) ?? 0) + 1;
          adamSteps.set(name, t);
          adamUpdate(name, p, g, lr, t);
        }
      }
      steps++;
    },
    state() {
      const out: Record<string, NamedArray> = { steps: { dtype: 'I32', shape: [1], data: Int32Array.of(steps) } };
      for (const [kind, map] of Object.entries(slots)) Object.assign(out, snapshotVariables(map, `${kind}/`));
      for (const [name, t] of adamSteps) out[`step/${name}`] = { dtype: 'I32', shape: [1], data: Int32Array.of(t) };
      return out;
    },
    loadState(state, source = 'optimizer state') {
      const s = state.steps;
      if (!s || s.dtype !== 'I32')
        throw new Error(`${source}: missing 'steps' (I32), expected the output of optimizer.state()`);
      steps = (s.data as Int32Array)[0];
      for (const [kind, map] of Object.entries(slots)) {
        for (const v of map.values()) v.dispose();
        map.clear();
        for (const key of Object.keys(state)) {
          if (!key.startsWith(`${kind}/`)) continue;
          const name = key.slice(kind.length + 1);
          const p = params.get(name);
          if (!p) throw new Error(`${source}: '${key}' is for parameter '${name}', which this optimizer does not have`);
          map.set(
            name,
            tf.tidy(() => tf.variable(tf.zeros(p.shape), false)),
          );
        }
        restoreVariables(map, state, `${kind}/`, source);
      }
      adamSteps.clear();
      for (const [key, arr] of Object.entries(state)) {
        if (key.startsWith('step/')) adamSteps.set(key.slice(5), (arr.data as Int32Array)[0]);
      }
    },
    dispose() {
      for (const map of Object.values(slots)) {
        for (const v of map.values()) v.dispose();
        map.clear();
      }
    },
  };
}
