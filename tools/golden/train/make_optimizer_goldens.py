"""Golden values for @scan-repro/train's optimizers: a few steps of torch.optim.SGD / torch.optim.Adam on fixed
parameters and fixed gradients (no model: the gradients are given, so only the update rule is tested).

Run from the repo root:
  .venv-tools/bin/python tools/golden/train/make_optimizer_goldens.py
writes packages/train/test/fixtures/optimizer-goldens.json.

Cases cover: momentum with the first-step buffer copy, nesterov, weight decay added to the gradient, a learning
rate that changes between steps (cosine schedule), a parameter that gets no gradient in one step (PyTorch skips
it: no decay, no momentum update, and for Adam its own step count stays behind), and Adam's bias correction.
"""
import json
import math
from pathlib import Path

import numpy as np
import torch

OUT = Path(__file__).resolve().parents[3] / "packages/train/test/fixtures/optimizer-goldens.json"
STEPS = 5
SHAPES = {"a.weight": [3, 4], "b.bias": [5]}
SKIP = {("b.bias", 2)}  # (param, step) without a gradient


def lrs(base):
    # the cosine-per-epoch schedule with eta_min = lr * 0.1^3, one "epoch" per step
    eta_min = base * 0.1 ** 3
    return [eta_min + (base - eta_min) * (1 + math.cos(math.pi * t / STEPS)) / 2 for t in range(STEPS)]


def run_case(name, make_opt, base_lr, rng):
    init = {k: rng.standard_normal(s).astype(np.float32) for k, s in SHAPES.items()}
    grads = [{k: rng.standard_normal(s).astype(np.float32) for k, s in SHAPES.items()} for _ in range(STEPS)]
    params = {k: torch.nn.Parameter(torch.tensor(v)) for k, v in init.items()}
    opt = make_opt(list(params.values()), base_lr)
    schedule = lrs(base_lr)
    after = []
    for t in range(STEPS):
        for g in opt.param_groups:
            g["lr"] = schedule[t]
        for k, p in params.items():
            p.grad = None if (k, t) in SKIP else torch.tensor(grads[t][k])
        opt.step()
        after.append({k: p.detach().numpy().ravel().tolist() for k, p in params.items()})
    return {
        "name": name,
        "lrs": schedule,
        "init": {k: v.ravel().tolist() for k, v in init.items()},
        "grads": [{k: (None if (k, t) in SKIP else g[k].ravel().tolist()) for k in SHAPES} for t, g in enumerate(grads)],
        "after": after,
    }


def main():
    rng = np.random.default_rng(20200708)
    cases = [
        ("sgd momentum 0.9 wd 1e-4", dict(optimizer="sgd", lr=0.4, momentum=0.9, nesterov=False, weight_decay=1e-4),
         lambda ps, lr: torch.optim.SGD(ps, lr=lr, momentum=0.9, weight_decay=1e-4)),
        ("sgd nesterov wd 5e-4", dict(optimizer="sgd", lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4),
         lambda ps, lr: torch.optim.SGD(ps, lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4)),
        ("sgd no momentum", dict(optimizer="sgd", lr=5.0, momentum=0.0, nesterov=False, weight_decay=0.0),
         lambda ps, lr: torch.optim.SGD(ps, lr=lr)),
        ("adam wd 1e-4", dict(optimizer="adam", lr=1e-4, momentum=0.9, nesterov=False, weight_decay=1e-4),
         lambda ps, lr: torch.optim.Adam(ps, lr=lr, weight_decay=1e-4, foreach=False)),
        ("adam lr 0.01 wd 0.1", dict(optimizer="adam", lr=1e-2, momentum=0.9, nesterov=False, weight_decay=0.1),
         lambda ps, lr: torch.optim.Adam(ps, lr=lr, weight_decay=0.1, foreach=False)),
    ]
    out = {"torch": torch.__version__, "shapes": SHAPES, "cases": []}
    for name, cfg, make in cases:
        case = run_case(name, make, cfg["lr"], rng)
        case["config"] = cfg
        out["cases"].append(case)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out))
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, torch {torch.__version__})")


if __name__ == "__main__":
    main()
