#!/usr/bin/env python3
"""PyTorch CPU reference for `npm run bench -- backend`: training steps/s of the SCAN ResNet-18 CIFAR variant.

Same network as packages/models (resnet18_cifar: 3x3 stem, no max-pool, BasicBlocks [2,2,2,2], global average
pool; base width configurable), same step as the TypeScript benchmark: forward in training mode (batch-norm with
batch statistics), loss = mean(features^2), backward, plain SGD update. Prints one JSON line:
{"width": .., "batch": .., "threads": .., "steps": .., "seconds_per_step": [..], "images_per_second": ..}
where images_per_second uses the median step time.
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, in_planes: int, planes: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet18Cifar(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        layers, in_planes = [], width
        for stage, planes in enumerate([width, 2 * width, 4 * width, 8 * width]):
            blocks = []
            for i in range(2):
                stride = 2 if stage > 0 and i == 0 else 1
                blocks.append(BasicBlock(in_planes, planes, stride))
                in_planes = planes
            layers.append(nn.Sequential(*blocks))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        out = self.layers(F.relu(self.bn1(self.conv1(x))))
        return torch.flatten(F.adaptive_avg_pool2d(out, 1), 1)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=3, help="timed steps (after --warmup)")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--size", type=int, default=32, help="image side")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = ResNet18Cifar(args.width).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x = torch.randn(args.batch, 3, args.size, args.size)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        loss = model(x).pow(2).mean()
        loss.backward()
        opt.step()

    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    print(json.dumps({
        "width": args.width, "batch": args.batch, "threads": args.threads, "steps": args.steps,
        "seconds_per_step": [round(t, 4) for t in times], "images_per_second": args.batch / median,
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
