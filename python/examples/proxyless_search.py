#!/usr/bin/env python3
"""A ProxylessNAS-style architecture search in PyTorch with hwlat's latency model in the loss.

The supernet is FBNet's CIFAR space (22 searchable layers × 9 candidates: torchvision-style
inverted-residual MBConv blocks kK_eE[_g2] and skip) at reduced width, on 32×32 images generated
here (no downloads); a layer's candidates share weights as in Once-for-All (--separate-weights:
one module per candidate, ProxylessNAS's own supernet, which did not train in this budget). After
a warm-up of the weights on uniformly sampled paths the search alternates ProxylessNAS's two steps:

- weight step: one path per layer sampled from softmax(α), on the training split;
- architecture step: two paths per layer sampled from softmax(α), binarised gates (only one path
  active in the forward pass; the gradient reaches α through both, as ProxylessNAS's
  straight-through estimator does), on the validation split, with the loss
  ``ce + λ·(E[lat] − ref)/ref`` (ProxylessNAS add#linear; E[lat] = hwlat's model of softmax(α),
  ref = E[lat] of uniform α) or another of hwlat_torch's latency losses.

The argmax architecture is then trained from scratch with the same budget as a search without the
latency term (λ = 0), both are scored on held-out images, predicted by the latency model, and
measured on this machine through ``hwlat profile --arch`` (onnxruntime, full-width networks: what
the latency model predicts).

    hwlat profile --space fbnet --ops --networks 150 --db fbnet.sqlite       # this machine
    hwlat train --db fbnet.sqlite --device DEV --space fbnet --out models/fbnet
    hwlat export --model models/fbnet --space fbnet --format json --out fbnet_latency.json
    python3 python/examples/proxyless_search.py --latency-json fbnet_latency.json
    python3 python/examples/proxyless_search.py --collector http://127.0.0.1:8700 --device DEV
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.ops.misc import Conv2dNormActivation

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import hwlat_torch  # noqa: E402  (python/hwlat_torch.py; or `pip install ./python`)

# FBNet's CIFAR-100 space as hwlat's ops-library/spaces/fbnet.ts defines it
SPACE = "fbnet"
CANDIDATES = ["k3_e1", "k3_e1_g2", "k3_e3", "k3_e6", "k5_e1", "k5_e1_g2", "k5_e3", "k5_e6", "skip"]
STAGE_LAYERS = [1, 4, 4, 4, 4, 4, 1]
STAGE_CHANNELS = [16, 24, 32, 64, 112, 184, 352]
STAGE_STRIDES = [1, 1, 2, 2, 1, 2, 1]
STEM_CHANNELS, HEAD_CHANNELS = 16, 1504


def divisible(c: float, by: int = 4) -> int:
    """torchvision's _make_divisible: channels rounded to a multiple of `by`, never below 90%."""
    n = max(by, int(c + by / 2) // by * by)
    return n + by if n < 0.9 * c else n


def geometry(name: str) -> Optional[Dict[str, int]]:
    if name == "skip":
        return None
    parts = dict((p[0], int(p[1:])) for p in name.split("_"))
    return {"kernel": parts["k"], "expand": parts["e"], "groups": parts.get("g", 1)}


class ChannelShuffle(nn.Module):
    """torchvision's shufflenetv2 channel_shuffle (torch 1.13's nn.ChannelShuffle has no backward)."""

    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        return x.view(b, self.groups, c // self.groups, h, w).transpose(1, 2).reshape(b, c, h, w)


class MBConv(nn.Module):
    """FBNet's block in torchvision's style: 1×1 (group) conv expand, channel shuffle, depthwise K×K,
    1×1 (group) conv project, residual when the shape is kept."""

    def __init__(self, cin: int, cout: int, stride: int, kernel: int, expand: int, groups: int):
        super().__init__()
        mid = divisible(cin * expand, 2 * groups)
        layers: List[nn.Module] = [Conv2dNormActivation(cin, mid, 1, groups=groups, activation_layer=nn.ReLU)]
        if groups > 1:
            layers.append(ChannelShuffle(groups))
        layers += [
            Conv2dNormActivation(mid, mid, kernel, stride=stride, groups=mid, activation_layer=nn.ReLU),
            Conv2dNormActivation(mid, cout, 1, groups=groups, activation_layer=None),
        ]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout
        if self.residual:
            # the block starts as the identity (torchvision's zero_init_residual): 22 layers deep,
            # a fixed architecture otherwise sits at chance for its first ~150 steps here
            nn.init.zeros_(layers[-1][1].weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return x + y if self.residual else y


def candidate(name: str, cin: int, cout: int, stride: int) -> nn.Module:
    g = geometry(name)
    if g is None:
        # FBNet's skip: identity where the shape is kept, else a 1×1 conv (hwlat lowers it the same way)
        return nn.Identity() if (cin == cout and stride == 1) else Conv2dNormActivation(cin, cout, 1, stride=stride, activation_layer=nn.ReLU)
    return MBConv(cin, cout, stride, **g)


class SharedLayer(nn.Module):
    """One searchable layer whose candidates share weights as in Once-for-All (and `hwlat search`):
    one expand/depthwise/project weight at the largest candidate's size, each candidate using its
    leading channels, the kernel's centre and (g2) the block-diagonal part as a group conv; batch
    normalisation on the same channel slices. The supernet's features then mean the same thing
    whichever candidate ran before: with a separate network per candidate (ProxylessNAS's own
    supernet) the cross-entropy stayed at chance through 400 steps of sampled paths here, because
    the layers after a shape change saw a differently trained candidate every step."""

    KMAX = 5

    def __init__(self, cin: int, cout: int, stride: int, names: Sequence[str]):
        super().__init__()
        self.cin, self.cout, self.stride, self.names = cin, cout, stride, list(names)
        self.geoms = [geometry(n) for n in names]
        self.mids = [divisible(cin * g["expand"], 2 * g["groups"]) if g else 0 for g in self.geoms]
        m = max(self.mids)
        self.w_expand = nn.Parameter(torch.empty(m, cin, 1, 1))
        self.w_dw = nn.Parameter(torch.empty(m, 1, self.KMAX, self.KMAX))
        self.w_project = nn.Parameter(torch.empty(cout, m, 1, 1))
        for w in (self.w_expand, self.w_dw, self.w_project):
            nn.init.kaiming_normal_(w, mode="fan_out")
        self.bn_expand, self.bn_dw, self.bn_project = nn.BatchNorm2d(m), nn.BatchNorm2d(m), nn.BatchNorm2d(cout)
        self.residual = stride == 1 and cin == cout
        if self.residual:
            nn.init.zeros_(self.bn_project.weight)  # every block starts as the identity
        self.skip = nn.Identity() if self.residual else Conv2dNormActivation(cin, cout, 1, stride=stride, activation_layer=nn.ReLU)

    @staticmethod
    def _grouped(w: torch.Tensor, rows: int, cols: int, groups: int) -> torch.Tensor:
        """The block-diagonal part of the dense [rows, cols] weight, as a group conv's weight."""
        if groups == 1:
            return w[:rows, :cols]
        r, c = rows // groups, cols // groups
        return torch.cat([w[j * r:(j + 1) * r, j * c:(j + 1) * c] for j in range(groups)], 0)

    def _bn(self, bn: nn.BatchNorm2d, x: torch.Tensor, n: int) -> torch.Tensor:
        # slices of the running statistics are views: batch_norm updates the shared buffers in place
        return F.batch_norm(x, bn.running_mean[:n], bn.running_var[:n], bn.weight[:n], bn.bias[:n], self.training, bn.momentum, bn.eps)

    def forward(self, x: torch.Tensor, c: int) -> torch.Tensor:
        g = self.geoms[c]
        if g is None:
            return self.skip(x)
        k, groups, mid = g["kernel"], g["groups"], self.mids[c]
        h = F.conv2d(x, self._grouped(self.w_expand, mid, self.cin, groups), groups=groups)
        h = F.relu(self._bn(self.bn_expand, h, mid))
        if groups > 1:
            h = ChannelShuffle(groups)(h)
        o = (self.KMAX - k) // 2
        h = F.conv2d(h, self.w_dw[:mid, :, o:o + k, o:o + k], stride=self.stride, padding=k // 2, groups=mid)
        h = F.relu(self._bn(self.bn_dw, h, mid))
        h = F.conv2d(h, self._grouped(self.w_project, self.cout, mid, groups), groups=groups)
        h = self._bn(self.bn_project, h, self.cout)
        return x + h if self.residual else h


class Supernet(nn.Module):
    """The FBNet space at reduced width. Searching (`layers` None): every layer holds every
    candidate, weights shared (SharedLayer) or, with shared=False, a separate torchvision-style
    module per candidate (ProxylessNAS's supernet); a forward pass runs, per layer, the paths given
    with their gates. A derived architecture (`layers`: one candidate name per layer) is a plain
    network of torchvision-style modules."""

    def __init__(self, width_divisor: float, classes: int, layers: Optional[Sequence[str]] = None, shared: bool = True):
        super().__init__()
        c = divisible(STEM_CHANNELS / width_divisor)
        self.stem = Conv2dNormActivation(3, c, 3, stride=1, activation_layer=nn.ReLU)
        self.layers = nn.ModuleList()
        self.shared = shared and layers is None
        i = 0
        for n, out, stride in zip(STAGE_LAYERS, STAGE_CHANNELS, STAGE_STRIDES):
            cout = divisible(out / width_divisor)
            for k in range(n):
                s = stride if k == 0 else 1
                if self.shared:
                    self.layers.append(SharedLayer(c, cout, s, CANDIDATES))
                else:
                    names = CANDIDATES if layers is None else [layers[i]]
                    self.layers.append(nn.ModuleList([candidate(nm, c, cout, s) for nm in names]))
                c = cout
                i += 1
        head = divisible(HEAD_CHANNELS / width_divisor)
        self.head = nn.Sequential(Conv2dNormActivation(c, head, 1, activation_layer=nn.ReLU), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(head, classes))

    def _run(self, l: int, x: torch.Tensor, c: int) -> torch.Tensor:
        layer = self.layers[l]
        return layer(x, c) if self.shared else layer[c](x)

    def forward(self, x: torch.Tensor, paths: Sequence[Sequence[int]], gates: Optional[Sequence[torch.Tensor]] = None) -> torch.Tensor:
        x = self.stem(x)
        for l in range(len(self.layers)):
            if gates is None:
                x = self._run(l, x, paths[l][0])
            else:
                x = sum(gates[l][j] * self._run(l, x, c) for j, c in enumerate(paths[l]))
        return self.head(x)


# ------------------------------------------------------------------------------------------------
# data: 32×32 colour gratings, 10 classes (5 orientations × 2 frequencies), random phase, tint,
# contrast and strong noise — learnable, unlike FakeData's random labels, and hard enough that the
# architecture matters (300 steps from scratch at noise 2.5: 96% for a mid-sized FBNet member, 85%
# for a small one, 14% for all-skip), so accuracies can be compared


def gratings(n: int, seed: int, noise: float = 2.5) -> "tuple[torch.Tensor, torch.Tensor]":
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 10, (n,), generator=g)
    theta = (y % 5).float() * math.pi / 5 + (torch.rand(n, generator=g) - 0.5) * 0.25
    freq = torch.where(y < 5, torch.tensor(2.0), torch.tensor(4.0)) * (1 + (torch.rand(n, generator=g) - 0.5) * 0.2)
    phase = torch.rand(n, generator=g) * 2 * math.pi
    u = torch.linspace(0, 1, 32)
    yy, xx = torch.meshgrid(u, u, indexing="ij")
    arg = 2 * math.pi * freq[:, None, None] * (xx * torch.cos(theta)[:, None, None] + yy * torch.sin(theta)[:, None, None]) + phase[:, None, None]
    tint = 0.5 + torch.rand(n, 3, generator=g)
    img = torch.sin(arg)[:, None] * tint[:, :, None, None] * (0.5 + torch.rand(n, 1, 1, 1, generator=g))
    img = img + noise * torch.randn(img.shape, generator=g)
    return img, y


def fake_data(n: int, seed: int) -> "tuple[torch.Tensor, torch.Tensor]":
    """torchvision's FakeData (random images and labels: only the pipeline, no accuracy signal)."""
    from torchvision.datasets import FakeData
    from torchvision.transforms import ToTensor
    ds = FakeData(size=n, image_size=(3, 32, 32), num_classes=10, transform=ToTensor(), random_offset=seed)
    xs, ys = zip(*[ds[i] for i in range(n)])
    return torch.stack(xs), torch.tensor(ys)


# ------------------------------------------------------------------------------------------------
# the search


def batches(x: torch.Tensor, y: torch.Tensor, size: int, g: torch.Generator):
    while True:
        idx = torch.randint(0, len(x), (size,), generator=g)
        yield x[idx], y[idx]


def search(args, latency: hwlat_torch.ExpectedLatency, lam: float, data, seed: int, log) -> Dict:
    """ProxylessNAS's alternating search; returns the argmax architecture and the run's figures."""
    t0 = time.perf_counter()
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    (xt, yt), (xv, yv) = data["train"], data["valid"]
    net = Supernet(args.width_divisor, classes=10, shared=not args.separate_weights)
    alpha = torch.zeros(latency.layers, latency.candidates, requires_grad=True)
    w_opt = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=4e-5)
    a_opt = torch.optim.Adam([alpha], lr=args.arch_lr, betas=(0, 0.999), eps=1e-8)
    train_it, valid_it = batches(xt, yt, args.batch, g), batches(xv, yv, args.batch, g)
    ref = latency.uniform_ms()
    loss_fn = hwlat_torch.latency_loss(args.loss)
    n = len(CANDIDATES)

    def sample(k: int) -> List[List[int]]:
        p = latency.softmax(alpha.detach())[:, :n]
        return [torch.multinomial(p[l], k, replacement=False, generator=g).tolist() for l in range(latency.layers)]

    def weight_step(paths):
        x, y = next(train_it)
        w_opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(x, paths), y)
        loss.backward()
        w_opt.step()
        return float(loss)

    # warm-up: weights only, uniformly sampled paths (ProxylessNAS trains the weights first)
    for s in range(args.warmup):
        weight_step([[int(torch.randint(0, n, (1,), generator=g))] for _ in range(latency.layers)])
    trace = []
    for s in range(args.steps):
        weight_step(sample(1))
        # architecture step: binarised two-path gates; the forward pass runs the active path only,
        # the gradient reaches α through both (straight-through on the renormalised softmax)
        paths = sample(2)
        x, y = next(valid_it)
        gates = []
        for l, cs in enumerate(paths):
            w = torch.softmax(alpha[l, cs], dim=0)
            active = int(torch.multinomial(w.detach(), 1, generator=g))
            hard = torch.zeros(2)
            hard[active] = 1
            gates.append(hard + w - w.detach())
        ce = F.cross_entropy(net(x, paths, gates), y)
        lat = latency(latency.softmax(alpha), validate=False)          # E[latency], ms
        if lam > 0:
            loss = loss_fn(ce, lat, ref=ref, lambda_=lam) if args.loss == "proxyless-add-linear" else loss_fn(ce, lat * 1000, ref=ref * 1000)
        else:
            loss = ce
        a_opt.zero_grad(set_to_none=True)
        loss.backward()
        a_opt.step()
        if (s + 1) % max(1, args.steps // 5) == 0 or s == args.steps - 1:
            trace.append({"step": s + 1, "ce": round(float(ce), 4), "expected_ms": round(float(lat), 4)})
            log(f"  [{'λ=' + str(lam) if lam > 0 else 'no latency'}] step {s + 1}/{args.steps}: ce {float(ce):.3f}, E[lat] {float(lat):.3f} ms")
    probs = latency.softmax(alpha.detach())
    choices = [CANDIDATES[int(probs[l, :n].argmax())] for l in range(latency.layers)]
    return {
        "lambda": lam, "arch": "-".join(choices), "choices": choices,
        "expected_ms": float(latency(probs.double(), validate=False)),
        "predicted_ms": latency.predict(choices), "ref_ms": ref, "trace": trace,
        "search_seconds": round(time.perf_counter() - t0, 2),
    }


def train_and_score(args, choices: Sequence[str], data, seed: int) -> Dict:
    """The derived architecture trained from scratch (same budget and seed for every run), then
    its held-out accuracy."""
    t0 = time.perf_counter()
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed + 1)
    net = Supernet(args.width_divisor, classes=10, layers=choices)
    paths = [[0]] * len(choices)
    opt = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=4e-5)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(1, args.train_steps))
    it = batches(*data["train"], args.batch, g)
    for _ in range(args.train_steps):
        x, y = next(it)
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(net(x, paths), y).backward()
        opt.step()
        sched.step()
    net.eval()
    xs, ys = data["test"]
    with torch.no_grad():
        correct = sum(int((net(xs[i:i + 500], paths).argmax(1) == ys[i:i + 500]).sum()) for i in range(0, len(xs), 500))
    return {"accuracy": correct / len(xs), "train_seconds": round(time.perf_counter() - t0, 2)}


