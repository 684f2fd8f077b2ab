import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@scan-repro/backend';
import { expect, it } from 'vitest';
import { createOptimizer, type OptimizerConfig } from '../src/optimizer';
import { describeOnBackends, maxAbsDiff } from '@scan-repro/test-utils';

// Made by tools/golden/train/make_optimizer_goldens.py (torch.optim.SGD / Adam on fixed gradients).
interface GoldenCase {
  name: string;
  config: OptimizerConfig;
  lrs: number[];
  init: Record<string, number[]>;
  grads: Record<string, number[] | null>[];
  after: Record<string, number[]>[];
}
const goldens = JSON.parse(readFileSync(new URL('./fixtures/optimizer-goldens.json', import.meta.url), 'utf8')) as {
  shapes: Record<string, number[]>;
  cases: GoldenCase[];
};

describeOnBackends('optimizers on the %s backend', initBackend, () => {
  it.each(goldens.cases.map((c) => [c.name, c] as const))('%s matches torch.optim step by step', (_name, c) => {
    const params = new Map(Object.entries(c.init).map(([k, v]) => [k, tf.variable(tf.tensor(v, goldens.shapes[k]))]));
    const opt = createOptimizer(c.config, params);
    for (let t = 0; t < c.lrs.length; t++) {
      const grads: Record<string, tf.Tensor> = {};
      for (const [k, g] of Object.entries(c.grads[t])) if (g) grads[k] = tf.tensor(g, goldens.shapes[k]);
      opt.step(grads, c.lrs[t]);
      tf.dispose(Object.values(grads));
      for (const [k, p] of params) {
        const expected = c.after[t][k];
        // float32 arithmetic on both sides; Adam's first steps move every weight by ~lr, so 1e-6 absolute
        // is far below any rule difference (a missing bias correction or decay shows up at 1e-3..1e-1).
        expect(maxAbsDiff(p.dataSync(), expected), `${k} after step ${t + 1}`).toBeLessThan(2e-6);
      }
    }
    expect(opt.steps).toBe(c.lrs.length);
    opt.dispose();
    for (const p of params.values()) p.dispose();
  });

  it('accepts gradients keyed by tf variable name (what tf.variableGrads returns)', () => {
    const w = tf.variable(tf.tensor1d([1, 2]));
    const opt = createOptimizer(
      { optimizer: 'sgd', lr: 0.5, momentum: 0, nesterov: false, weight_decay: 0 },
      new Map([['w', w]]),
    );
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(w)) as tf.Scalar, [w]);
    opt.step(grads);
    expect(Array.from(w.dataSync())).toEqual([0, 0]); // w - 0.5 * 2w
    tf.dispose(Object.values(grads));
    opt.dispose();
    w.dispose();
  });

  it('state/loadState continues exactly like an uninterrupted optimizer', () => {
    for (const c of goldens.cases) {
      const make = () =>
        new Map(Object.entries(c.init).map(([k, v]) => [k, tf.variable(tf.tensor(v, goldens.shapes[k]))]));
      const gradsAt = (t: number) => {
        const g: Record<string, tf.Tensor> = {};
        for (const [k, v] of Object.entries(c.grads[t])) if (v) g[k] = tf.tensor(v, goldens.shapes[k]);
        return g;
      };
      const pa = make();
      const a = createOptimizer(c.config, pa);
      for (let t = 0; t < 3; t++) {
        const g = gradsAt(t);
        a.step(g, c.lrs[t]);
        tf.dispose(Object.values(g));
      }
      const saved = a.state();
      const weights = new Map([...pa].map(([k, v]) => [k, Array.from(v.dataSync())]));
      a.dispose();
      const pb = make();
      for (const [k, v] of pb) v.assign(tf.tensor(weights.get(k)!, v.shape));
      const b = createOptimizer(c.config, pb);
      b.loadState(saved);
      for (let t = 3; t < c.lrs.length; t++) {
        const g = gradsAt(t);
        b.step(g, c.lrs[t]);
        tf.dispose(Object.values(g));
      }
      for (const [k, p] of pb)
        expect(maxAbsDiff(p.dataSync(), c.after[c.lrs.length - 1][k]), `${c.name} ${k}`).toBeLessThan(2e-6);
      b.dispose();
      for (const v of [...pa.values(), ...pb.values()]) v.dispose();
    }
  });

  it('rejects bad settings and unknown gradients with a clear message', () => {
    const w = tf.variable(tf.zeros([2]));
    expect(() =>
      createOptimizer({ optimizer: 'sgd', lr: -1, momentum: 0, nesterov: false, weight_decay: 0 }, new Map([['w', w]])),
    ).toThrow(/lr = -1/);
    expect(() =>
      createOptimizer({ optimizer: 'sgd', lr: 1, momentum: 0, nesterov: true, weight_decay: 0 }, new Map([['w', w]])),
    ).toThrow(/nesterov/);
    const opt = createOptimizer(
      { optimizer: 'adam', lr: 1, momentum: 0, nesterov: false, weight_decay: 0 },
      new Map([['w', w]]),
    );
    const g = tf.zeros([2]);
    expect(() => opt.step({ nope: g })).toThrow(/'nope' matches no parameter/);
    g.dispose();
    opt.dispose();
    w.dispose();
  });
});
