"""Writes the converter fixtures the TS tests of @scan-repro/models load (packages/models/test/goldens/converted_*):
fabricated checkpoints in each layout, converted by pth_to_safetensors.py, plus the PyTorch eval-mode outputs of
the original models on fixed inputs (converted_expected.safetensors).

    .venv-tools/bin/python tools/convert/make_fixtures.py
"""
import os
import sys
import tempfile

import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from fabricate import moco_r50, scan_clustering_cifar, scan_pretext_cifar  # noqa: E402
from pth_to_safetensors import convert  # noqa: E402

OUT = os.path.join(HERE, '..', '..', 'packages', 'models', 'test', 'goldens')


def main():
    expected = {}
    torch.manual_seed(123)
    x50 = torch.randn(2, 3, 32, 32)
    x18 = torch.randn(2, 3, 16, 16)
    expected['input_r50'] = x50.permute(0, 2, 3, 1).contiguous()
    expected['input_cifar'] = x18.permute(0, 2, 3, 1).contiguous()
    with tempfile.TemporaryDirectory() as tmp:
        def conv(ckpt, name, **kw):
            src = os.path.join(tmp, f'{name}.pth.tar')
            torch.save(ckpt, src)
            print(convert(src, os.path.join(OUT, f'converted_{name}.safetensors'), **kw))

        ckpt, q = moco_r50()
        conv(ckpt, 'moco_r50_w2')
        q.eval()
        with torch.no_grad():
            expected['moco_out_eval'] = q(x50)

        sd, p = scan_pretext_cifar()
        conv(sd, 'scan_pretext_cifar_w2')
        p.eval()
        with torch.no_grad():
            expected['pretext_out_eval'] = p(x18)
            expected['pretext_features_eval'] = p.backbone(x18)

        ckpt, c = scan_clustering_cifar(best=1)
        conv(ckpt, 'scan_clustering_cifar_w2')
        c.eval()
        with torch.no_grad():
            for i, y in enumerate(c(x18)):
                expected[f'clustering_out_eval.{i}'] = y
    save_file({k: v.contiguous() for k, v in expected.items()}, os.path.join(OUT, 'converted_expected.safetensors'))


if __name__ == '__main__':
    main()
