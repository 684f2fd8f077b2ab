import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@scan-repro/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { ntXentLoss, rotnetLoss } from './losses';

// Made by tools/golden/metrics/make_loss_goldens.py: PyTorch (float64) running the official losses.py
// classes on inputs rounded to 4 decimals. Regenerate with that script; do not edit by hand.
const golden = {
  simclr: {
    b: 5,
    d: 8,
    temperature: 0.1,
    z1: [
      0.6727, 0.3942, -0.8806, -0.7977, 0.0973, -1.4639, 1.1971, -2.6618, -0.043, 0.02, -1.9218, -0.3696, 0.296,
      -0.0847, -0.1917, -0.0817, 1.5934, 0.2166, -0.7196, -0.5659, -1.5543, -0.5379, -0.0808, 0.9767, -0.4287, -0.7038,
      -0.5102, -0.2058, -0.8981, -1.3353, 0.5027, -0.016, -1.3723, -0.4717, 0.1869, -1.1959, -0.5527, -1.0075, -0.5244,
      0.075,
    ],
    z2: [
      0.5249, 2.1263, -0.3219, -0.4561, 1.1055, 0.26, 1.3168, 1.3348, 1.4864, -1.5921, -0.2273, 0.2473, -0.5819, 0.4372,
      -1.342, -0.9214, 0.4843, 0.538, 0.5835, 1.1514, -0.9793, 0.1416, -2.2611, 0.9674, -0.9632, -0.2633, -0.3336,
      -0.3885, 1.8371, 1.25, -0.1707, 1.4583, -0.0359, 0.333, 1.2539, -2.3458, -0.573, 0.2595, 0.8413, -0.4188,
    ],
    loss: 4.449762893098702,
    gradZ1: [
      -0.21862761780526085, -0.5231332744023568, -0.28401568691350687, -0.04105806822252495, -0.3380943712542469,
      -0.17923163582785834, -0.2575420247474822, -0.05607357758273088, -0.32887450471798013, 0.5911258893746042,
      0.028295276413494164, -0.3018325902540741, 0.06537568087571093, -0.5215811481073297, 0.7515466760515958,
      0.03183857554012613, -0.09597602651090746, -0.2529664056679296, -0.370100981692327, -0.2991286556309969,
      0.05283144936607616, -0.23164332051138237, 0.4453172668548411, -0.23997566676434462, 0.06780408172761376,
      0.5237153995489685, 0.3180373251562997, -0.8517826599580107, -0.4003387938059042, -0.2586781903384787,
      -0.6613559923422588, -0.7581674368111848, 0.04993267982360183, -0.5069972921255598, -0.8182985797555853,
      0.7822660333536853, -0.39363683921658016, -0.8471469461959329, 0.30227465123853015, 0.07030860603162624,
    ],
    gradZ2: [
      -0.10555860204196266, -0.08856180155372861, 0.10876760704929826, 0.13071067060061609, -0.04149265890657297,
      0.2474439463222213, -0.23023197542045815, 0.4667742523499607, 0.09699274218362307, -0.00282496793931933,
      0.6154632883495406, 0.0970968255283022, -0.17476028926927786, -0.0012104338476471477, 0.06089008615266615,
      0.05669003470799836, -0.26915564036718853, -0.01421711645393365, 0.1584810951392609, 0.15782831686059925,
      0.23791744082819427, 0.10479071031722428, -0.09307269411337579, -0.1328187318613081, 0.26133395670237314,
      0.28067736346292776, 0.11557931385721643, 0.09759255728850058, 0.11879996700571324, 0.32132645587155134,
      -0.16856645158135264, -0.16909318933395548, 0.40334779902135165, 0.16445841976070805, 0.004004506623554421,
      0.1290541380615407, 0.09773417407246236, 0.24117553510125017, 0.23759023690714626, -0.12168443765234524,
    ],
  },
  rotnet: {
    logits: [
      -0.5386, -0.5465, -1.6236, 0.2526, -1.0799, 0.7478, 0.4292, -0.5125, -0.9013, -0.4502, -0.5467, -0.0792, -1.333,
      -0.4833, 1.6487, -1.116, -0.1795, -1.4825, 0.7994, -0.1233, 1.2313, -2.404, 0.6412, -0.2473, -1.2427, 0.0828,
      -1.7603, -0.9131, -0.1755, -1.6521, 0.7286, 0.5283,
    ],
    labels: [0, 1, 2, 3, 0, 1, 2, 3],
    loss: 2.00564900460546,
    grad: [
      -0.0974431363994182, 0.02734002203009631, 0.009311513424293602, 0.06079160094502831, 0.009255214872103467,
      -0.06743658770730951, 0.041858176852730015, 0.016323195982476016, 0.0199332746505741, 0.03129600420870526,
      -0.0965829184231722, 0.04535363956389285, 0.0051434818361782726, 0.012030321448099974, 0.10143622239209295,
      -0.1186100256763712, -0.09995517777613913, 0.006805064460070835, 0.0666574693435409, 0.026492643972527406,
      0.06911406082217134, -0.12317704612222385, 0.03830797868311521, 0.01575500661693731, 0.018517344707112575,
      0.06970052462178127, -0.11396460488602855, 0.025746735557134713, 0.021854901800199316, 0.004991943111473203,
      0.05397522986179572, -0.08082207477346823,
    ],
  },
};

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

