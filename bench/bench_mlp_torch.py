#!/usr/bin/env python3
"""bench_mlp_torch.py: PyTorch's half of bench/bench_mlp.c, the same MLP trained on the CPU.

  model  Linear 784->512, ReLU, Linear 512->10; F.cross_entropy on the logits
  optim  torch.optim.SGD, lr 0.01 (no momentum), batch 64

One step is a plain fit loop's: opt.zero_grad(), forward, loss, loss.backward(),
opt.step(). The input is a pool of seeded random batches (pixels in [0, 1),
labels 0..9), made before timing; step i trains on batch i mod pool. Weights use
torch's own init: the values differ from libnn's, the work does not.

  --threads T   torch.set_num_threads(T), torch's intra-op pool
  the BLAS's threads come from the environment (OPENBLAS_NUM_THREADS), which the
  library reads when it loads; bench_mlp sets it for each run.

Prints, for bench_mlp to read:
  about <torch version, what does its GEMM, its thread pools>
  threads <torch threads> <BLAS threads>      (as the libraries report them)
  images_per_s <best> <median>
or `skip <reason>` when torch is not installed.
"""
import argparse
import ctypes
import os
import re
import statistics
import sys
import time


def loaded_blas():
    """(path, ctypes handle or None) of the OpenBLAS this process loaded, from /proc/self/maps."""
    paths = []
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split()[-1]
                if "blas" in os.path.basename(path) and path not in paths:
                    paths.append(path)
    except OSError:
        return [], None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_get_num_threads  # raises AttributeError unless OpenBLAS
            lib.openblas_get_config.restype = ctypes.c_char_p
            return paths, lib
        except (OSError, AttributeError):
            continue
    return paths, None


def about(torch, blas_paths, openblas):
    found = re.search(r"BLAS_INFO=[^,\s]*", torch.__config__.show())
    blas_info = found.group(0) if found else "BLAS_INFO=?"
    if openblas is not None:
        gemm = "%s -> %s" % (blas_info, openblas.openblas_get_config().decode())
    else:
        gemm = "%s -> %s" % (blas_info, ", ".join(blas_paths) or "no BLAS library loaded")
    real = [os.path.realpath(p) for p in blas_paths]
    parallel = torch.__config__.parallel_info()
    backend = next((l.split(":", 1)[1].strip() for l in parallel.splitlines()
                    if l.startswith("ATen parallel backend")), "?")
    return ("torch %s; Linear's fp32 GEMM: %s (%s); intra-op pool: %s; oneDNN %s" %
            (torch.__version__, gemm, ", ".join(real), backend,
             "built" if torch.backends.mkldnn.is_available() else "absent"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--pool", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--budget", type=float, default=3.0, help="no further runs after this many seconds")
    ap.add_argument("--lr", type=float, default=0.01)
    args = ap.parse_args()
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        print("skip PyTorch not installed (apt-get install python3-torch); skipped")
        return 0

    torch.set_num_threads(args.threads)
    torch.manual_seed(42)
    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 10))
    opt = torch.optim.SGD(model.parameters(), lr=args.lr)
    x_pool = torch.rand(args.pool * args.batch, 784)
    y_pool = torch.randint(0, 10, (args.pool * args.batch,))
    batches = [(x_pool[b * args.batch:(b + 1) * args.batch], y_pool[b * args.batch:(b + 1) * args.batch])
               for b in range(args.pool)]

    def train(steps, start):
        for i in range(start, start + steps):
            x, y = batches[i % args.pool]
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
        return start + steps

    step = train(args.warmup, 0)  # also loads the BLAS, so it can be asked about below
    blas_paths, openblas = loaded_blas()
    print("about " + about(torch, blas_paths, openblas))
    print("threads %d %d" % (torch.get_num_threads(),
                             openblas.openblas_get_num_threads() if openblas is not None else 0))
    per_s, spent = [], 0.0
    while len(per_s) < args.reps and spent < args.budget:
        t0 = time.perf_counter()
        step = train(args.steps, step)
        seconds = time.perf_counter() - t0
        spent += seconds
        per_s.append(args.batch * args.steps / seconds)
    print("images_per_s %.1f %.1f" % (max(per_s), statistics.median(per_s)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
