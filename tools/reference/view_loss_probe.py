"""Are our SimCLR views harder than torchvision's? One trained model, no updates: the NT-Xent loss (train-mode
BatchNorm, as in training) on batches of our dumped views against batches of torchvision's views of the same
5,000 images. Equal pipelines give equal losses up to batch noise (the printed standard errors).

  python tools/reference/view_loss_probe.py --meta DIR --views DIR --model STATE.pt [--view-epochs 10 20]
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from simclr_reference import ContrastiveModel, ResNet18Scan, SimCLRLoss, read_cifar  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--meta', required=True)
    ap.add_argument('--views', required=True)
    ap.add_argument('--model', required=True)
    ap.add_argument('--view-epochs', type=int, nargs=2, default=[10, 20], help='dumped epochs [from, to) to use')
    ap.add_argument('--data', default=os.path.join(HERE, '..', '..', '..', 'shared', 'data', 'cifar-10-binary.tar.gz'))
    ap.add_argument('--width', type=int, default=16)
    ap.add_argument('--temperature', type=float, default=0.1)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    import torchvision.transforms as T
    from PIL import Image

    meta = json.load(open(os.path.join(a.meta, 'meta.json')))
    (train_x, _), _ = read_cifar(a.data)
    bank_x = train_x[np.array(meta['train_indices'])]
    mean = torch.tensor(meta['mean']).view(1, 1, 3, 1, 1); std = torch.tensor(meta['std']).view(1, 1, 3, 1, 1)
    bdim = 8 * a.width
    model = ContrastiveModel(ResNet18Scan('cifar', a.width), bdim, bdim, 128)
    model.load_state_dict(torch.load(a.model))
    model.train()
    criterion = SimCLRLoss(a.temperature)
    n, steps = meta['batch'], meta['steps_per_epoch']
    per = n * 2 * 3 * 32 * 32
    views = np.memmap(os.path.join(a.views, 'views.u8'), dtype=np.uint8, mode='r')

    def loss_of(u8):
        x = (torch.from_numpy(u8).float().view(n, 2, 3, 32, 32) / 255 - mean) / std
        with torch.no_grad():
            return float(criterion(model(x.reshape(-1, 3, 32, 32)).view(n, 2, -1)))

    ours = [loss_of(np.array(views[(e * steps + s) * per:(e * steps + s + 1) * per]))
            for e in range(*a.view_epochs) for s in range(steps)]
    tf = T.Compose([T.RandomResizedCrop(32, scale=(0.2, 1.0)), T.RandomHorizontalFlip(),
                    T.RandomApply([T.ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8), T.RandomGrayscale(0.2), T.PILToTensor()])
    images = [Image.fromarray(np.ascontiguousarray(x.transpose(1, 2, 0))) for x in bank_x]
    tv = []
    for _ in range(len(ours)):
        pick = np.random.choice(len(images), n, replace=False)
        tv.append(loss_of(np.stack([np.stack([tf(images[i]).numpy(), tf(images[i]).numpy()]) for i in pick])))
    for name, xs in (('ours', ours), ('torchvision', tv)):
        print(f'{name:12s} {len(xs)} batches: loss {np.mean(xs):.4f} ± {np.std(xs) / np.sqrt(len(xs)):.4f} (SE)')
    print(json.dumps({'ours': ours, 'torchvision': tv}))


if __name__ == '__main__':
    main()
