#!/usr/bin/env python3
"""bench_cnn_torch.py: PyTorch's half of bench/bench_cnn.c, the seeds' CNN trained on the CPU.

  model  Conv2d(1, 32, 3), ReLU, MaxPool2d(2), Conv2d(32, 64, 3), ReLU, MaxPool2d(2),
         Flatten, Linear(1600, 10); F.cross_entropy on the logits (34,826 params)
  optim  torch.optim.SGD, lr 0.01 (no momentum), batch 64, x (64, 1, 28, 28)

Trained and timed as bench/common/torch_common.py's bench_classifier says. Torch's own
init; its convolutions go through oneDNN where torch has it (it says in `about`).
Options, timing and output: bench/common/torch_common.py.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "common"))
import torch_common  # noqa: E402


def main():
    args = torch_common.arguments(__doc__.splitlines()[0])
    torch = torch_common.import_torch()
    if torch is None:
        return 0
    import torch.nn as nn

    torch.set_num_threads(args.threads)
    torch.manual_seed(42)
    model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 10))
    return torch_common.bench_classifier(torch, model, (1, 28, 28), args)


if __name__ == "__main__":
    sys.exit(main())