# ------------------------------------------------------------------------------------------------
# measuring through hwlat profile


def default_hwlat() -> List[str]:
    repo_bin = os.path.normpath(os.path.join(HERE, "..", "..", "bin", "hwlat.js"))
    return ["node", repo_bin] if os.path.exists(repo_bin) else ["hwlat"]


def measure(args, archs: Sequence[str], log) -> Dict:
    """`hwlat profile --arch …` of the found architectures (one pass, interleaved rounds with the
    calibration network), then their medians from `hwlat measurements`."""
    hw = shlex.split(args.hwlat) if args.hwlat else default_hwlat()
    with tempfile.TemporaryDirectory(prefix="hwlat-torch-search-") as tmp:
        db = os.path.join(tmp, "measure.sqlite")
        cmd = hw + ["profile", "--space", SPACE, "--db", db, "--json", "--repeats", str(args.profile_repeats), "--min-time", str(args.profile_min_time)]
        for a in dict.fromkeys(archs):
            cmd += ["--arch", a]
        log(f"measuring {len(set(archs))} architectures: {' '.join(shlex.quote(c) for c in cmd[:len(hw) + 3])} --arch …")
        prof = subprocess.run(cmd, capture_output=True, text=True)
        if prof.returncode != 0:
            raise RuntimeError(f"hwlat profile failed ({prof.returncode}): {prof.stderr.strip()}")
        summary = json.loads(prof.stdout)
        rows = subprocess.run(hw + ["measurements", "--db", db, "--level", "network", "--space", SPACE, "--json"], capture_output=True, text=True)
        if rows.returncode != 0:
            raise RuntimeError(f"hwlat measurements failed ({rows.returncode}): {rows.stderr.strip()}")
        ms = {m["key"]: m["stats"]["median"] for m in json.loads(rows.stdout)["measurements"]}
    missing = [a for a in archs if a not in ms]
    if missing:
        raise RuntimeError(f"hwlat profile stored no measurement of {missing}")
    return {"ms": {a: ms[a] for a in archs}, "calibration_ms": summary.get("calibrationMs"), "device": summary.get("device"), "quality": summary.get("quality", {}).get("text")}


