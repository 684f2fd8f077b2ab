"""The official losses (losses/losses.py of wvangansbeke/Unsupervised-Classification), copied in behaviour with
`.cuda()` removed; shared by the loss goldens (make_loss_goldens.py) and the training goldens (../train)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

EPS = 1e-8


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
