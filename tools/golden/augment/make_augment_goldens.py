"""Reference outputs for packages/augment/src, computed with Pillow and torchvision (PIL backend).

Run from the repo root (needs pillow, numpy, torch, torchvision in the tools venv) and commit what it writes:
    .venv-tools/bin/python tools/golden/augment/make_augment_goldens.py
It writes packages/augment/test/__goldens__/{augment-ops,augment-pipelines}.json.

Everything here calls the library the official SCAN code calls (data/augment.py and utils/common_config.py in
wvangansbeke/Unsupervised-Classification): PIL.ImageOps / ImageEnhance / Image.rotate / Image.transform for the
strong ops, and torchvision.transforms(.functional) for the crops, flips, ColorJitter pieces, grayscale,
ToTensor and Normalize. Random decisions are replaced by explicit parameters so that the TypeScript side can
replay them exactly. Images are stored as base64 of their raw bytes (uint8 HWC, or float32 little-endian HWC
for normalised outputs).
"""
import base64
import json
import os
import random

import numpy as np
import PIL
import torch
import torchvision
import torchvision.transforms as T
import torchvision.transforms.functional as F
from PIL import Image, ImageEnhance, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, '..', '..', '..', 'packages', 'augment', 'test', '__goldens__')
rng = np.random.default_rng(20200528)
pyrng = random.Random(20200528)

# Pillow 13 (python-pillow/Pillow#9549) runs the vertical resampling pass first when an image's height shrinks
# much more than its width; Pillow 7.0, which the official code pins (requirements.txt), and Pillow <= 12 always
# run the horizontal pass first. The two orders differ by 1 in a few pixels (intermediate rounding to uint8).
# We reproduce the original order: two single-axis resizes are exactly Pillow's horizontal-then-vertical pass.
_pillow_resize = Image.Image.resize


def _resize_horizontal_first(self, size, resample=None, box=None, reducing_gap=None):
    if (resample == Image.Resampling.BILINEAR and box is None and reducing_gap is None
            and size[0] != self.width and size[1] != self.height):
        return _pillow_resize(_pillow_resize(self, (size[0], self.height), resample), tuple(size), resample)
    return _pillow_resize(self, size, resample, box, reducing_gap)


Image.Image.resize = _resize_horizontal_first

CIFAR10_MEAN = [0.4914, 0.4822, 0.4465]
CIFAR10_STD = [0.2023, 0.1994, 0.2010]


def b64(arr):
    return base64.b64encode(np.ascontiguousarray(arr).tobytes()).decode('ascii')


def enc_img(im):
    a = np.asarray(im, dtype=np.uint8)
    assert a.ndim == 3 and a.shape[2] == 3, a.shape
    return {'height': a.shape[0], 'width': a.shape[1], 'data': b64(a)}


def enc_float(t):
    a = np.asarray(t, dtype='<f4')
    return {'shape': list(a.shape), 'data': b64(a)}


# ---------------------------------------------------------------------------------------------------------
# Input images

