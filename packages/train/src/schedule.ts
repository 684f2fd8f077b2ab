// Learning-rate schedules of the official code (utils/common_config.py adjust_learning_rate), applied once per
// epoch before it starts.

/**
 * Cosine annealing per epoch (0-based): lrMin + (lr - lrMin) * (1 + cos(pi * epoch / epochs)) / 2.
 * The official code sets eta_min = lr * lr_decay_rate^3 (= lr * 0.1^3); our configs give it as lr_min.
 */
export function cosineLr(epoch: number, epochs: number, lr: number, lrMin: number): number {
  if (!(epochs > 0)) throw new Error(`cosineLr: epochs = ${epochs}, expected > 0`);
  if (!(epoch >= 0)) throw new Error(`cosineLr: epoch = ${epoch}, expected >= 0`);
  return lrMin + ((lr - lrMin) * (1 + Math.cos((Math.PI * epoch) / epochs))) / 2;
}

/**
 * Linear warmup factor of optimizer step `step` (0-based, counted over the whole run): (step + 1) / warmupSteps
 * for the first warmupSteps steps, then 1. It multiplies the epoch's cosine value, as in the SimCLR paper
 * (Chen et al. 2020: linear warmup, then cosine decay without restarts).
 */
export function warmupFactor(step: number, warmupSteps: number): number {
  if (!(step >= 0)) throw new Error(`warmupFactor: step = ${step}, expected >= 0`);
  return warmupSteps > 0 && step < warmupSteps ? (step + 1) / warmupSteps : 1;
}
