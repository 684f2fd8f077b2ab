"""Step-level training parity goldens: N optimizer steps of the official training loops in PyTorch, from fixed
initial weights on fixed (already augmented) batches, with per-step losses and the final weights and BN buffers.

Run from the repo root:
  .venv-tools/bin/python tools/golden/train/make_training_goldens.py
writes test/goldens/{simclr,selflabel,scan,moco}-steps.json (read by test/training-parity.test.ts).

The loops follow the official code (simclr.py / selflabel.py of wvangansbeke/Unsupervised-Classification):
- SimCLR: model(cat(view1, view2)) in train mode (BN statistics over all 2B views), SimCLRLoss (anchors = view 1),
  SGD(momentum 0.9, weight decay 1e-4 on every parameter) with the cosine schedule set once per epoch.
- SCAN (scan.py scan_train): anchors and neighbours through the model separately in train mode, SCANLoss per
  head (consistency - entropy_weight * entropy of the mean prediction), the heads' totals summed, Adam.
- MoCo v2 (moco/builder.py of facebookresearch/moco, one device): keys of view 2 from the momentum encoder with
  shuffle-BN emulated as packages/pretext/src/moco.ts does it (the batch permuted, the keys computed in chunks of
  ceil(B/2) in train mode, unpermuted; the permutation of every step is stored in the golden), InfoNCE of the
  queries (view 1, also in chunks of ceil(B/2), gradients size-weighted) against the key and the queue, SGD, then
  the momentum update and the enqueue. The official loop updates the key encoder at the start of the next
  forward instead of at the end of this step: the same key encoder meets every batch; only the state after the
  last step differs (ours has made one more momentum update), and the golden holds ours.
- Self-labeling: pseudo-labels from the weak view under no_grad but in train mode (BN statistics and running
  averages update), ConfidenceBasedCE with class balancing on the strong view, Adam(weight decay 1e-4).
The model is the repo's reference ResNet-18 (CIFAR variant, tools/golden/models) at width 4 with one block per
stage on 8x8 inputs, to keep the files small. The reference runs in float64 from the float32 initial values, so
the goldens are the exact result of the update rules; 'torch_f32_err' records how far PyTorch's own float32 run
ends from them (the tests allow a multiple of it: 20 steps amplify rounding).
"""
import base64
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, '..', '..', '..')
sys.path.insert(0, os.path.join(HERE, '..', 'models'))
sys.path.insert(0, os.path.join(HERE, '..', 'metrics'))
from official_losses import ConfidenceBasedCE, SCANLoss, SimCLRLoss  # noqa: E402
from reference_models import ClusteringModel, ContrastiveModel, ResNet18Scan  # noqa: E402

WIDTH, BLOCKS, SIZE = 4, (1, 1, 1, 1), 8
STEPS, STEPS_PER_EPOCH, POOL = 20, 5, 4  # POOL distinct batches, cycled


def enc(t):
    a = np.ascontiguousarray(t.detach().cpu().numpy().astype('<f4') if torch.is_tensor(t) else np.asarray(t, dtype='<f4'))
    return {'shape': list(a.shape), 'data': base64.b64encode(a.tobytes()).decode('ascii')}


def enc_state(sd):
    out = {}
    for k, v in sd.items():
        if k.endswith('num_batches_tracked'):
            out[k] = {'shape': [], 'int': int(v)}
        else:
            out[k] = enc(v.float())
    return out


def cosine(epoch, epochs, lr, lr_min):
    return lr_min + (lr - lr_min) * (1 + math.cos(math.pi * epoch / epochs)) / 2