def make_images():
    ims = {}
    ims['rand5x7'] = rng.integers(0, 256, size=(5, 7, 3), dtype=np.uint8)
    narrow = np.empty((32, 32, 3), dtype=np.uint8)
    narrow[..., 0] = rng.integers(30, 181, size=(32, 32))
    narrow[..., 1] = rng.integers(60, 201, size=(32, 32))
    narrow[..., 2] = rng.integers(0, 91, size=(32, 32))
    ims['narrow32'] = narrow
    yy, xx = np.mgrid[0:32, 0:32]
    smooth = np.stack([
        40 + 4 * xx + 2 * yy,
        200 - 3 * yy + np.round(20 * np.sin(xx / 3.0)),
        90 + 2 * xx - yy,
    ], axis=-1) + rng.integers(-12, 13, size=(32, 32, 3))
    ims['smooth32'] = np.clip(smooth, 0, 255).astype(np.uint8)
    ims['smooth16'] = ims['smooth32'][8:24, 4:20].copy()
    ims['const6x4'] = np.broadcast_to(np.array([77, 140, 200], dtype=np.uint8), (6, 4, 3)).copy()
    ims['rect9x13'] = rng.integers(20, 231, size=(9, 13, 3), dtype=np.uint8)
    ims['tiny2x3'] = rng.integers(0, 256, size=(2, 3, 3), dtype=np.uint8)
    g = rng.integers(0, 256, size=(8, 8, 1), dtype=np.uint8)
    ims['gray8'] = np.repeat(g, 3, axis=2)
    two = rng.choice(np.array([50, 180], dtype=np.uint8), size=(7, 5, 3))
    ims['twolevel7x5'] = two
    # many 255s and a sparse histogram: exercises equalize's table entries above 255 (clipped by Image.point)
    ims['sparse6x6'] = rng.choice(np.array([0, 3, 254, 255, 255, 255], dtype=np.uint8), size=(6, 6, 3))
    yy, xx = np.mgrid[0:48, 0:40]
    big = np.stack([
        30 + 5 * xx + np.round(15 * np.cos(yy / 4.0)),
        10 + 4 * yy,
        220 - 2 * xx - 2 * yy,
    ], axis=-1) + rng.integers(-20, 21, size=(48, 40, 3))
    ims['big48x40'] = np.clip(big, 0, 255).astype(np.uint8)
    # an RGB lattice (step 17): every hue sector, saturation and value level for the HSV round trip
    levels = np.arange(0, 256, 17, dtype=np.uint8)
    cube = np.stack(np.meshgrid(levels, levels, levels, indexing='ij'), axis=-1).reshape(64, 64, 3)
    ims['cube64'] = cube
    return ims


IMAGES = make_images()


def pil(name):
    return Image.fromarray(IMAGES[name], 'RGB')


# ---------------------------------------------------------------------------------------------------------
# The official strong ops with an explicit (already signed) magnitude

def official_op(img, name, v):
    if name == 'Identity':
        return img
    if name == 'AutoContrast':
        return ImageOps.autocontrast(img)
    if name == 'Equalize':
        return ImageOps.equalize(img)
    if name == 'Rotate':
        return img.rotate(v)
    if name == 'Solarize':
        return ImageOps.solarize(img, v)
    if name == 'Color':
        return ImageEnhance.Color(img).enhance(v)
    if name == 'Contrast':
        return ImageEnhance.Contrast(img).enhance(v)
    if name == 'Brightness':
        return ImageEnhance.Brightness(img).enhance(v)
    if name == 'Sharpness':
        return ImageEnhance.Sharpness(img).enhance(v)
    if name == 'ShearX':
        return img.transform(img.size, Image.Transform.AFFINE, (1, v, 0, 0, 1, 0))
    if name == 'ShearY':
        return img.transform(img.size, Image.Transform.AFFINE, (1, 0, 0, v, 1, 0))
    if name == 'TranslateX':
        return img.transform(img.size, Image.Transform.AFFINE, (1, 0, v * img.size[0], 0, 1, 0))
    if name == 'TranslateY':
        return img.transform(img.size, Image.Transform.AFFINE, (1, 0, 0, 0, 1, v * img.size[1]))
    if name == 'Posterize':
        return ImageOps.posterize(img, int(v))
    raise ValueError(name)


RANGES = {  # official augment_list()
    'Identity': (0, 1), 'AutoContrast': (0, 1), 'Equalize': (0, 1), 'Rotate': (-30, 30), 'Solarize': (0, 256),
    'Color': (0.05, 0.95), 'Contrast': (0.05, 0.95), 'Brightness': (0.05, 0.95), 'Sharpness': (0.05, 0.95),
    'ShearX': (-0.1, 0.1), 'TranslateX': (-0.1, 0.1), 'TranslateY': (-0.1, 0.1), 'Posterize': (4, 8),
    'ShearY': (-0.1, 0.1),
}
SIGNED = {'Rotate', 'ShearX', 'ShearY', 'TranslateX', 'TranslateY'}


def random_magnitude(name):
    lo, hi = RANGES[name]
    v = pyrng.random() * float(hi - lo) + lo
    if name in SIGNED and pyrng.random() > 0.5:
        v = -v
    return v


# ---------------------------------------------------------------------------------------------------------
# Single-op cases

