#!/usr/bin/env python3
"""bench_mlp_torch.py: PyTorch's half of bench/bench_mlp.c, the same MLP trained on the CPU.

  model  Linear 784->512, ReLU, Linear 512->10; F.cross_entropy on the logits
  optim  torch.optim.SGD, lr 0.01 (no momentum), batch 64

Trained and timed as bench/common/torch_common.py's bench_classifier says. Weights use
torch's own init: the values differ from libnn's, the work does not.
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

    torch.set_num_threads(args.threads)
    torch.manual_seed(42)
    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 10))
    return torch_common.bench_classifier(torch, model, (784,), args)


if __name__ == "__main__":
    sys.exit(main())