def simclr_case(dtype):
    cfg = dict(width=WIDTH, blocks=list(BLOCKS), size=SIZE, batch=8, hidden=8 * WIDTH, out=16, temperature=0.1,
               lr=0.2, lr_min=0.2 * 0.1 ** 3, momentum=0.9, weight_decay=1e-4, steps=STEPS, steps_per_epoch=STEPS_PER_EPOCH,
               epochs=STEPS // STEPS_PER_EPOCH)
    torch.manual_seed(14)
    model = ContrastiveModel(ResNet18Scan('cifar', WIDTH, BLOCKS), 8 * WIDTH, cfg['hidden'], cfg['out'])
    init = {k: v.clone() for k, v in model.state_dict().items()}
    g = torch.Generator().manual_seed(15)
    batches = [torch.randn(2, cfg['batch'], 3, SIZE, SIZE, generator=g).float() for _ in range(POOL)]
    model = model.to(dtype).train()
    criterion = SimCLRLoss(cfg['temperature'])
    opt = torch.optim.SGD(model.parameters(), lr=cfg['lr'], momentum=cfg['momentum'], weight_decay=cfg['weight_decay'], nesterov=False)
    losses = []
    for step in range(STEPS):
        if step % STEPS_PER_EPOCH == 0:
            for group in opt.param_groups:
                group['lr'] = cosine(step // STEPS_PER_EPOCH, cfg['epochs'], cfg['lr'], cfg['lr_min'])
        views = batches[step % POOL].to(dtype)
        b = views.shape[1]
        # simclr_train: images and augmented images interleaved, one forward over the 2B views
        x = torch.stack([views[0], views[1]], dim=1).reshape(-1, 3, SIZE, SIZE)
        loss = criterion(model(x).view(b, 2, -1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return cfg, init, batches, losses, model.state_dict()


def selflabel_case(dtype):
    cfg = dict(width=WIDTH, blocks=list(BLOCKS), size=SIZE, batch=16, num_clusters=3, threshold=0.5, class_balance=True,
               lr=1e-3, weight_decay=1e-4, steps=STEPS)
    torch.manual_seed(16)
    model = ClusteringModel(ResNet18Scan('cifar', WIDTH, BLOCKS), 8 * WIDTH, cfg['num_clusters'], 1)
    # a head that is already confident on part of the batch, as after SCAN
    with torch.no_grad():
        model.cluster_head[0].weight.mul_(8)
    init = {k: v.clone() for k, v in model.state_dict().items()}
    g = torch.Generator().manual_seed(17)
    batches = [torch.randn(2, cfg['batch'], 3, SIZE, SIZE, generator=g).float() for _ in range(POOL)]
    model = model.to(dtype).train()
    torch.set_default_dtype(dtype)  # ConfidenceBasedCE's class weights are torch.ones(c)
    criterion = ConfidenceBasedCE(cfg['threshold'], cfg['class_balance'])
    opt = torch.optim.Adam(model.parameters(), lr=cfg['lr'], weight_decay=cfg['weight_decay'])
    losses, confident = [], []
    for step in range(STEPS):
        weak, strong = batches[step % POOL].to(dtype)
        with torch.no_grad():
            output = model(weak)[0]
        output_augmented = model(strong)[0]
        loss = criterion(output, output_augmented)  # raises when no sample is confident
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        confident.append(int((F.softmax(output, 1).max(1)[0] > cfg['threshold']).sum()))
    cfg['confident'] = confident
    return cfg, init, batches, losses, model.state_dict()


def scan_case(dtype):
    cfg = dict(width=WIDTH, blocks=list(BLOCKS), size=SIZE, batch=16, num_clusters=3, num_heads=2, entropy_weight=5.0,
               lr=1e-4, weight_decay=1e-4, steps=STEPS)
    torch.manual_seed(18)
    model = ClusteringModel(ResNet18Scan('cifar', WIDTH, BLOCKS), 8 * WIDTH, cfg['num_clusters'], cfg['num_heads'])
    init = {k: v.clone() for k, v in model.state_dict().items()}
    g = torch.Generator().manual_seed(19)
    batches = [torch.randn(2, cfg['batch'], 3, SIZE, SIZE, generator=g).float() for _ in range(POOL)]  # anchors, neighbours
    model = model.to(dtype).train()
    criterion = SCANLoss(cfg['entropy_weight'])
    opt = torch.optim.Adam(model.parameters(), lr=cfg['lr'], weight_decay=cfg['weight_decay'])
    losses, consistency, entropy = [], [], []
    for step in range(STEPS):
        anchors, neighbors = batches[step % POOL].to(dtype)
        terms = [criterion(a, n) for a, n in zip(model(anchors), model(neighbors))]
        total_loss = torch.sum(torch.stack([t[0] for t in terms], dim=0))
        opt.zero_grad()
        total_loss.backward()
        opt.step()
        losses.append(total_loss.item())
        consistency.append([t[1].item() for t in terms])
        entropy.append([t[2].item() for t in terms])
    return cfg, init, batches, losses, model.state_dict(), {'consistency': consistency, 'entropy': entropy}


def moco_case(dtype):
    width = 3  # two models and the initial weights in one file: narrower keeps it small
    cfg = dict(width=width, blocks=list(BLOCKS), size=SIZE, batch=16, hidden=8 * width, out=16, queue=48, temperature=0.2,
               moco_momentum=0.9, lr=0.03, momentum=0.9, weight_decay=1e-4, steps=STEPS)
    torch.manual_seed(20)
    model = ContrastiveModel(ResNet18Scan('cifar', width, BLOCKS), 8 * width, cfg['hidden'], cfg['out'])
    init = {k: v.clone() for k, v in model.state_dict().items()}
    g = torch.Generator().manual_seed(21)
    batches = [torch.randn(2, cfg['batch'], 3, SIZE, SIZE, generator=g).float() for _ in range(POOL)]
    queue0 = F.normalize(torch.randn(cfg['out'], cfg['queue'], generator=g), dim=0).float()
    perms = [torch.randperm(cfg['batch'], generator=g) for _ in range(STEPS)]
    model = model.to(dtype).train()
    key = ContrastiveModel(ResNet18Scan('cifar', width, BLOCKS), 8 * width, cfg['hidden'], cfg['out']).to(dtype).train()
    key.load_state_dict(model.state_dict())
    for p in key.parameters():
        p.requires_grad = False
    queue, ptr = queue0.to(dtype), 0
    opt = torch.optim.SGD(model.parameters(), lr=cfg['lr'], momentum=cfg['momentum'], weight_decay=cfg['weight_decay'])
    b, chunk = cfg['batch'], (cfg['batch'] + 1) // 2
    losses = []
    for step in range(STEPS):
        im_q, im_k = batches[step % POOL].to(dtype)
        perm = perms[step]
        with torch.no_grad():  # shuffle-BN: BN statistics of the keys over chunks of the permuted batch
            k = torch.cat([key(im_k[perm[s:s + chunk]]) for s in range(0, b, chunk)])[torch.argsort(perm)]
        opt.zero_grad()
        loss_value = 0.0
        for s in range(0, b, chunk):
            q = model(im_q[s:s + chunk])
            logits = torch.cat([(q * k[s:s + chunk]).sum(1, keepdim=True), q @ queue], 1) / cfg['temperature']
            loss = F.cross_entropy(logits, torch.zeros(q.shape[0], dtype=torch.long)) * (q.shape[0] / b)
            loss.backward()
            loss_value += loss.item()
        opt.step()
        with torch.no_grad():
            for pk, pq in zip(key.parameters(), model.parameters()):
                pk.mul_(cfg['moco_momentum']).add_(pq, alpha=1 - cfg['moco_momentum'])
        queue = queue.clone()
        queue[:, ptr:ptr + b] = k.T
        ptr = (ptr + b) % cfg['queue']
        losses.append(loss_value)
    final = {**model.state_dict(), **{f'key.{n}': v for n, v in key.state_dict().items()}, 'queue': queue}
    return cfg, init, batches, losses, final, {'queue0': enc(queue0), 'perms': [p.tolist() for p in perms]}


def max_err(a, b):
    return max((a[k].double() - b[k].double()).abs().max().item() for k in a if a[k].is_floating_point())


def run(case, dtype):
    try:
        return case(dtype)
    finally:
        torch.set_default_dtype(torch.float32)


def write(case, path):
    cfg, init, batches, losses, final, *extra = run(case, torch.float64)
    _, _, _, losses32, final32, *_ = run(case, torch.float32)
    obj = {
        'config': cfg,
        'init': enc_state(init),
        # NHWC (what the TS models take): [view, batch, h, w, 3]
        'batches': [enc(b.permute(0, 1, 3, 4, 2)) for b in batches],
        'losses': losses,
        'final': enc_state(final),
        'torch_f32_err': {'loss': max(abs(a - b) for a, b in zip(losses, losses32)), 'final': max_err(final, final32)},
        **(extra[0] if extra else {}),
    }
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(obj, f, separators=(',', ':'))
        f.write('\n')
    print(f'wrote {path} ({os.path.getsize(path)} bytes); torch float32 vs float64: {obj["torch_f32_err"]}')


CASES = {'simclr': simclr_case, 'selflabel': selflabel_case, 'scan': scan_case, 'moco': moco_case}


def main():
    torch.set_num_threads(1)
    for name in sys.argv[1:] or CASES:  # default: all
        write(CASES[name], os.path.join(ROOT, f'test/goldens/{name}-steps.json'))


if __name__ == '__main__':
    main()
