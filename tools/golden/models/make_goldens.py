"""Regenerates the PyTorch parity goldens of @scan-repro/models (packages/models/test/goldens/*.safetensors).

Run from the repo root:  .venv-tools/bin/python tools/golden/models/make_goldens.py
Reference computations run in float64 from float32 weights/inputs, so the goldens are (nearly) exact and
the TS float32 results are compared against the truth, not against another float32 rounding.

Each file holds (PyTorch layout; the TS test converts):
  param.<name>          initial state dict (float32; BN buffers come from a few warm-up train steps so eval
                        mode sees realistic, non-trivial running statistics)
  input                 NHWC float32 batch (what the TS backbone takes)
  out_train             output in training mode (batch statistics)
  after_train.<name>    BN running_mean / running_var / num_batches_tracked after that one training forward
  out_eval              output in eval mode, computed from the INITIAL state (running statistics)
  out_eval.<i>          (clustering model) logits of head i
  grad.<name>           (gradient golden) d loss / d param in training mode, loss = sum(out_train * proj)
  proj                  (gradient golden) the fixed projection used by the loss
Metadata: 'config' (JSON: model kind, width, blocks, heads, ...) and 'torch_f32_err' (JSON: max abs error of
PyTorch's own float32 run against the float64 goldens, per quantity). A full-depth ResNet-50 in train mode is
ill-conditioned (batch statistics of small channels re-amplify rounding): PyTorch's float32 run misses the
float64 truth by ~1.7e-4 there, so the TS test allows max(1e-4, 4 × that error)
(wasm's different summation order lands at 1.5-2.5 × PyTorch's error).
"""
import copy
import json
import os
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_models import ClusteringModel, ContrastiveModel, ResNet18Scan, ResNet50  # noqa: E402

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'packages', 'models', 'test', 'goldens')


def build(cfg):
    if cfg['backbone'] == 'resnet50':
        bb = ResNet50(cfg['width'], cfg['blocks'])
        dim = 32 * cfg['width']
    else:
        bb = ResNet18Scan(cfg['backbone'].split('_')[1], cfg['width'], cfg['blocks'])
        dim = 8 * cfg['width']
    kind = cfg.get('model', 'backbone')
    if kind == 'contrastive':
        return ContrastiveModel(bb, dim, cfg['hidden'], cfg['out'])
    if kind == 'clustering':
        return ClusteringModel(bb, dim, cfg['num_clusters'], cfg['num_heads'])
    return bb


def as_list(y):
    return y if isinstance(y, list) else [y]


def make_case(name, cfg, seed, grad=False):
    torch.manual_seed(seed)
    model = build(cfg).float()
    n, size = cfg['batch'], cfg['input']
    # Warm-up: a few train-mode steps on random data give realistic running statistics.
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(n, 3, size, size) * 1.2 + 0.1)
        for m in model.modules():  # non-trivial affine parameters
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)
    init_state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    x32 = torch.randn(n, 3, size, size)

    tensors = {f'param.{k}': v for k, v in init_state.items()}
    tensors['input'] = x32.permute(0, 2, 3, 1).contiguous()

    # Training-mode forward in float64.
    m64 = copy.deepcopy(model).double().train()
    x64 = x32.double()
    if grad:
        proj = torch.randn(n, cfg_out_dim(cfg), dtype=torch.float64)
        tensors['proj'] = proj.float()
    y = m64(x64)
    for i, t in enumerate(as_list(y)):
        tensors['out_train' if not isinstance(y, list) else f'out_train.{i}'] = t.detach().float().contiguous()
    if grad:
        loss = (y * proj).sum()
        loss.backward()
        for k, p in m64.named_parameters():
            tensors[f'grad.{k}'] = p.grad.float().contiguous()
    for k, v in m64.state_dict().items():
        if 'running_' in k or 'num_batches_tracked' in k:
            tensors[f'after_train.{k}'] = v.float().contiguous() if v.is_floating_point() else v.clone()

    # Eval-mode forward from the initial state.
    e64 = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        y = e64(x64)
    for i, t in enumerate(as_list(y)):
        tensors['out_eval' if not isinstance(y, list) else f'out_eval.{i}'] = t.float().contiguous()

    # PyTorch's own float32 error against these float64 goldens (the achievable float32 accuracy).
    f32_err = {}
    t32 = copy.deepcopy(model).train()
    with torch.no_grad():
        y32 = as_list(t32(x32))
    f32_err['out_train'] = max((a.double() - b.double()).abs().max().item() for a, b in zip(
        y32, [tensors[k] for k in sorted(tensors) if k.startswith('out_train')]))
    f32_err['running'] = max((v.double() - tensors[f'after_train.{k}'].double()).abs().max().item()
                             for k, v in t32.state_dict().items() if 'running_' in k)
    e32 = copy.deepcopy(model).eval()
    with torch.no_grad():
        y32 = as_list(e32(x32))
    f32_err['out_eval'] = max((a.double() - b.double()).abs().max().item() for a, b in zip(
        y32, [tensors[k] for k in sorted(tensors) if k.startswith('out_eval')]))

    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, f'{name}.safetensors')
    save_file(tensors, path, metadata={'config': json.dumps(cfg), 'torch': torch.__version__,
                                            'torch_f32_err': json.dumps(f32_err)})
    print(f'{path}: {os.path.getsize(path)} bytes, out_train max |y| = '
          f'{max(t.abs().max().item() for k, t in tensors.items() if k.startswith("out_train")):.3f}, torch f32 error {f32_err}')


def cfg_out_dim(cfg):
    return 32 * cfg['width'] if cfg['backbone'] == 'resnet50' else 8 * cfg['width']


def main():
    make_case('resnet18_cifar_w8', {'backbone': 'resnet18_cifar', 'width': 8, 'blocks': [2, 2, 2, 2], 'batch': 2, 'input': 32}, 1)
    make_case('resnet18_stl_w4', {'backbone': 'resnet18_stl', 'width': 4, 'blocks': [2, 2, 2, 2], 'batch': 1, 'input': 96}, 2)
    # Full depth (train mode ill-conditioned, see above) and a shallow one that is checked at 1e-4 in both modes.
    make_case('resnet50_w3', {'backbone': 'resnet50', 'width': 3, 'blocks': [3, 4, 6, 3], 'batch': 2, 'input': 48}, 3)
    make_case('resnet50_w4_blocks1', {'backbone': 'resnet50', 'width': 4, 'blocks': [1, 1, 1, 1], 'batch': 2, 'input': 48}, 3)
    make_case('resnet18_cifar_w3_grad', {'backbone': 'resnet18_cifar', 'width': 3, 'blocks': [1, 1, 1, 1], 'batch': 4, 'input': 16}, 4, grad=True)
    make_case('contrastive_cifar_w2', {'model': 'contrastive', 'backbone': 'resnet18_cifar', 'width': 2, 'blocks': [1, 1, 1, 1],
                                       'hidden': 32, 'out': 16, 'batch': 3, 'input': 16}, 5)
    make_case('clustering_cifar_w2', {'model': 'clustering', 'backbone': 'resnet18_cifar', 'width': 2, 'blocks': [1, 1, 1, 1],
                                      'num_clusters': 5, 'num_heads': 3, 'batch': 3, 'input': 16}, 6)


if __name__ == '__main__':
    main()
