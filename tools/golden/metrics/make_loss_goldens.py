"""PyTorch reference values for the SCAN losses (scan, pretext, selflabel packages).

    .venv-tools/bin/python tools/golden/metrics/make_loss_goldens.py > /tmp/loss-goldens.json

The classes below are copied in behaviour from the official repo's losses/losses.py
(wvangansbeke/Unsupervised-Classification), with `.cuda()` removed. Inputs are rounded to 4 decimals
so that the test files can embed them exactly; outputs (loss values and input gradients) are printed
as JSON and pasted into the *.test.ts files next to the TypeScript losses.
"""
import json

import torch
import torch.nn as nn
import torch.nn.functional as F

EPS = 1e-8
torch.manual_seed(20200528)
torch.set_default_dtype(torch.float64)


def entropy(x, input_as_probabilities):
    if input_as_probabilities:
        x_ = torch.clamp(x, min=EPS)
        b = x_ * torch.log(x_)
    else:
        b = F.softmax(x, dim=1) * F.log_softmax(x, dim=1)
    if len(b.size()) == 2:
        return -b.sum(dim=1).mean()
    return -b.sum()


class SCANLoss(nn.Module):
    def __init__(self, entropy_weight=2.0):
        super().__init__()
        self.softmax = nn.Softmax(dim=1)
        self.bce = nn.BCELoss()
        self.entropy_weight = entropy_weight

    def forward(self, anchors, neighbors):
        b, n = anchors.size()
        anchors_prob = self.softmax(anchors)
        positives_prob = self.softmax(neighbors)
        similarity = torch.bmm(anchors_prob.view(b, 1, n), positives_prob.view(b, n, 1)).squeeze()
        ones = torch.ones_like(similarity)
        consistency_loss = self.bce(similarity, ones)
        entropy_loss = entropy(torch.mean(anchors_prob, 0), input_as_probabilities=True)
        total_loss = consistency_loss - self.entropy_weight * entropy_loss
        return total_loss, consistency_loss, entropy_loss


class SimCLRLoss(nn.Module):
    def __init__(self, temperature):
        super().__init__()
        self.temperature = temperature

    def forward(self, features):
        b, n, dim = features.size()
        assert n == 2
        mask = torch.eye(b, dtype=features.dtype)
        contrast_features = torch.cat(torch.unbind(features, dim=1), dim=0)
        anchor = features[:, 0]
        dot_product = torch.matmul(anchor, contrast_features.T) / self.temperature
        logits_max, _ = torch.max(dot_product, dim=1, keepdim=True)
        logits = dot_product - logits_max.detach()
        mask = mask.repeat(1, 2)
        logits_mask = torch.scatter(torch.ones_like(mask), 1, torch.arange(b).view(-1, 1), 0)
        mask = mask * logits_mask
        exp_logits = torch.exp(logits) * logits_mask
        log_prob = logits - torch.log(exp_logits.sum(1, keepdim=True))
        loss = -((mask * log_prob).sum(1) / mask.sum(1)).mean()
        return loss


class MaskedCrossEntropyLoss(nn.Module):
    def forward(self, input, target, mask, weight, reduction='mean'):
        if not (mask != 0).any():
            raise ValueError('Mask in MaskedCrossEntropyLoss is all zeros.')
        target = torch.masked_select(target, mask)
        b, c = input.size()
        n = target.size(0)
        input = torch.masked_select(input, mask.view(b, 1)).view(n, c)
        return F.cross_entropy(input, target, weight=weight, reduction=reduction)


class ConfidenceBasedCE(nn.Module):
    def __init__(self, threshold, apply_class_balancing):
        super().__init__()
        self.loss = MaskedCrossEntropyLoss()
        self.softmax = nn.Softmax(dim=1)
        self.threshold = threshold
        self.apply_class_balancing = apply_class_balancing

    def forward(self, anchors_weak, anchors_strong):
        weak_anchors_prob = self.softmax(anchors_weak)
        max_prob, target = torch.max(weak_anchors_prob, dim=1)
        mask = max_prob > self.threshold
        b, c = weak_anchors_prob.size()
        target_masked = torch.masked_select(target, mask.squeeze())
        n = target_masked.size(0)
        input_ = anchors_strong
        if self.apply_class_balancing:
            idx, counts = torch.unique(target_masked, return_counts=True)
            freq = 1 / (counts.float() / n)
            weight = torch.ones(c)
            weight[idx] = freq.to(weight.dtype)
        else:
            weight = None
        return self.loss(input_, target, mask, weight=weight, reduction='mean')


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

print(json.dumps(out))
