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

import sys
from pathlib import Path

import torch

# The network whose outputs the TS models match (tools/golden/models parity goldens): the bench times exactly it.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "golden" / "models"))
from reference_models import ResNet18Scan  # noqa: E402


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
    model = ResNet18Scan('cifar', args.width).train()
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