// Both backends a run may use without native TensorFlow: the wasm one lacks some gradient kernels.
describe.each(['cpu', 'wasm'] as const)('on the %s backend', (backend) => {
  beforeAll(async () => {
    await initBackend({ name: backend, quiet: true });
  });

  describe('ntXentLoss', () => {
    it('matches the official PyTorch SimCLRLoss value and gradients', () => {
      const g = golden.simclr;
      const z1 = tf.tensor2d(g.z1, [g.b, g.d]);
      const z2 = tf.tensor2d(g.z2, [g.b, g.d]);
      expect(Math.abs(ntXentLoss(z1, z2, g.temperature).dataSync()[0] - g.loss)).toBeLessThan(5e-6);
      const [g1, g2] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        ntXentLoss(a as tf.Tensor2D, b as tf.Tensor2D, g.temperature),
      )([z1, z2]);
      expect(maxAbsDiff(g1.dataSync(), g.gradZ1)).toBeLessThan(1e-6);
      expect(maxAbsDiff(g2.dataSync(), g.gradZ2)).toBeLessThan(1e-6);
    });

    it('equals a hand computation on 2 pairs of 2-d vectors', () => {
      // z1 = [e1, e2], z2 = [e1, e1]; τ = 0.5. Anchor 0: sims to [z1_0, z1_1, z2_0, z2_1] = [1, 0, 1, 1] (self excluded)
      // anchor 1: sims = [0, 1, 0, 0].
      const tau = 0.5;
      const l0 = -(1 / tau) + Math.log(Math.exp(0) + Math.exp(1 / tau) + Math.exp(1 / tau));
      const l1 = -(0 / tau) + Math.log(Math.exp(0) + Math.exp(0) + Math.exp(0));
      const loss = ntXentLoss(
        tf.tensor2d([
          [3, 0],
          [0, 2],
        ]),
        tf.tensor2d([
          [1, 0],
          [5, 0],
        ]),
        tau,
      );
      expect(loss.dataSync()[0]).toBeCloseTo((l0 + l1) / 2, 5);
    });
  });

  describe('rotnetLoss', () => {
    it('matches torch cross_entropy and its gradient', () => {
      const g = golden.rotnet;
      const logits = tf.tensor2d(g.logits, [g.labels.length, 4]);
      expect(Math.abs(rotnetLoss(logits, g.labels).dataSync()[0] - g.loss)).toBeLessThan(5e-6);
      const grad = tf.grad((x: tf.Tensor) => rotnetLoss(x as tf.Tensor2D, g.labels))(logits);
      expect(maxAbsDiff(grad.dataSync(), g.grad)).toBeLessThan(1e-6);
    });

    it('is log 4 for uniform logits and rejects a label outside 0..3', () => {
      expect(rotnetLoss(tf.zeros([3, 4]), [0, 1, 3]).dataSync()[0]).toBeCloseTo(Math.log(4), 6);
      expect(() => rotnetLoss(tf.zeros([2, 4]), [0, 4])).toThrow(/rotations\[1\] = 4/);
    });
  });
});
