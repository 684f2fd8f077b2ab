// The SCAN stage's output model: the backbone and only the best head, so selflabel and eval load a one-head model.
import type * as tf from '@tensorflow/tfjs-core';
import type { ClusteringModel, NamedModule } from '@scan-repro/models';

/** backbone.* plus one head renamed cluster_head.0.*: what the SCAN stage writes. */
export function singleHeadModule(model: ClusteringModel, head: number): NamedModule {
  return {
    parameters: () => {
      const out = new Map<string, tf.Variable>();
      for (const [k, v] of model.parameters()) if (k.startsWith('backbone.')) out.set(k, v);
      for (const [k, v] of model.clusterHeads[head].parameters()) out.set(`cluster_head.0.${k}`, v);
      return out;
    },
    buffers: () => model.buffers(),
  };
}