# ------------------------------------------------------------------------------------------------


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="examples:\n  %(prog)s --latency-json fbnet_latency.json\n  %(prog)s --collector http://127.0.0.1:8700 --device dev-0123456789ab --lambda 1\n  %(prog)s --latency-json f.json --warmup 20 --steps 40 --train-steps 40 --json   # a quick run")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--latency-json", help="`hwlat export --space fbnet --format json` of the target device's predictor")
    src.add_argument("--collector", help="a collector's base URL: fetch the export of --device's fbnet predictor")
    ap.add_argument("--device", help="device id at the collector (with --collector)")
    ap.add_argument("--kind", help="predictor kind to fetch (default: the trained one)")
    ap.add_argument("--lambda", dest="lam", type=float, default=1.0, help="weight of the latency term (default 1.0)")
    ap.add_argument("--loss", default="proxyless-add-linear", choices=list(hwlat_torch.LATENCY_LOSSES), help="latency loss (default proxyless-add-linear: ce + λ·(E−ref)/ref)")
    ap.add_argument("--warmup", type=int, default=200, help="weight-only warm-up steps, uniformly sampled paths (default 200)")
    ap.add_argument("--steps", type=int, default=300, help="alternating weight + architecture steps (default 300)")
    ap.add_argument("--train-steps", type=int, default=300, help="steps training each derived architecture from scratch (default 300)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=0.05, help="weights' SGD learning rate")
    ap.add_argument("--arch-lr", type=float, default=0.01, help="α's Adam learning rate (ProxylessNAS: 1e-3 over many more steps)")
    ap.add_argument("--separate-weights", action="store_true", help="a separate module per candidate (ProxylessNAS's supernet) instead of weights shared as in Once-for-All")
    ap.add_argument("--width-divisor", type=float, default=8, help="supernet channels = the space's / n (default 8)")
    ap.add_argument("--data", choices=["gratings", "fakedata"], default="gratings", help="generated gratings (default) or torchvision FakeData")
    ap.add_argument("--noise", type=float, default=2.5, help="gratings' noise level (default 2.5; higher is harder)")
    ap.add_argument("--train-images", type=int, default=6000, help="20%% of them train α")
    ap.add_argument("--test-images", type=int, default=2000)
    ap.add_argument("--no-baseline", action="store_true", help="skip the search without the latency term")
    ap.add_argument("--no-measure", action="store_true", help="skip measuring the found architectures with hwlat profile")
    ap.add_argument("--hwlat", help="the hwlat command (default: this repository's `node bin/hwlat.js`, else `hwlat`)")
    ap.add_argument("--profile-repeats", type=int, default=10)
    ap.add_argument("--profile-min-time", type=float, default=200, help="ms per model per round (hwlat profile --min-time)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print the result as JSON on stdout (progress goes to stderr)")
    args = ap.parse_args(argv)
    if args.collector and not args.device:
        ap.error("--collector needs --device")
    for k in ("warmup", "steps", "train_steps"):
        if getattr(args, k) < 0:
            ap.error(f"--{k.replace('_', '-')} must be >= 0")
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    log = (lambda s: print(s, file=sys.stderr)) if args.json else print
    t0 = time.perf_counter()

    try:
        latency = hwlat_torch.load(args.latency_json, space=SPACE) if args.latency_json else hwlat_torch.fetch(args.collector, args.device, SPACE, kind=args.kind)
    except (hwlat_torch.LatencyExportError, hwlat_torch.SpaceMismatchError, hwlat_torch.CollectorError) as e:
        raise SystemExit(f"error: {e}") from None
    # the supernet's candidates must be the latency model's, layer for layer
    for l, row in enumerate(latency.candidate_names):
        if row != CANDIDATES:
            raise SystemExit(f"error: {latency.positions[l]} of the latency export has candidates {row}, the supernet {CANDIDATES}")
    log(f"latency model: '{latency.kind}' ({latency.form}, mlp {latency.mlp_mode}) of {latency.device_id}, E[lat] of uniform α {latency.uniform_ms():.3f} ms")

    if args.data == "gratings":
        x, y = gratings(args.train_images + args.test_images, args.seed, noise=args.noise)
    else:
        x, y = fake_data(args.train_images + args.test_images, args.seed)
    n_train = int(args.train_images * 0.8)
    data = {"train": (x[:n_train], y[:n_train]), "valid": (x[n_train:args.train_images], y[n_train:args.train_images]), "test": (x[args.train_images:], y[args.train_images:])}

    runs = {}
    plan = [("latency", args.lam)] + ([] if args.no_baseline else [("baseline", 0.0)])
    for name, lam in plan:
        log(f"search '{name}' (λ {lam}, {args.warmup} warm-up + {args.steps} steps)")
        r = search(args, latency, lam, data, args.seed, log)
        r.update(train_and_score(args, r["choices"], data, args.seed))
        log(f"  {name}: {r['arch']}\n  predicted {r['predicted_ms']:.3f} ms, held-out accuracy {100 * r['accuracy']:.1f}%")
        runs[name] = r

    measured = None
    if not args.no_measure:
        measured = measure(args, [r["arch"] for r in runs.values()], log)
        cal_now, cal_ref = measured["calibration_ms"], latency.calibration_ms
        for r in runs.values():
            r["measured_ms"] = measured["ms"][r["arch"]]
            # at the speed the latency model is expressed at (the calibration network's ratio)
            r["measured_at_model_speed_ms"] = r["measured_ms"] * cal_ref / cal_now if (cal_now and cal_ref) else None
            ref_ms = r["measured_at_model_speed_ms"] or r["measured_ms"]
            r["prediction_error"] = r["predicted_ms"] / ref_ms - 1

    out = {
        "space": SPACE,
        "latency_model": {"source": args.latency_json or f"{args.collector} {args.device}", "kind": latency.kind, "form": latency.form, "mlp_mode": latency.mlp_mode,
                          "device": latency.device_id, "calibration_ms": latency.calibration_ms, "uniform_ms": latency.uniform_ms()},
        "settings": {k: getattr(args, k) for k in ("lam", "loss", "warmup", "steps", "train_steps", "batch", "lr", "arch_lr", "width_divisor", "separate_weights", "data", "noise", "train_images", "test_images", "seed")},
        "runs": runs,
        "measurement": None if measured is None else {k: measured[k] for k in ("calibration_ms", "device", "quality")},
        "seconds": round(time.perf_counter() - t0, 1),
    }
    if "baseline" in runs:
        a, b = runs["latency"], runs["baseline"]
        out["comparison"] = {
            "predicted_reduction": 1 - a["predicted_ms"] / b["predicted_ms"],
            "measured_reduction": (1 - a["measured_ms"] / b["measured_ms"]) if measured else None,
            "accuracy_delta": a["accuracy"] - b["accuracy"],
        }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print()
        print(f"{'run':<10} {'λ':>5} {'accuracy':>9} {'predicted':>10} {'measured':>10}  arch")
        for name, r in runs.items():
            m = f"{r['measured_ms']:.3f} ms" if measured else "-"
            print(f"{name:<10} {r['lambda']:>5} {100 * r['accuracy']:>8.1f}% {r['predicted_ms']:>7.3f} ms {m:>10}  {r['arch']}")
        if "comparison" in out:
            c = out["comparison"]
            meas = f", measured {100 * c['measured_reduction']:.1f}%" if c["measured_reduction"] is not None else ""
            print(f"latency term: predicted latency {100 * c['predicted_reduction']:.1f}% lower{meas}; accuracy {100 * c['accuracy_delta']:+.1f} points")
        if measured:
            print(f"measured with hwlat profile on {measured['device']['name'] if measured['device'] else '?'}: calibration {cal_now:.3f} ms (model's {cal_ref}), {measured['quality']}")
        print(f"{out['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
