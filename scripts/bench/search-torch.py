"""Forward + backward time of E[latency] in PyTorch (python/hwlat_torch.py), as a search loop calls it:
softmax(alpha) → E[latency] → ∂/∂alpha. Driven by scripts/bench/search-torch.ts; prints JSON.

    /usr/bin/python3 scripts/bench/search-torch.py EXPORT.json [EXPORT.json …] [--synthetic] [--reps 5] [--calls 300]

--synthetic adds exports of the forms a machine's fbnet predictor may lack, with the real shapes and
random figures (the time depends on the shapes only): ProxylessNAS-mobile with a residual MLP
(147 → 32 → 1, as hwlat train fits it) and NAS-Bench-201's enumerated form (15,625 architectures).
"""

import argparse
import json
import os
import random
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import hwlat_torch  # noqa: E402


def synthetic_exports():
    rng = random.Random(0)
    common = {"format": hwlat_torch.FORMAT, "device": "dev-synthetic", "calibration_ms": 1.0, "formula": [], "lut_fixed_ms": 1.0}
    L, C = 21, 7
    names = [[f"c{i}" for i in range(6)] + ["zero" if l % 4 else None] for l in range(L)]
    mask = [[n is not None for n in row] for row in names]
    grid = lambda: [[rng.uniform(0.05, 1) if mask[l][i] else 0 for i in range(C)] for l in range(L)]  # noqa: E731
    proxyless = dict(common, space="proxyless-mobile", kind="composite", layers=L, candidates=C, positions=[f"layer{l}" for l in range(L)],
                     candidate_names=names, form="additive", lut_ms=grid(), base=2.0, scores=grid(), mlp_mode="residual",
                     mlp=[{"W": [[rng.gauss(0, 0.1) for _ in range(32)] for _ in range(L * C)], "b": [0.0] * 32, "relu": True},
                          {"W": [[rng.gauss(0, 0.1)] for _ in range(32)], "b": [0.0], "relu": False}],
                     y_scale=1.0, floor_ms=0.1)
    archs = [[a // 5 ** (5 - l) % 5 for l in range(6)] for a in range(5 ** 6)]
    nb201 = dict(common, space="nasbench201", kind="composite", layers=6, candidates=5, positions=[f"edge{l}" for l in range(6)],
                 candidate_names=[["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]] * 6, form="enumerated",
                 lut_ms=[[0.0] * 5] * 6, archs=archs, arch_ms=[rng.uniform(1, 20) for _ in archs])
    return [("synthetic proxyless-mobile (residual MLP)", proxyless), ("synthetic nasbench201 (enumerated)", nb201)]


def time_calls(model, batch, validate, reps, calls):
    shape = (model.layers, model.candidates) if batch is None else (batch, model.layers, model.candidates)
    alpha = torch.randn(shape, generator=torch.Generator().manual_seed(1)).requires_grad_()

    def step():
        lat = model(model.softmax(alpha), validate=validate)
        (lat if batch is None else lat.sum()).backward()
        alpha.grad = None

    for _ in range(20):
        step()
    per_call = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(calls):
            step()
        per_call.append((time.perf_counter() - t0) / calls * 1000)
    return statistics.median(per_call)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("exports", nargs="*")
    ap.add_argument("--synthetic", action="store_true")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--calls", type=int, default=300)
    args = ap.parse_args()
    torch.set_num_threads(1)
    models = [(os.path.basename(p), hwlat_torch.load(p)) for p in args.exports]
    if args.synthetic:
        models += [(name, hwlat_torch.load(d)) for name, d in synthetic_exports()]
    rows = []
    for name, m in models:
        row = {"export": name, "space": m.space, "kind": m.kind, "form": m.form, "mlp_mode": m.mlp_mode, "layers": m.layers, "candidates": m.candidates,
               "fwd_bwd_ms": time_calls(m, None, False, args.reps, args.calls),
               "fwd_bwd_validated_ms": time_calls(m, None, True, args.reps, max(1, args.calls // 3)),
               "batch64_fwd_bwd_ms": time_calls(m, 64, False, args.reps, max(1, args.calls // 10))}
        rows.append(row)
        print(f"{name}: {row['fwd_bwd_ms']:.3f} ms", file=sys.stderr)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