def op_cases():
    cases = []

    def add(op, image, arg, out):
        cases.append({'op': op, 'image': image, 'arg': arg, 'out': enc_img(out)})

    add('Identity', 'rand5x7', 0.5, pil('rand5x7'))
    for name in IMAGES:
        if name == 'cube64':
            continue
        add('AutoContrast', name, None, ImageOps.autocontrast(pil(name)))
        add('Equalize', name, None, ImageOps.equalize(pil(name)))
    for name in ['rand5x7', 'smooth16']:
        for t in [0, 1, 77.5, 128, 200.2, 255.9, 256]:
            add('Solarize', name, t, ImageOps.solarize(pil(name), t))
    for bits in range(1, 9):
        add('Posterize', 'rand5x7', bits, ImageOps.posterize(pil('rand5x7'), bits))
    for factor in [0.0, 0.05, 0.3, 0.5, 0.77, 0.95, 0.6, 1.0, 1.2, 1.4]:
        for name in ['rand5x7', 'smooth16', 'rect9x13']:
            for op in ['Color', 'Contrast', 'Brightness', 'Sharpness']:
                add(op, name, factor, official_op(pil(name), op, factor))
    for name in ['tiny2x3', 'const6x4', 'twolevel7x5']:
        for op in ['Color', 'Contrast', 'Brightness', 'Sharpness']:
            add(op, name, 0.37, official_op(pil(name), op, 0.37))
    for name in ['rand5x7', 'rect9x13', 'smooth16']:
        for angle in [-30, -17.3, -0.5, 4.2, 12.345, 29.9, 45, 90, -90, 180, 270, 0]:
            add('Rotate', name, angle, pil(name).rotate(angle))
        for v in [-0.1, -0.05, -0.0123, 0.033, 0.1]:
            for op in ['ShearX', 'ShearY']:
                add(op, name, v, official_op(pil(name), op, v))
        for v in [-0.1, -0.07, 0.0345, 0.1]:
            for op in ['TranslateX', 'TranslateY']:
                add(op, name, v, official_op(pil(name), op, v))
    # random draws from the official ranges (covers generic magnitudes of every op)
    for name, repeats in [('smooth32', 1), ('rect9x13', 3), ('narrow32', 1)]:
        for op in RANGES:
            if op == 'Identity':
                continue
            for _ in range(repeats):
                v = random_magnitude(op)
                add(op, name, v, official_op(pil(name), op, v))
    # torchvision functional pieces of ColorJitter / RandomGrayscale / flips
    for name in ['rand5x7', 'smooth16', 'gray8', 'cube64']:
        for h in [-0.5, -0.1, -0.05, -0.0039, 0.0, 0.003, 0.03, 0.1, 0.5]:
            if name == 'cube64' and h not in (-0.1, 0.5):
                continue
            add('adjust_hue', name, h, F.adjust_hue(pil(name), h))
        if name != 'cube64':
            add('rgb_to_grayscale', name, None, F.rgb_to_grayscale(pil(name), num_output_channels=3))
    for name in ['rand5x7', 'smooth16']:
        for f in [0.6, 0.83, 1.0, 1.17, 1.4]:
            add('adjust_brightness', name, f, F.adjust_brightness(pil(name), f))
            add('adjust_contrast', name, f, F.adjust_contrast(pil(name), f))
            add('adjust_saturation', name, f, F.adjust_saturation(pil(name), f))
    add('hflip', 'rect9x13', None, F.hflip(pil('rect9x13')))
    for k in [1, 2, 3]:
        add('rot90', 'rect9x13', k, np.rot90(IMAGES['rect9x13'], k))
    for k, tr in [(1, Image.Transpose.ROTATE_90), (2, Image.Transpose.ROTATE_180), (3, Image.Transpose.ROTATE_270)]:
        add('rot90', 'rand5x7', k, pil('rand5x7').transpose(tr))
    # Image.resize(BILINEAR): down, up, mixed, and crop-then-resize as RandomResizedCrop does
    for name, (h, w) in [('big48x40', (32, 32)), ('big48x40', (17, 23)), ('big48x40', (60, 50)), ('big48x40', (48, 20)),
                         ('big48x40', (10, 40)), ('rand5x7', (32, 32)), ('smooth16', (40, 40)), ('rect9x13', (3, 4))]:
        add('resize', name, [h, w], pil(name).resize((w, h), Image.Resampling.BILINEAR))
    for (i, j, h, w) in [(4, 6, 40, 31), (0, 0, 48, 40), (5, 3, 20, 27), (10, 0, 38, 40), (0, 12, 9, 9), (30, 20, 17, 11)]:
        add('resized_crop', 'big48x40', [i, j, h, w, 32],
            F.resized_crop(pil('big48x40'), i, j, h, w, [32, 32], T.InterpolationMode.BILINEAR))
    for name, size in [('big48x40', 36), ('rect9x13', 20), ('smooth32', 32), ('big48x40', 24)]:
        add('resize_shorter', name, size, F.resize(pil(name), size, T.InterpolationMode.BILINEAR))
    for name, size in [('big48x40', 32), ('big48x40', 33), ('rect9x13', 11), ('rect9x13', 8), ('rand5x7', 6)]:
        add('center_crop', name, size, F.center_crop(pil(name), [size, size]))
    return cases


