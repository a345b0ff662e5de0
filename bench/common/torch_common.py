"""torch_common.py: the PyTorch half of bench/common/bench_torch.{h,c}, shared by the bench_*_torch.py scripts.

A script builds its model and hands it to bench_classifier(), which trains it as
a plain fit loop does (opt.zero_grad(), forward, F.cross_entropy on the logits,
loss.backward(), opt.step(), plain SGD) on a pool of seeded random batches
(pixels in [0, 1), labels 0..9) made before timing, step i on batch i mod pool.
It is timed the way bench_rate_of does (warm-up, then up to --reps runs of
--steps steps, stopping after --budget s), and prints, for the C side to read:
  about <torch version, what does its GEMM, its thread pools>
  threads <torch threads> <BLAS threads>      (as the libraries report them)
  images_per_s <best> <median>
or `skip <reason>` when torch is not installed.

  --threads T   torch.set_num_threads(T), torch's intra-op pool
  --device D    cpu (default) or cuda: the model, the pool of batches and the steps on the
                GPU, each timed run ended by torch.cuda.synchronize() (a launch returns early)
  the BLAS's threads come from the environment (OPENBLAS_NUM_THREADS), which the
  library reads when it loads; the C side sets it for each run.
"""
import argparse
import ctypes
import os
import re
import statistics
import time


def arguments(description, lr=0.01):
    """The options every bench script takes (bench_torch_all passes them)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--pool", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--budget", type=float, default=3.0, help="no further runs after this many seconds")
    ap.add_argument("--lr", type=float, default=lr)
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    return ap.parse_args()


def import_torch():
    """torch, or None after printing the skip line the C side reads."""
    try:
        import torch
        return torch
    except ImportError:
        print("skip PyTorch not installed (apt-get install python3-torch); skipped")
        return None


def loaded_blas():
    """(paths, ctypes handle or None) of the OpenBLAS this process loaded, from /proc/self/maps."""
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
    return ("torch %s; fp32 GEMM: %s (%s); intra-op pool: %s; oneDNN %s" %
            (torch.__version__, gemm, ", ".join(real), backend,
             "built" if torch.backends.mkldnn.is_available() else "absent"))


def about_cuda(torch):
    return "torch %s; CUDA %s on %s; cuDNN %s; TF32 in matmul %s" % (
        torch.__version__, torch.version.cuda, torch.cuda.get_device_name(0), torch.backends.cudnn.version(),
        "on" if torch.backends.cuda.matmul.allow_tf32 else "off")


def bench_classifier(torch, model, example_shape, args):
    """Times SGD training of model on (batch, *example_shape) inputs with 10 classes."""
    import torch.nn.functional as F
    cuda = args.device == "cuda"
    if cuda and not torch.cuda.is_available():
        print("skip PyTorch sees no CUDA device (torch.cuda.is_available() is False); skipped")
        return 0
    model.to(args.device)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr)
    x_pool = torch.rand(args.pool * args.batch, *example_shape, device=args.device)
    y_pool = torch.randint(0, 10, (args.pool * args.batch,), device=args.device)
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

    def finish():
        if cuda:
            torch.cuda.synchronize()

    step = train(args.warmup, 0)  # also loads the BLAS, so it can be asked about below
    finish()
    if cuda:
        print("about " + about_cuda(torch))
        print("threads %d 0" % torch.get_num_threads())
    else:
        blas_paths, openblas = loaded_blas()
        print("about " + about(torch, blas_paths, openblas))
        print("threads %d %d" % (torch.get_num_threads(),
                                 openblas.openblas_get_num_threads() if openblas is not None else 0))
    per_s, spent = [], 0.0
    while len(per_s) < args.reps and (not per_s or spent < args.budget):
        t0 = time.perf_counter()
        step = train(args.steps, step)
        finish()
        seconds = time.perf_counter() - t0
        spent += seconds
        per_s.append(args.batch * args.steps / seconds)
    print("images_per_s %.1f %.1f" % (max(per_s), statistics.median(per_s)))
    return 0
