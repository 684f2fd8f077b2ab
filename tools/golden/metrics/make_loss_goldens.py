"""PyTorch reference values for the SCAN losses (scan, pretext, selflabel packages).

    .venv-tools/bin/python tools/golden/metrics/make_loss_goldens.py

The losses are the official ones (official_losses.py). Inputs are rounded to 4 decimals
so that they are exact in JSON; the inputs and outputs (loss values and input gradients) are written as JSON
goldens beside the tests of the TypeScript losses (<package>/test/__goldens__/*.json).
"""
import json
import os

import torch
import torch.nn.functional as F

from official_losses import ConfidenceBasedCE, SCANLoss, SimCLRLoss

torch.manual_seed(20200528)
torch.set_default_dtype(torch.float64)


def r4(t):
    return torch.round(t * 1e4) / 1e4


def flat(t):
    return [float(v) for v in t.detach().reshape(-1)]


out = {}

# SCAN loss: B = 6, C = 5, entropy weight 5
anchors = r4(torch.randn(6, 5) * 2).requires_grad_()
neighbors = r4(torch.randn(6, 5) * 2).requires_grad_()
total, cons, ent = SCANLoss(entropy_weight=5.0)(anchors, neighbors)
total.backward()
out['scan'] = {'b': 6, 'c': 5, 'entropyWeight': 5.0, 'anchors': flat(anchors), 'neighbors': flat(neighbors),
               'total': float(total), 'consistency': float(cons), 'entropy': float(ent),
               'gradAnchors': flat(anchors.grad), 'gradNeighbors': flat(neighbors.grad)}

# SimCLR loss: B = 5, D = 8, tau = 0.1, on F.normalize(raw) as the model's output is L2-normalised
z1 = r4(torch.randn(5, 8)).requires_grad_()
z2 = r4(torch.randn(5, 8)).requires_grad_()
feats = torch.stack([F.normalize(z1, dim=1), F.normalize(z2, dim=1)], dim=1)
loss = SimCLRLoss(0.1)(feats)
loss.backward()
out['simclr'] = {'b': 5, 'd': 8, 'temperature': 0.1, 'z1': flat(z1), 'z2': flat(z2), 'loss': float(loss),
                 'gradZ1': flat(z1.grad), 'gradZ2': flat(z2.grad)}

# Confidence-based CE: B = 10, C = 4, threshold 0.9; weak logits made confident for 6 rows (classes 0,0,0,1,2,2)
weak = r4(torch.randn(10, 4) * 0.5)
for row, cls in [(0, 0), (2, 0), (3, 0), (5, 1), (6, 2), (8, 2)]:
    weak[row, cls] += 5.0
strong = r4(torch.randn(10, 4) * 2)
res = {'b': 10, 'c': 4, 'threshold': 0.9, 'weak': flat(weak), 'strong': flat(strong)}
for balance in (True, False):
    s = strong.clone().requires_grad_()
    loss = ConfidenceBasedCE(0.9, balance)(weak, s)
    loss.backward()
    key = 'balanced' if balance else 'unbalanced'
    res[key] = {'loss': float(loss), 'gradStrong': flat(s.grad)}
mask = F.softmax(weak, 1).max(1).values > 0.9
res['mask'] = [bool(m) for m in mask]
out['confidenceCE'] = res

# RotNet: 4-way CE on 8 rows
logits = r4(torch.randn(8, 4)).requires_grad_()
labels = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
loss = F.cross_entropy(logits, labels)
loss.backward()
out['rotnet'] = {'logits': flat(logits), 'labels': labels.tolist(), 'loss': float(loss), 'grad': flat(logits.grad)}

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..')
FILES = {
    'packages/pretext/test/__goldens__/losses.json': {'simclr': out['simclr'], 'rotnet': out['rotnet']},
    'packages/scan/test/__goldens__/scan-loss.json': out['scan'],
    'packages/selflabel/test/__goldens__/selflabel-loss.json': out['confidenceCE'],
}
for rel, value in FILES.items():
    path = os.path.join(ROOT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(value, f, indent=1)
        f.write('\n')
    print('wrote', rel)
