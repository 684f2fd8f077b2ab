"""The official SCAN SimCLR loop (simclr.py of wvangansbeke/Unsupervised-Classification) at a given budget, on the
CIFAR-10 subset our pretext stage uses, for side-by-side learning curves with ours (issue: training parity).

Two data sources, so the model/optimiser and the augmentations can be told apart:
  --views DIR   train on the exact batches our loader produced (tools/reference/dump-simclr-views.ts)
  (default)     train on torchvision's official SimCLR transforms over the same images (DIR/meta.json for indices)

Prints one line per epoch: first-batch loss (what the official code prints), epoch-mean loss, lr; the weighted kNN
monitor (bank: train subset, val transform; queries: test subset) every --knn-every epochs and at the end.
  .venv-tools/bin/python tools/reference/simclr_reference.py --meta DIR [--views DIR] --epochs 8 --out result.json
"""
import argparse
import io
import json
import math
import os
import sys
import tarfile
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'golden', 'models'))
sys.path.insert(0, os.path.join(HERE, '..', 'golden', 'metrics'))
from official_losses import SimCLRLoss  # noqa: E402
from reference_models import ContrastiveModel, ResNet18Scan  # noqa: E402


def read_cifar(tar_path):
    train, train_y, test, test_y = [], [], [], []
    with tarfile.open(tar_path, 'r:gz') as tar:
        for m in tar.getmembers():
            name = os.path.basename(m.name)
            if not name.endswith('.bin') or 'batch' not in name:
                continue
            raw = np.frombuffer(tar.extractfile(m).read(), dtype=np.uint8).reshape(-1, 3073)
            (test if name.startswith('test') else train).append((name, raw))
    def stack(parts):
        parts.sort(key=lambda p: p[0])
        raw = np.concatenate([p[1] for p in parts])
        return raw[:, 1:].reshape(-1, 3, 32, 32), raw[:, 0].astype(np.int64)
    return stack(train), stack(test)


def read_safetensors(path):
    raw = open(path, 'rb').read()
    n = int.from_bytes(raw[:8], 'little')
    header = json.loads(raw[8:8 + n])
    types = {'F32': np.float32, 'I64': np.int64, 'I32': np.int32, 'F64': np.float64}
    out = {}
    for k, v in header.items():
        if k == '__metadata__':
            continue
        b, e = v['data_offsets']
        out[k] = torch.from_numpy(np.frombuffer(raw[8 + n + b:8 + n + e], dtype=types[v['dtype']]).reshape(v['shape']).copy())
    return out


