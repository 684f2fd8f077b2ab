// Our SimCLR loop on the batches of tools/reference/dump-simclr-views.ts (same config, same loader seed), with
// the initial weights saved for the PyTorch reference (simclr_reference.py --init): prints one JSON line per
// epoch with every step's loss, so the two loops can be compared step by step at full scale.
//   npx tsx tools/reference/our-simclr-steps.ts OUT_DIR EPOCHS [config overrides...]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '@scan-repro/backend';
import { composeConfig } from '@scan-repro/core';
import { saveModel } from '@scan-repro/models';
import { cosineLr, createOptimizer } from '@scan-repro/train';
import { createPretextContrastiveModel, simclrStep } from '@scan-repro/pretext';
import { pretextBatches, streamSeed } from './pretext-batches';

const [out, epochsArg, ...overrides] = process.argv.slice(2);
const epochs = Number(epochsArg);
const config = composeConfig(['profile=cpu', ...overrides]);
await initBackend({ quiet: false });
mkdirSync(out, { recursive: true });
const p = config.pretext;
const { loader } = await pretextBatches(config);
const model = createPretextContrastiveModel(config, streamSeed(config, 1));
await saveModel(join(out, 'init.safetensors'), model, {});
const optimizer = createOptimizer(p, model.parameters());
const history = [];
for (let e = 0; e < epochs; e++) {
  const lr = cosineLr(e, p.epochs, p.lr, p.lr_min);
  const losses: number[] = [];
  for await (const b of loader.epoch(e))
    losses.push(
      simclrStep(
        model,
        optimizer,
        { view1: b.views[0], view2: b.views[1], shape: b.shape },
        { temperature: p.temperature, microBatch: p.micro_batch, lr },
      ),
    );
  const rec = { epoch: e + 1, lr, mean: losses.reduce((a, b) => a + b, 0) / losses.length, losses };
  history.push(rec);
  console.log(JSON.stringify(rec));
}
writeFileSync(join(out, 'ours.json'), JSON.stringify(history));
await loader.close();
