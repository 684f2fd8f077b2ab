"""Distribution of torchvision's random SimCLR decisions (official config: RandomResizedCrop(32, scale=(0.2, 1)),
flip 0.5, RandomApply(ColorJitter(0.4, 0.4, 0.4, 0.1), p=0.8), RandomGrayscale(0.2)) on a 32x32 image, from many
draws of the transforms' own get_params. packages/augment/test/distribution.test.ts compares our sampler with it.

Run from the repo root:
  .venv-tools/bin/python tools/golden/augment/make_simclr_distribution_goldens.py
"""
import json
import os

import numpy as np
import torch
import torchvision.transforms as T
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'packages', 'augment', 'test', '__goldens__', 'simclr-distribution.json')
DRAWS = 200_000
QUANTILES = [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95]


def main():
    torch.manual_seed(2020)
    img = Image.new('RGB', (32, 32))
    rrc = T.RandomResizedCrop(32, scale=(0.2, 1.0))
    boxes = np.array([rrc.get_params(img, rrc.scale, rrc.ratio) for _ in range(DRAWS)], dtype=np.float64)
    area = boxes[:, 2] * boxes[:, 3] / 1024
    aspect = np.log(boxes[:, 3] / boxes[:, 2])
    cj = T.ColorJitter(0.4, 0.4, 0.4, 0.1)
    draws = [cj.get_params(cj.brightness, cj.contrast, cj.saturation, cj.hue) for _ in range(DRAWS // 10)]
    first_op = np.bincount([int(d[0][0]) for d in draws], minlength=4) / len(draws)
    out = {
        'draws': DRAWS,
        'quantiles': QUANTILES,
        'area': np.quantile(area, QUANTILES).tolist(),
        'logAspect': np.quantile(aspect, QUANTILES).tolist(),
        'top': float(boxes[:, 0].mean()),
        'left': float(boxes[:, 1].mean()),
        'brightness': [cj.brightness[0], cj.brightness[1]],
        'hue': [cj.hue[0], cj.hue[1]],
        'firstOp': first_op.tolist(),
        'flipP': 0.5, 'jitterP': 0.8, 'grayscaleP': 0.2,
    }
    with open(OUT, 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')
    print(json.dumps(out))


if __name__ == '__main__':
    main()
