import type { ScanConfig } from '@scan-repro/core';

/** Clusters per head: scan.num_clusters, or the number of classes when it is 0 (scan, selflabel and eval agree). */
export function numClustersOf(config: ScanConfig): number {
  return config.scan.num_clusters > 0 ? config.scan.num_clusters : config.dataset.num_classes;
}
