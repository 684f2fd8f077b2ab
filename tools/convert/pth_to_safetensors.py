"""Convert PyTorch checkpoints to scan-repro safetensors (PyTorch layout, scan-repro / official SCAN names).

    .venv-tools/bin/python tools/convert/pth_to_safetensors.py IN.pth[.tar] OUT.safetensors [--best-head-only]

Recognised layouts (after stripping any number of `module.` prefixes, as DataParallel adds them):
  moco            MoCo v2 `checkpoint_0799.pth.tar`: {'state_dict': {'module.encoder_q.*', 'module.encoder_k.*',
                  'module.queue', ...}, ...}. encoder_q.fc.0 / fc.2 → contrastive_head.0 / .2, the rest of
                  encoder_q.* → backbone.*; encoder_k.* and the queue are dropped.
  scan-pretext    official SCAN pretext `model.pth.tar` (a bare state dict) or `checkpoint.pth.tar`
                  ({'model': ..., 'optimizer': ..., 'epoch': ...}): backbone.* + contrastive_head.*.
  scan-clustering official SCAN scan / selflabel checkpoints: {'model': {backbone.*, cluster_head.<i>.*}, 'head': i}
                  or a bare state dict. The best head index goes into the metadata ('best_head').
  torchvision     a bare torchvision ResNet state dict (conv1.weight, layer1..., fc.*): → backbone.*, fc.* dropped.
Tensors are written as float32 (num_batches_tracked stays int64), keys sorted; the file is written atomically.
"""
import argparse
import json
import os
import re
import sys
import tempfile

import torch
from safetensors.torch import save_file

OUR_PREFIXES = ('backbone.', 'contrastive_head.', 'cluster_head.')
# Keys of the MoCo wrapper that are not part of the query encoder.
MOCO_DROPPED = re.compile(r'^(encoder_k\.|queue$|queue_ptr$)')


class ConversionError(Exception):
    pass


def strip_module(key):
    while key.startswith('module.'):
        key = key[len('module.'):]
    return key


def load_checkpoint(path, trust_pickle=False):
    try:
        return torch.load(path, map_location='cpu', weights_only=not trust_pickle)
    except Exception as e:  # weights_only refuses arbitrary pickled objects
        raise ConversionError(f"{path}: cannot load checkpoint ({e}); if you trust the file, retry with --trust-pickle") from e


def find_state_dict(ckpt, path):
    """Returns (state_dict, extra_metadata)."""
    if not isinstance(ckpt, dict):
        raise ConversionError(f'{path}: expected a dict checkpoint, got {type(ckpt).__name__}')
    meta = {}
    if 'state_dict' in ckpt and isinstance(ckpt['state_dict'], dict):
        sd = ckpt['state_dict']
        for k in ('epoch', 'arch'):
            if k in ckpt:
                meta[f'source_{k}'] = str(ckpt[k])
    elif 'model' in ckpt and isinstance(ckpt['model'], dict):
        sd = ckpt['model']
        if 'head' in ckpt:
            meta['best_head'] = str(int(ckpt['head']))
        if 'epoch' in ckpt:
            meta['source_epoch'] = str(ckpt['epoch'])
    elif ckpt and all(torch.is_tensor(v) for v in ckpt.values()):
        sd = ckpt
    else:
        raise ConversionError(f"{path}: no state dict found; expected a 'state_dict' or 'model' entry or a bare state dict, "
                              f"got keys {sorted(ckpt)[:10]}")
    return {strip_module(k): v for k, v in sd.items()}, meta


def rename(sd, path):
    """Maps a prefix-stripped state dict to our names; returns (tensors, layout)."""
    keys = list(sd)
    if any(k.startswith('encoder_q.') for k in keys):
        out = {}
        for k, v in sd.items():
            if MOCO_DROPPED.match(k):
                continue
            if not k.startswith('encoder_q.'):
                raise ConversionError(f"{path}: unexpected key '{k}' in a MoCo checkpoint (expected encoder_q.*, encoder_k.*, queue)")
            k = k[len('encoder_q.'):]
            if k.startswith('fc.'):
                m = re.match(r'^fc\.(0|2)\.(weight|bias)$', k)
                if not m:
                    raise ConversionError(f"{path}: MoCo head key '{k}' is not an MLP head (fc.0 / fc.2); MoCo v1 linear heads are not supported")
                out[f'contrastive_head.{m.group(1)}.{m.group(2)}'] = v
            else:
                out[f'backbone.{k}'] = v
        return out, 'moco'
    if all(k.startswith(OUR_PREFIXES) for k in keys):
        layout = 'scan-clustering' if any(k.startswith('cluster_head.') for k in keys) else 'scan-pretext'
        return dict(sd), layout
    if any(k.startswith(OUR_PREFIXES) for k in keys):
        bad = [k for k in keys if not k.startswith(OUR_PREFIXES)]
        raise ConversionError(f'{path}: mixes SCAN keys with unknown keys: {bad[:10]}')
    if 'conv1.weight' in sd and any(k.startswith('layer1.') for k in keys):
        return {f'backbone.{k}': v for k, v in sd.items() if not k.startswith('fc.')}, 'torchvision'
    raise ConversionError(f'{path}: unrecognised checkpoint layout; first keys: {keys[:10]}')


def keep_best_head(tensors, meta, path):
    """SCAN → selflabel keeps only the best head, loaded as head 0."""
    if 'best_head' not in meta:
        raise ConversionError(f"{path}: --best-head-only needs a checkpoint with a 'head' entry")
    best = int(meta['best_head'])
    out = {}
    for k, v in tensors.items():
        m = re.match(r'^cluster_head\.(\d+)\.(.*)$', k)
        if not m:
            out[k] = v
        elif int(m.group(1)) == best:
            out[f'cluster_head.0.{m.group(2)}'] = v
    if not any(k.startswith('cluster_head.0.') for k in out):
        raise ConversionError(f'{path}: best head {best} has no cluster_head.{best}.* keys')
    meta = dict(meta, best_head='0', original_best_head=str(best))
    return out, meta


def convert(in_path, out_path, best_head_only=False, trust_pickle=False):
    ckpt = load_checkpoint(in_path, trust_pickle)
    sd, meta = find_state_dict(ckpt, in_path)
    tensors, layout = rename(sd, in_path)
    if best_head_only:
        tensors, meta = keep_best_head(tensors, meta, in_path)
    clean = {}
    for k, v in sorted(tensors.items()):
        if not torch.is_tensor(v):
            raise ConversionError(f"{in_path}: '{k}' is not a tensor ({type(v).__name__})")
        v = v.detach().cpu()
        clean[k] = (v.float() if v.is_floating_point() else v).contiguous()
    metadata = {'format': 'scan-repro/pytorch-layout', 'layout': layout, 'source': os.path.basename(in_path), **meta}
    out_dir = os.path.dirname(os.path.abspath(out_path))
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix='.tmp-', suffix='.safetensors')
    os.close(fd)
    try:
        save_file(clean, tmp, metadata=metadata)
        os.replace(tmp, out_path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return {'layout': layout, 'tensors': len(clean), 'metadata': metadata}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('input')
    p.add_argument('output')
    p.add_argument('--best-head-only', action='store_true', help='keep only the best cluster head (as cluster_head.0)')
    p.add_argument('--trust-pickle', action='store_true', help='allow arbitrary pickled objects (torch.load weights_only=False)')
    a = p.parse_args(argv)
    try:
        info = convert(a.input, a.output, a.best_head_only, a.trust_pickle)
    except ConversionError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print(json.dumps(info))
    return 0


if __name__ == '__main__':
    sys.exit(main())
