"""Tests for pth_to_safetensors.py on fabricated checkpoints of each layout.

    .venv-tools/bin/python -m unittest discover -s tools/convert -p 'test_*.py'
"""
import os
import sys
import tempfile
import unittest

import torch
from safetensors import safe_open
from safetensors.torch import load_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'golden', 'models'))
from fabricate import moco_r50, scan_clustering_cifar, scan_pretext_cifar  # noqa: E402
from pth_to_safetensors import ConversionError, convert  # noqa: E402
from reference_models import ClusteringModel, ContrastiveModel, ResNet18Scan, ResNet50  # noqa: E402


class ConvertTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def roundtrip(self, ckpt, **kw):
        src = os.path.join(self.dir.name, 'in.pth.tar')
        dst = os.path.join(self.dir.name, 'out.safetensors')
        torch.save(ckpt, src)
        info = convert(src, dst, **kw)
        with safe_open(dst, 'pt') as f:
            meta = f.metadata()
        return load_file(dst), meta, info

    def test_moco_v2_query_encoder_becomes_backbone_and_head(self):
        ckpt, q = moco_r50()
        tensors, meta, info = self.roundtrip(ckpt)
        self.assertEqual(info['layout'], 'moco')
        self.assertEqual(meta['source_epoch'], '800')
        self.assertFalse(any('encoder_k' in k or 'queue' in k for k in tensors))
        self.assertEqual(set(tensors), set(q.state_dict()))
        self.assertEqual(tensors['backbone.layer1.0.downsample.0.weight'].shape, (8, 2, 1, 1))
        self.assertEqual(tensors['backbone.bn1.num_batches_tracked'].dtype, torch.int64)
        # Strict load into the reference model reproduces the query encoder's output exactly.
        m = ContrastiveModel(ResNet50(2, (1, 1, 1, 1)), 64, 64, 16)
        m.load_state_dict(tensors, strict=True)
        x = torch.randn(2, 3, 32, 32)
        q.eval(), m.eval()
        self.assertTrue(torch.equal(m(x), q(x)))

    def test_scan_pretext_bare_state_dict(self):
        sd, m = scan_pretext_cifar()
        tensors, meta, info = self.roundtrip(sd)
        self.assertEqual(info['layout'], 'scan-pretext')
        self.assertEqual(set(tensors), set(sd))
        for k in sd:
            self.assertTrue(torch.equal(tensors[k], sd[k]), k)

    def test_scan_clustering_strips_module_and_records_best_head(self):
        ckpt, m = scan_clustering_cifar(best=1)
        tensors, meta, info = self.roundtrip(ckpt)
        self.assertEqual(info['layout'], 'scan-clustering')
        self.assertEqual(meta['best_head'], '1')
        self.assertEqual(set(tensors), set(m.state_dict()))
        self.assertTrue(torch.equal(tensors['cluster_head.2.weight'], m.cluster_head[2].weight))

    def test_best_head_only_keeps_that_head_as_head_0(self):
        ckpt, m = scan_clustering_cifar(best=2)
        tensors, meta, _ = self.roundtrip(ckpt, best_head_only=True)
        self.assertEqual(meta['best_head'], '0')
        self.assertEqual(meta['original_best_head'], '2')
        self.assertEqual(sorted(k for k in tensors if k.startswith('cluster_head')), ['cluster_head.0.bias', 'cluster_head.0.weight'])
        self.assertTrue(torch.equal(tensors['cluster_head.0.weight'], m.cluster_head[2].weight))

    def test_torchvision_state_dict_drops_fc(self):
        torch.manual_seed(0)
        sd = ResNet50(2, (1, 1, 1, 1)).state_dict()
        sd['fc.weight'] = torch.zeros(10, 64)
        sd['fc.bias'] = torch.zeros(10)
        tensors, _, info = self.roundtrip(sd)
        self.assertEqual(info['layout'], 'torchvision')
        self.assertNotIn('backbone.fc.weight', tensors)
        self.assertIn('backbone.layer4.0.conv3.weight', tensors)

    def test_unknown_layout_is_an_error_naming_keys(self):
        with self.assertRaisesRegex(ConversionError, 'unrecognised.*foo.weight'):
            self.roundtrip({'foo.weight': torch.zeros(2)})
        with self.assertRaisesRegex(ConversionError, 'MoCo v1'):
            self.roundtrip({'state_dict': {'module.encoder_q.fc.weight': torch.zeros(2, 2)}})


if __name__ == '__main__':
    unittest.main()