def cosine(epoch, epochs, lr, lr_min):
    return lr_min + (lr - lr_min) * (1 + math.cos(math.pi * epoch / epochs)) / 2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--meta', required=True, help='folder with meta.json from dump-simclr-views.ts')
    ap.add_argument('--views', help='train on the dumped views in this folder')
    ap.add_argument('--data', default=os.path.join(HERE, '..', '..', '..', 'shared', 'data', 'cifar-10-binary.tar.gz'))
    ap.add_argument('--epochs', type=int, default=40)
    ap.add_argument('--schedule-epochs', type=int, default=40, help='epochs of the cosine schedule')
    ap.add_argument('--batch', type=int, default=256)
    ap.add_argument('--width', type=int, default=16)
    ap.add_argument('--lr', type=float, default=0.2)
    ap.add_argument('--lr-min', type=float, default=0.2 * 0.1 ** 3)
    ap.add_argument('--warmup-epochs', type=float, default=0, help='linear warmup per step (as pretext.warmup_epochs)')
    ap.add_argument('--temperature', type=float, default=0.1)
    ap.add_argument('--knn-k', type=int, default=50)
    ap.add_argument('--knn-every', type=int, default=0)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--init', help='initial weights (safetensors with PyTorch names, e.g. from our-simclr-steps.ts)')
    ap.add_argument('--max-steps', type=int, default=0, help='stop after this many steps (0: all)')
    ap.add_argument('--out')
    ap.add_argument('--save', help='write the final state dict here (torch.save), e.g. for view_loss_probe.py')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    meta = json.load(open(os.path.join(a.meta, 'meta.json')))
    (train_x, train_y), (test_x, test_y) = read_cifar(a.data)
    tr = np.array(meta['train_indices']); va = np.array(meta['val_indices'])
    bank_x, bank_y, query_x, query_y = train_x[tr], train_y[tr], test_x[va], test_y[va]
    mean = torch.tensor(meta['mean']).view(1, 3, 1, 1); std = torch.tensor(meta['std']).view(1, 3, 1, 1)

    bdim = 8 * a.width
    model = ContrastiveModel(ResNet18Scan('cifar', a.width), bdim, bdim, 128)
    if a.init:
        model.load_state_dict(read_safetensors(a.init), strict=True)
    criterion = SimCLRLoss(a.temperature)
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=0.9, weight_decay=1e-4, nesterov=False)

    if a.views:
        steps = meta['steps_per_epoch']; n = meta['batch']; per = n * 2 * 3 * 32 * 32
        views = np.memmap(os.path.join(a.views, 'views.u8'), dtype=np.uint8, mode='r')
        assert views.size >= a.epochs * steps * per, f'{a.views} holds {views.size // (steps * per)} epochs, asked for {a.epochs}'
        def batches(epoch):
            for s in range(steps):
                off = (epoch * steps + s) * per
                u8 = torch.from_numpy(np.array(views[off:off + per])).view(n, 2, 3, 32, 32)
                yield (u8.float() / 255 - mean.unsqueeze(1)) / std.unsqueeze(1)
    else:
        import torchvision.transforms as T
        from PIL import Image
        tf = T.Compose([T.RandomResizedCrop(32, scale=(0.2, 1.0)), T.RandomHorizontalFlip(),
                        T.RandomApply([T.ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8), T.RandomGrayscale(0.2),
                        T.ToTensor(), T.Normalize(meta['mean'], meta['std'])])
        images = [Image.fromarray(np.ascontiguousarray(x.transpose(1, 2, 0))) for x in bank_x]
        class Views(torch.utils.data.Dataset):
            def __len__(self): return len(images)
            def __getitem__(self, i): return torch.stack([tf(images[i]), tf(images[i])])
        g = torch.Generator().manual_seed(a.seed)
        dl = torch.utils.data.DataLoader(Views(), batch_size=a.batch, shuffle=True, drop_last=True, num_workers=0, generator=g)
        batches = lambda epoch: iter(dl)

    def features(x_u8):
        model.eval()
        out = []
        with torch.no_grad():
            for s in range(0, len(x_u8), 500):
                x = (torch.from_numpy(x_u8[s:s + 500]).float() / 255 - mean) / std
                out.append(model(x))
        model.train()
        return torch.cat(out)

    def knn():
        bank, q = features(bank_x), features(query_x)
        sim = q @ bank.t()
        yd, yi = sim.topk(a.knn_k, dim=1)
        votes = torch.zeros(len(q), 10).scatter_add_(1, torch.from_numpy(bank_y)[yi], (yd / 0.1).exp())
        return float((votes.argmax(1).numpy() == query_y).mean())

    steps_per_epoch = len(bank_x) // a.batch
    history = []
    model.train()
    t0 = time.time()
    for epoch in range(a.epochs):
        lr = cosine(epoch, a.schedule_epochs, a.lr, a.lr_min)
        for group in opt.param_groups:
            group['lr'] = lr
        losses = []
        for views_b in batches(epoch):
            b = views_b.shape[0]
            x = views_b.reshape(-1, 3, 32, 32)
            step = epoch * steps_per_epoch + len(losses)
            warm = round(a.warmup_epochs * steps_per_epoch)
            for group in opt.param_groups:
                group['lr'] = lr * ((step + 1) / warm if step < warm else 1)
            loss = criterion(model(x).view(b, 2, -1))
            opt.zero_grad(); loss.backward(); opt.step()
            losses.append(loss.item())
            if a.max_steps and len(losses) >= a.max_steps:
                break
        rec = {'epoch': epoch + 1, 'losses': losses, 'first': losses[0], 'mean': float(np.mean(losses)), 'lr': lr, 'seconds': time.time() - t0}
        if (a.knn_every and (epoch + 1) % a.knn_every == 0) or epoch + 1 == a.epochs:
            rec['knn'] = knn()
        history.append(rec)
        print(json.dumps(rec), flush=True)
    if a.save:
        torch.save(model.state_dict(), a.save)
    if a.out:
        json.dump({'args': vars(a), 'history': history}, open(a.out, 'w'), indent=1)


if __name__ == '__main__':
    main()
