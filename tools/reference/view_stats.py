"""Our dumped SimCLR views against torchvision's views of the same images, feature by feature (per-view mean,
std, saturation, grayscale, clipped pixels, horizontal and vertical gradients, the two views' pixel cosine
similarity): the difference of means in standard errors. Equal pipelines stay within about 2.

  python tools/reference/view_stats.py --meta DIR --views DIR [--rounds 6]
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from simclr_reference import read_cifar  # noqa: E402


def features(v):
    v = v.astype(np.float32)
    a = v[:, 0].reshape(len(v), -1); b = v[:, 1].reshape(len(v), -1)
    a = a - a.mean(1, keepdims=True); b = b - b.mean(1, keepdims=True)
    return {
        'mean': v.mean(axis=(2, 3, 4)),
        'std': v.std(axis=(2, 3, 4)),
        'saturation': (v.max(axis=2) - v.min(axis=2)).mean(axis=(2, 3)),
        'grayscale': ((v[:, :, 0] == v[:, :, 1]) & (v[:, :, 1] == v[:, :, 2])).all(axis=(2, 3)).astype(np.float32),
        'clip255': (v == 255).mean(axis=(2, 3, 4)),
        'clip0': (v == 0).mean(axis=(2, 3, 4)),
        'dx': np.abs(np.diff(v, axis=4)).mean(axis=(2, 3, 4)),
        'dy': np.abs(np.diff(v, axis=3)).mean(axis=(2, 3, 4)),
        'top-bottom': v[..., :8, :].mean(axis=(2, 3, 4)) - v[..., -8:, :].mean(axis=(2, 3, 4)),
        'pair_cosine': (a * b).sum(1) / np.sqrt((a * a).sum(1) * (b * b).sum(1) + 1e-9),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--meta', required=True)
    ap.add_argument('--views', required=True)
    ap.add_argument('--rounds', type=int, default=6, help='torchvision views per image (pairs)')
    ap.add_argument('--data', default=os.path.join(HERE, '..', '..', '..', 'shared', 'data', 'cifar-10-binary.tar.gz'))
    a = ap.parse_args()
    import torchvision.transforms as T
    from PIL import Image
    torch.manual_seed(1)
    meta = json.load(open(os.path.join(a.meta, 'meta.json')))
    ours = np.memmap(os.path.join(a.views, 'views.u8'), dtype=np.uint8, mode='r').reshape(-1, 2, 3, 32, 32)
    (train_x, _), _ = read_cifar(a.data)
    tf = T.Compose([T.RandomResizedCrop(32, scale=(0.2, 1.0)), T.RandomHorizontalFlip(),
                    T.RandomApply([T.ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8), T.RandomGrayscale(0.2), T.PILToTensor()])
    images = [Image.fromarray(np.ascontiguousarray(x.transpose(1, 2, 0))) for x in train_x[np.array(meta['train_indices'])]]
    tv = np.stack([np.stack([tf(im).numpy(), tf(im).numpy()]) for _ in range(a.rounds) for im in images])
    fo, ft = features(np.asarray(ours)), features(tv)
    print(f'ours {len(ours)} pairs, torchvision {len(tv)} pairs')
    for k in fo:
        x, y = fo[k].ravel(), ft[k].ravel()
        se = np.sqrt(x.var() / len(x) + y.var() / len(y))
        print(f'{k:12s} ours {x.mean():10.4f}  torchvision {y.mean():10.4f}  difference / SE {(x.mean() - y.mean()) / se:6.2f}')


if __name__ == '__main__':
    main()
