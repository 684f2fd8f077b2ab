// Importing this package registers 'cifar100' and 'cifar20' (CIFAR-100-20; alias 'cifar100-20').
import { registerDataset } from '@scan-repro/data';
import { CIFAR100_SOURCE, createCifar100Dataset, createCifar20Dataset } from './cifar100';

registerDataset('cifar100', (cfg) => createCifar100Dataset(cfg), { source: CIFAR100_SOURCE });
registerDataset('cifar20', (cfg) => createCifar20Dataset(cfg), { source: CIFAR100_SOURCE, aliases: ['cifar100-20'] });
