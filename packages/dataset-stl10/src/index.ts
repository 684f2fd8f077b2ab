// Importing this package registers 'stl10' (alias 'stl-10').
import { registerDataset } from '@scan-repro/data';
import { STL10_SOURCE, createStl10Dataset } from './stl10';

registerDataset('stl10', (cfg) => createStl10Dataset(cfg), { source: STL10_SOURCE });
