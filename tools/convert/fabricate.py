"""Small fabricated checkpoints in the layouts pth_to_safetensors.py converts (used by its tests and fixtures)."""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'golden', 'models'))
from reference_models import ClusteringModel, ContrastiveModel, ResNet18Scan, ResNet50  # noqa: E402


def perturb_bn(model):
    """Non-trivial BN statistics, so a wrongly mapped buffer changes the output."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.num_batches_tracked.fill_(7)
    return model


def moco_r50(width=2, blocks=(1, 1, 1, 1), out=16, seed=0):
    """A MoCo v2 checkpoint: {'epoch', 'arch', 'state_dict': module.encoder_q/k.* + queue, 'optimizer'}.
    Returns (checkpoint, the equivalent ContrastiveModel)."""
    torch.manual_seed(seed)
    dim = 32 * width
    q = perturb_bn(ContrastiveModel(ResNet50(width, blocks), dim, dim, out))
    k = perturb_bn(ContrastiveModel(ResNet50(width, blocks), dim, dim, out))
    sd = {}
    for enc_name, enc in (('encoder_q', q), ('encoder_k', k)):
        for key, v in enc.backbone.state_dict().items():
            sd[f'module.{enc_name}.{key}'] = v.clone()
        for key, v in enc.contrastive_head.state_dict().items():  # MoCo's fc = Sequential(Linear, ReLU, Linear)
            sd[f'module.{enc_name}.fc.{key}'] = v.clone()
    sd['module.queue'] = torch.randn(out, 32)
    sd['module.queue_ptr'] = torch.zeros(1, dtype=torch.long)
    ckpt = {'epoch': 800, 'arch': 'resnet50', 'state_dict': sd, 'optimizer': {'state': {}, 'param_groups': [{'lr': 0.03}]}}
    return ckpt, q


def scan_pretext_cifar(width=2, blocks=(1, 1, 1, 1), hidden=16, out=8, seed=1):
    """SCAN pretext model.pth.tar: the bare ContrastiveModel state dict."""
    torch.manual_seed(seed)
    m = perturb_bn(ContrastiveModel(ResNet18Scan('cifar', width, blocks), 8 * width, hidden, out))
    return {k: v.clone() for k, v in m.state_dict().items()}, m


def scan_clustering_cifar(width=2, blocks=(1, 1, 1, 1), nclusters=5, nheads=3, best=1, seed=2):
    """SCAN scan model.pth.tar as saved from a DataParallel model: {'model': module.*, 'head': best}."""
    torch.manual_seed(seed)
    m = perturb_bn(ClusteringModel(ResNet18Scan('cifar', width, blocks), 8 * width, nclusters, nheads))
    return {'model': {f'module.{k}': v.clone() for k, v in m.state_dict().items()}, 'head': best}, m
