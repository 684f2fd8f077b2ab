// Importing this package registers 'cifar10' (aliases 'cifar-10', 'cifar_10').
import { registerDataset } from '@scan-repro/data';
import { CIFAR10_SOURCE, createCifar10Dataset } from './cifar10';

registerDataset('cifar10', (cfg) => createCifar10Dataset(cfg), { source: CIFAR10_SOURCE });