# ---------------------------------------------------------------------------------------------------------
# Whole pipelines with explicit parameters

def to_normalized_hwc(img, mean, std):
    t = T.Normalize(mean, std)(T.ToTensor()(img))
    return t.permute(1, 2, 0).contiguous().numpy()


def official_cutout_hwc(x, length, cy, cx):
    # data/augment.py Cutout.__call__ with its random draws replaced by (length, cy, cx)
    h, w = x.shape[0], x.shape[1]
    mask = np.ones((h, w), np.float32)
    y1 = np.clip(cy - length // 2, 0, h)
    y2 = np.clip(cy + length // 2, 0, h)
    x1 = np.clip(cx - length // 2, 0, w)
    x2 = np.clip(cx + length // 2, 0, w)
    mask[y1:y2, x1:x2] = 0.
    return x * mask[:, :, None]


def ours_case(image, crop_size, flip, crop_top, crop_left, ops, cutout):
    img = pil(image)
    if flip:
        img = F.hflip(img)
    img = F.crop(img, crop_top, crop_left, crop_size, crop_size)
    for name, v in ops:
        img = official_op(img, name, v)
    x = to_normalized_hwc(img, CIFAR10_MEAN, CIFAR10_STD)
    if cutout is not None:
        x = official_cutout_hwc(x, *cutout)
    return {
        'image': image, 'cropSize': crop_size,
        'params': {'flip': flip, 'cropTop': crop_top, 'cropLeft': crop_left,
                   'ops': [{'name': n, 'value': v} for n, v in ops],
                   'cutout': None if cutout is None else {'length': cutout[0], 'centerY': cutout[1], 'centerX': cutout[2]}},
        'out': enc_float(x),
    }


def simclr_case(image, crop_size, box, flip, jitter, gray):
    img = F.resized_crop(pil(image), box[0], box[1], box[2], box[3], [crop_size, crop_size], T.InterpolationMode.BILINEAR)
    if flip:
        img = F.hflip(img)
    if jitter is not None:
        order, b, c, s, h = jitter
        for fn in order:  # ColorJitter.forward with get_params replaced
            if fn == 0 and b is not None:
                img = F.adjust_brightness(img, b)
            elif fn == 1 and c is not None:
                img = F.adjust_contrast(img, c)
            elif fn == 2 and s is not None:
                img = F.adjust_saturation(img, s)
            elif fn == 3 and h is not None:
                img = F.adjust_hue(img, h)
    if gray:
        img = F.rgb_to_grayscale(img, num_output_channels=3)
    x = to_normalized_hwc(img, CIFAR10_MEAN, CIFAR10_STD)
    return {
        'image': image, 'cropSize': crop_size,
        'params': {'crop': {'top': box[0], 'left': box[1], 'height': box[2], 'width': box[3]}, 'flip': flip,
                   'jitter': None if jitter is None else {'order': jitter[0], 'brightness': jitter[1], 'contrast': jitter[2],
                                                          'saturation': jitter[3], 'hue': jitter[4]},
                   'grayscale': gray},
        'out': enc_float(x),
    }


def random_ops(n):
    names = list(RANGES)
    picks = [names[pyrng.randrange(len(names))] for _ in range(n)]
    return [(p, random_magnitude(p)) for p in picks]


def pipeline_cases():
    ours = [
        ours_case('smooth32', 32, False, 0, 0, [('Identity', 0.5)], None),
        ours_case('smooth32', 32, True, 0, 0, [('Rotate', -12.5), ('Posterize', 5.7), ('Color', 0.31), ('Solarize', 140.2)], (16, 5, 30)),
        ours_case('smooth32', 32, False, 0, 0, [('ShearX', 0.08), ('Equalize', 0.1), ('TranslateY', -0.06), ('Sharpness', 0.5)], (7, 0, 0)),
        ours_case('big48x40', 32, True, 9, 5, [('AutoContrast', 0.9), ('Contrast', 0.2), ('ShearY', -0.03), ('Brightness', 0.66)], (1, 10, 10)),
        ours_case('big48x40', 32, False, 16, 8, random_ops(4), (12, 31, 2)),
        ours_case('narrow32', 32, True, 0, 0, random_ops(4), (16, 16, 16)),
    ]
    simclr = [
        simclr_case('smooth32', 32, (0, 0, 32, 32), False, None, False),
        simclr_case('smooth32', 32, (3, 5, 20, 24), True, ([2, 0, 3, 1], 0.71, 1.33, 0.9, -0.07), False),
        simclr_case('smooth32', 32, (10, 2, 15, 12), False, ([3, 2, 1, 0], 1.38, 0.62, 1.21, 0.095), True),
        simclr_case('big48x40', 32, (4, 6, 40, 31), True, ([1, 3, 0, 2], 1.05, 0.88, 0.6, 0.012), False),
        simclr_case('big48x40', 32, (20, 20, 9, 12), False, ([0, 1, 2, 3], 0.95, None, 1.4, None), True),
        simclr_case('big48x40', 32, (0, 0, 48, 40), True, None, True),
    ]
    val = []
    for image, resize, crop in [('big48x40', 0, 32), ('big48x40', 36, 32), ('smooth32', 0, 32), ('rect9x13', 0, 11)]:
        img = pil(image)
        if resize:
            img = F.resize(img, resize, T.InterpolationMode.BILINEAR)
        img = F.center_crop(img, [crop, crop])
        val.append({'image': image, 'resize': resize, 'cropSize': crop, 'out': enc_float(to_normalized_hwc(img, CIFAR10_MEAN, CIFAR10_STD))})
    # RandomResizedCrop's fallback (no try succeeds when scale > 1): deterministic
    fallback = []
    for (h, w) in [(10, 40), (40, 10), (20, 20), (33, 31)]:
        i, j, ch, cw = T.RandomResizedCrop.get_params(torch.zeros(3, h, w), scale=[2.0, 3.0], ratio=[3 / 4, 4 / 3])
        fallback.append({'height': h, 'width': w, 'crop': {'top': i, 'left': j, 'height': ch, 'width': cw}})
    return {'mean': CIFAR10_MEAN, 'std': CIFAR10_STD, 'ours': ours, 'simclr': simclr, 'val': val, 'rrcFallback': fallback}


def write_json(name, obj):
    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, name)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(obj, f, separators=(',', ':'))
        f.write('\n')
    os.replace(tmp, path)
    print(f'wrote {path} ({os.path.getsize(path)} bytes)')


def main():
    versions = {'pillow': PIL.__version__, 'torchvision': torchvision.__version__, 'torch': torch.__version__,
                'numpy': np.__version__}
    write_json('augment-ops.json', {'generator': 'tools/golden/augment/make_augment_goldens.py', 'versions': versions,
                                    'images': {k: enc_img(v) for k, v in IMAGES.items()}, 'cases': op_cases()})
    write_json('augment-pipelines.json', {'generator': 'tools/golden/augment/make_augment_goldens.py', 'versions': versions,
                                          **pipeline_cases()})


if __name__ == '__main__':
    main()
