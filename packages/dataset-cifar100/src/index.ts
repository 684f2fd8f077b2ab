// Importing this package registers 'cifar100' and 'cifar20' (CIFAR-100-20; alias 'cifar100-20').
import { registerDataset } from '@scan-repro/data';
import { CIFAR100_SOURCE, createCifar100Dataset, createCifar20Dataset } from './cifar100';

export { CIFAR100_RECORD_BYTES, CIFAR100_SOURCE, createCifar100Dataset, createCifar20Dataset, type Cifar100Options } from './cifar100';
export { CIFAR100_COARSE_FILE_NAMES, CIFAR100_FINE_CLASSES, CIFAR20_CLASSES, FINE_TO_COARSE } from './labels';

registerDataset('cifar100', (cfg) => createCifar100Dataset(cfg), { source: CIFAR100_SOURCE });
registerDataset('cifar20', (cfg) => createCifar20Dataset(cfg), { source: CIFAR100_SOURCE, aliases: ['cifar100-20'] });
