"""Tests of python/hwlat_torch.py (unittest, torch only).

Standalone: `/usr/bin/python3 -m unittest discover -s tests/python -v` runs the checks on small
hand-written exports. tests/torch/hwlat-torch.test.ts runs the same suite with reference figures
from hwlat's TypeScript model (env HWLAT_TORCH_CASES, HWLAT_TORCH_COLLECTOR, HWLAT_TORCH_CLI);
without them those tests skip.
"""

import copy
import json
import math
import os
import random
import sys
import unittest

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import hwlat_torch  # noqa: E402  (imported by path, as a user without pip does)

CASES = os.environ.get("HWLAT_TORCH_CASES")
COLLECTOR = os.environ.get("HWLAT_TORCH_COLLECTOR")
CLI = os.environ.get("HWLAT_TORCH_CLI")
#: the agreement asked of the torch module and the TypeScript model
TOL = 1e-4


def close(a, b, tol=TOL):
    """|a − b| ≤ tol·max(1, |a|, |b|): relative above 1 ms, absolute below."""
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


# ----------------------------------------------------------------------------------------------
# small hand-written exports (3 layers; layer 2 has 2 of 3 candidates, column 2 is padding)


def tiny_additive(mlp_mode=None, floor=0.05):
    L, C = 3, 3
    rng = random.Random(7)
    names = [["a", "b", "c"], ["a", "b", "c"], ["a", "b", None]]
    scores = [[round(rng.uniform(0.1, 1.0), 6) if n is not None else 0 for n in row] for row in names]
    d = {
        "format": "hwlat-latency-model/1", "space": "tiny", "device": "dev-test", "kind": "composite",
        "calibration_ms": 1.0, "layers": L, "candidates": C, "positions": ["l0", "l1", "l2"],
        "candidate_names": names, "form": "additive", "formula": [], "lut_fixed_ms": 0.5, "lut_ms": copy.deepcopy(scores),
        "base": 0.5, "scores": scores, "mlp_mode": mlp_mode, "mlp": [], "y_scale": 1.0, "floor_ms": floor,
    }
    if mlp_mode is not None:
        W0 = [[round(rng.uniform(-1, 1), 6) if names[k // C][k % C] is not None else 0 for _ in range(4)] for k in range(L * C)]
        d["mlp"] = [
            {"W": W0, "b": [round(rng.uniform(-0.3, 0.3), 6) for _ in range(4)], "relu": True},
            {"W": [[round(rng.uniform(-0.5, 0.5), 6)] for _ in range(4)], "b": [0.1], "relu": False},
        ]
        if mlp_mode == "encoding":
            d["y_scale"] = 2.5
    return d


def tiny_enumerated():
    names = [["x", "y"], ["x", "y", "z"]]
    names = [r + [None] * (3 - len(r)) for r in names]
    archs = [[a, b] for a in range(2) for b in range(3)]
    return {
        "format": "hwlat-latency-model/1", "space": "tiny-cell", "device": "dev-test", "kind": "composite",
        "calibration_ms": None, "layers": 2, "candidates": 3, "positions": ["e0", "e1"], "candidate_names": names,
        "form": "enumerated", "formula": [], "lut_fixed_ms": 0, "lut_ms": [[0, 0, 0], [0, 0, 0]],
        "archs": archs, "arch_ms": [1.0 + a + 0.5 * b + 0.3 * a * b for a, b in archs],
    }


def formula(d, p):
    """The export's documented formula, in plain Python floats (p: nested lists)."""
    L, C = d["layers"], d["candidates"]
    if d["form"] == "enumerated":
        total = 0.0
        for arch, ms in zip(d["archs"], d["arch_ms"]):
            pr = 1.0
            for l, i in enumerate(arch):
                pr *= p[l][i]
            total += pr * ms
        return total
    x = [p[l][i] for l in range(L) for i in range(C)]
    lin = d["base"] + sum(x[k] * d["scores"][k // C][k % C] for k in range(L * C))
    h = x
    for layer in d["mlp"]:
        h = [sum(h[r] * layer["W"][r][u] for r in range(len(h))) + layer["b"][u] for u in range(len(layer["b"]))]
        if layer["relu"]:
            h = [max(0.0, v) for v in h]
    if d["mlp_mode"] == "residual":
        y = lin * (0.1 + max(0.0, 0.9 + h[0]))
    elif d["mlp_mode"] == "encoding":
        y = d["y_scale"] * h[0]
    else:
        y = lin
    if d["floor_ms"] is not None:
        y = d["floor_ms"] + max(0.0, y - d["floor_ms"])
    return y


def random_probs(model, gen, spread=2.0, dtype=torch.float64):
    logits = torch.randn(model.layers, model.candidates, generator=gen, dtype=dtype) * spread
    return model.softmax(logits)


def tangent_direction(model, gen):
    """A direction inside the simplex: rows sum to 0, padding untouched."""
    d = torch.randn(model.layers, model.candidates, generator=gen, dtype=torch.float64) * model.mask
    return (d - (d.sum(-1, keepdim=True) / model.mask.sum(-1, keepdim=True)) * model.mask)


class FormulaTests(unittest.TestCase):
    def test_each_form_is_the_documented_formula(self):
        gen = torch.Generator().manual_seed(1)
        for d in (tiny_additive(None), tiny_additive("residual"), tiny_additive("encoding", floor=None), tiny_enumerated()):
            m = hwlat_torch.load(d).double()
            for _ in range(4):
                p = random_probs(m, gen)
                # the module holds the constants in float32 (torch's default dtype): 1e-6, not 1e-12
                self.assertTrue(close(float(m(p)), formula(d, p.tolist()), 1e-6), d.get("mlp_mode", d["form"]))

    def test_the_floor_holds_predictions_up(self):
        d = tiny_additive(None, floor=100.0)
        m = hwlat_torch.load(d).double()
        self.assertEqual(float(m(m.softmax(torch.zeros(3, 3, dtype=torch.float64)))), 100.0)

    def test_batches_give_each_grids_value(self):
        gen = torch.Generator().manual_seed(2)
        for d in (tiny_additive("residual"), tiny_enumerated()):
            m = hwlat_torch.load(d).double()
            batch = torch.stack([random_probs(m, gen) for _ in range(5)])
            out = m(batch)
            self.assertEqual(tuple(out.shape), (5,))
            for b in range(5):
                self.assertAlmostEqual(float(out[b]), float(m(batch[b])), places=12)
            self.assertEqual(m(batch[0]).dim(), 0)

    def test_enumerated_contraction_equals_the_product_over_any_arch_order(self):
        d = tiny_enumerated()
        shuffled = copy.deepcopy(d)
        order = list(range(len(d["archs"])))
        random.Random(3).shuffle(order)
        shuffled["archs"] = [d["archs"][i] for i in order]
        shuffled["arch_ms"] = [d["arch_ms"][i] for i in order]
        fast, general = hwlat_torch.load(d).double(), hwlat_torch.load(shuffled).double()
        self.assertIsNotNone(fast._radix)
        self.assertIsNone(general._radix)
        gen = torch.Generator().manual_seed(4)
        for _ in range(3):
            p = random_probs(fast, gen).requires_grad_()
            a, = torch.autograd.grad(fast(p), p)
            b, = torch.autograd.grad(general(p), p)
            self.assertAlmostEqual(float(fast(p)), float(general(p)), places=12)
            self.assertTrue(torch.allclose(a, b, atol=1e-12))

    def test_gradients_reach_the_architecture_logits(self):
        m = hwlat_torch.load(tiny_additive("residual"))
        alpha = torch.zeros(3, 3, requires_grad=True)
        lat = m(m.softmax(alpha))
        lat.backward()
        self.assertEqual(alpha.grad.shape, (3, 3))
        self.assertEqual(float(alpha.grad[2, 2]), 0.0)  # padding
        self.assertGreater(float(alpha.grad.abs().sum()), 0.0)
        self.assertEqual(float(m.softmax(alpha)[2, 2]), 0.0)

    def test_one_hot_predict_and_helpers(self):
        d = tiny_additive("residual")
        m = hwlat_torch.load(d)
        grid = m.one_hot(["b", 2, "a"])
        self.assertEqual(grid.tolist(), [[0, 1, 0], [0, 0, 1], [1, 0, 0]])
        self.assertTrue(close(m.predict(["b", "c", "a"]), formula(d, m.one_hot(["b", "c", "a"]).tolist()), 1e-6))
        self.assertGreater(m.uniform_ms(), 0)
        self.assertIn("space='tiny'", repr(m))


class CheckTests(unittest.TestCase):
    def setUp(self):
        self.m = hwlat_torch.load(tiny_additive("residual"))

    def assertProbsError(self, probs, pattern):
        with self.assertRaises(hwlat_torch.ProbsError) as cm:
            self.m(probs)
        self.assertRegex(str(cm.exception), pattern)

    def uniform(self):
        return self.m.softmax(torch.zeros(3, 3))

    def test_wrong_shape_names_the_expected_shape(self):
        self.assertProbsError(torch.full((3, 4), 0.25), r"shape \[3, 3\] \(layers × candidates of 'tiny'\) or \[batch, 3, 3\], got \[3, 4\]")
        self.assertProbsError(torch.full((9,), 1 / 3), r"got \[9\]")
        self.assertProbsError(torch.full((2, 2, 3, 3), 1 / 3), r"got \[2, 2, 3, 3\]")

    def test_a_grid_of_another_space_is_named(self):
        self.assertProbsError(torch.full((6, 5), 0.2), r"\[6, 5\] is the grid of nasbench201: is this the latency model of the supernet's space\?")
        self.assertProbsError(torch.full((4, 22, 9), 1 / 9), r"\[22, 9\] is the grid of fbnet")

    def test_rows_must_sum_to_one(self):
        self.assertProbsError(torch.full((3, 3), 0.5) * self.m.mask, r"'probs' row 0 \(l0\) sums to 1\.5, expected 1 \(±0\.001\).*not logits")
        logits = torch.randn(3, 3).masked_fill(~self.m.mask, 0)
        self.assertProbsError(logits.abs(), r"sums to")
        batch = torch.stack([self.uniform(), self.uniform() * 0.9])
        self.assertProbsError(batch, r"'probs\[1\]' row 0 \(l0\) sums to 0\.9")

    def test_negative_nonfinite_and_padding_values(self):
        p = self.uniform().clone()
        p[1, 2] = -0.1
        self.assertProbsError(p, r"'probs\[1\]\[2\]' is -0\.1.*>= 0")
        p = self.uniform().clone()
        p[0, 0] = float("nan")
        self.assertProbsError(p, r"'probs\[0\]\[0\]' is nan: probabilities must be finite")
        p = torch.tensor([[1.0, 0, 0], [1.0, 0, 0], [0.5, 0, 0.5]])
        self.assertProbsError(p, r"'probs\[2\]\[2\]' is 0\.5, but l2 of 'tiny' has only 2 candidates: padding columns must be 0")

    def test_validation_can_be_turned_off_and_integers_are_refused(self):
        m = hwlat_torch.load(tiny_additive("residual"), validate=False)
        m(torch.full((3, 3), 0.5))  # no check in a hot loop
        self.assertProbsError(torch.ones(3, 3, dtype=torch.long), r"floating-point tensor, got torch\.int64")

    def test_wrong_space(self):
        with self.assertRaises(hwlat_torch.SpaceMismatchError) as cm:
            hwlat_torch.load(tiny_additive(), space="fbnet")
        self.assertIn("the latency export is of space 'tiny', not 'fbnet'", str(cm.exception))
        with self.assertRaises(hwlat_torch.ProbsError) as cm:
            self.m.one_hot(["a", "b", "c"])
        self.assertIn("'c' is not a candidate of l2 of 'tiny'; known: a, b", str(cm.exception))

    def test_unknown_format_version_and_malformed_exports(self):
        cases = [
            (lambda d: d.update(format="hwlat-latency-model/2"), "format", r"unknown format version 'hwlat-latency-model/2': this hwlat_torch .* reads 'hwlat-latency-model/1'"),
            (lambda d: d.pop("format"), "format", r"no 'format' field: it is not an hwlat latency export"),
            (lambda d: d.update(form="tree"), "form", r"unknown form 'tree'; known: additive, enumerated"),
            (lambda d: d.update(scores=[[1, 2, 3]]), "scores", r"'scores' must be a list of 3 rows, got 1"),
            (lambda d: d["scores"][1].__setitem__(1, "x"), "scores", r"'scores\[1\]\[1\]' must be a finite number, got 'x'"),
            (lambda d: d.update(mlp_mode="boost"), "mlp_mode", r"unknown mlp_mode 'boost'"),
            (lambda d: d["mlp"][0].update(W=d["mlp"][0]["W"][:4]), "mlp", r"'mlp\[0\]\.W' must have 9 rows"),
            (lambda d: d.update(base=None), "base", r"'base' must be a finite number, got None"),
            (lambda d: d.update(layers=0), "layers", r"'layers' must be an integer >= 1, got 0"),
        ]
        for mutate, field, pattern in cases:
            d = tiny_additive("residual")
            mutate(d)
            with self.assertRaises(hwlat_torch.LatencyExportError, msg=pattern) as cm:
                hwlat_torch.load(d)
            self.assertRegex(str(cm.exception), pattern)
            self.assertEqual(cm.exception.field, field)
        d = tiny_enumerated()
        d["archs"][0] = [0, 3]
        with self.assertRaisesRegex(hwlat_torch.LatencyExportError, r"'archs\[0\]\[1\]' must be a candidate index in 0\.\.2, got 3"):
            hwlat_torch.load(d)
        with self.assertRaisesRegex(hwlat_torch.LatencyExportError, r"not valid JSON"):
            hwlat_torch.loads("{not json")
        with self.assertRaisesRegex(hwlat_torch.LatencyExportError, r"cannot read the latency export '/nonexistent/x\.json'"):
            hwlat_torch.load("/nonexistent/x.json")

    def test_loss_arguments(self):
        with self.assertRaisesRegex(ValueError, r"'ref' \(the reference latency, ms\) is required"):
            hwlat_torch.proxyless_mul_log(1.0, 5.0)
        with self.assertRaisesRegex(ValueError, r"'ref' must be a number > 0, got -2"):
            hwlat_torch.proxyless_add_linear(1.0, 5.0, ref=-2)
        with self.assertRaisesRegex(KeyError, r"unknown latency loss 'nope'; known: proxyless-mul-log, proxyless-add-linear, fbnet"):
            hwlat_torch.latency_loss("nope")


# ----------------------------------------------------------------------------------------------
# against hwlat's TypeScript model


def _cases():
    with open(CASES) as f:
        return json.load(f)


@unittest.skipUnless(CASES, "HWLAT_TORCH_CASES not set: tests/torch/hwlat-torch.test.ts provides the TypeScript reference figures")
class AgainstTypeScriptTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = _cases()
        cls.models = {c["name"]: hwlat_torch.load(c["path"], space=c["space"]).double() for c in cls.data["cases"]}

    def test_every_form_and_space_is_covered(self):
        seen = {(c["space"], c["form"]) for c in self.data["cases"]}
        for space in ("fbnet", "proxyless-mobile"):
            for form in ("lut-sum", "linear", "residual", "encoding"):
                self.assertIn((space, form), seen)
        self.assertIn(("nasbench201", "enumerated"), seen)
        for c in self.data["cases"]:
            m = self.models[c["name"]]
            self.assertEqual(m.mlp_mode, c["mlp_mode"], c["name"])
            self.assertEqual(m.form, "enumerated" if c["form"] == "enumerated" else "additive")

    def test_value_equals_typescript_on_one_hot_and_random_probabilities(self):
        for c in self.data["cases"]:
            m = self.models[c["name"]]
            for pt in c["points"]:
                p = torch.tensor(pt["probs"], dtype=torch.float64)
                v = float(m(p))
                self.assertTrue(close(v, pt["value"]), f"{c['name']} {pt['what']}: torch {v} vs tfjs {pt['value']}")
                if pt["predict"] is not None:
                    # a one-hot grid is the predictor's own prediction of that architecture (`hwlat predict`)
                    self.assertTrue(close(v, pt["predict"]), f"{c['name']} {pt['what']}: torch {v} vs predict {pt['predict']}")
            # float32, as a search loop runs it
            p32 = torch.tensor(c["points"][-1]["probs"], dtype=torch.float32)
            self.assertTrue(close(float(hwlat_torch.load(c["path"])(p32)), c["points"][-1]["value"]), f"{c['name']} float32")

    def test_batch_equals_typescript(self):
        for c in self.data["cases"]:
            m = self.models[c["name"]]
            out = m(torch.tensor([pt["probs"] for pt in c["points"]], dtype=torch.float64))
            for v, pt in zip(out.tolist(), c["points"]):
                self.assertTrue(close(v, pt["value"]), f"{c['name']} batch {pt['what']}: {v} vs {pt['value']}")

    def test_autograd_gradient_equals_typescript_and_finite_differences(self):
        gen = torch.Generator().manual_seed(11)
        for c in self.data["cases"]:
            m = self.models[c["name"]]
            for pt in c["points"]:
                p = torch.tensor(pt["probs"], dtype=torch.float64, requires_grad=True)
                g, = torch.autograd.grad(m(p), p)
                ts = torch.tensor(pt["grad"], dtype=torch.float64)
                scale = max(1.0, float(ts.abs().max()))
                self.assertLess(float((g - ts).abs().max()), TOL * scale, f"{c['name']} {pt['what']}: autograd vs tfjs gradient")
                # central differences along directions in the simplex (and one off it: the formula
                # is defined on any grid); a ReLU kink inside ±eps is the one way to miss, so a
                # smaller step is tried before calling the gradient wrong
                x = p.detach()
                for k in range(3):
                    d = tangent_direction(m, gen) if k < 2 else torch.randn(x.shape, generator=gen, dtype=torch.float64) * m.mask
                    an = float((g * d).sum())
                    fds = []
                    for eps in (1e-6, 1e-7):
                        fds.append((float(m(x + eps * d, validate=False)) - float(m(x - eps * d, validate=False))) / (2 * eps))
                    self.assertTrue(any(abs(fd - an) <= 1e-5 * max(1.0, abs(an)) for fd in fds),
                                    f"{c['name']} {pt['what']}: finite differences {fds} vs autograd {an}")

    def test_gradcheck_through_softmax(self):
        # torch's own check (every coordinate) of E[latency](softmax(alpha)), as a search loop differentiates it
        gen = torch.Generator().manual_seed(12)
        for c in self.data["cases"]:
            m = self.models[c["name"]]
            alpha = (torch.randn(m.layers, m.candidates, generator=gen, dtype=torch.float64)).requires_grad_()
            self.assertTrue(torch.autograd.gradcheck(lambda a: m(m.softmax(a), validate=False), (alpha,), eps=1e-6, atol=1e-6, rtol=1e-4), c["name"])

    def test_latency_losses_equal_typescript(self):
        for lc in self.data["losses"]:
            fn = hwlat_torch.latency_loss(lc["loss"])
            o = lc["options"]
            kwargs = {"alpha": o.get("alpha"), "beta": o.get("beta"), "lambda_": o.get("lambda"), "ref": o.get("ref"), "target_ms": o.get("targetMs")}
            if lc["loss"] == "proxyless-add-linear":
                kwargs.pop("alpha"), kwargs.pop("beta")
            else:
                kwargs.pop("lambda_")
            if lc["loss"] == "fbnet":
                kwargs.pop("ref")
            kwargs = {k: v for k, v in kwargs.items() if v is not None}
            what = f"{lc['loss']}({lc['ce']}, {lc['lat']}, {o})"
            lat = torch.tensor(float(lc["lat"]), dtype=torch.float64, requires_grad=True)
            if lc["error"] is not None:
                with self.assertRaises(ValueError, msg=f"{what}: TypeScript refuses it ({lc['error']})"):
                    fn(lc["ce"], lat, **kwargs)
                continue
            v = fn(lc["ce"], lat, **kwargs)
            self.assertTrue(close(float(v), lc["value"], 1e-6), f"{what}: torch {float(v)} vs TypeScript {lc['value']}")
            g, = torch.autograd.grad(v, lat)
            eps = 1e-6 * float(lc["lat"])
            at = lambda x: float(fn(lc["ce"], torch.tensor(x, dtype=torch.float64), **kwargs))  # noqa: E731
            fd = (at(float(lc["lat"]) + eps) - at(float(lc["lat"]) - eps)) / (2 * eps)
            self.assertTrue(close(float(g), fd, 1e-5), f"{what}: d/dlat autograd {float(g)} vs finite difference {fd}")

    def test_losses_in_a_search_step_reach_alpha(self):
        c = next(c for c in self.data["cases"] if c["name"] == "fbnet-residual-mlp")
        m = hwlat_torch.load(c["path"], space="fbnet")
        alpha = torch.zeros(m.layers, m.candidates, requires_grad=True)
        ce = torch.tensor(2.3)
        ref = m.uniform_ms()
        lat = m(m.softmax(alpha))
        self.assertTrue(close(float(lat), ref, 1e-5))
        for loss in (hwlat_torch.proxyless_mul_log(ce, lat * 1000, ref=ref * 1000), hwlat_torch.proxyless_add_linear(ce, lat, ref=ref, lambda_=0.5),
                     hwlat_torch.fbnet_loss(ce, lat * 1000)):
            g, = torch.autograd.grad(loss, alpha, retain_graph=True)
            self.assertGreater(float(g.abs().sum()), 0)


@unittest.skipUnless(COLLECTOR and CASES, "HWLAT_TORCH_COLLECTOR not set: tests/torch/hwlat-torch.test.ts starts a collector")
class FetchTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.c = json.loads(COLLECTOR)
        cls.cases = {c["name"]: c for c in _cases()["cases"]}

    def test_fetch_serves_the_cli_export(self):
        m = hwlat_torch.fetch(self.c["url"], self.c["device"], "fbnet", kind="composite")
        with open(self.cases["fbnet-residual-mlp"]["path"]) as f:
            self.assertEqual(m.export, json.load(f))
        pt = self.cases["fbnet-residual-mlp"]["points"][-1]
        self.assertTrue(close(float(m.double()(torch.tensor(pt["probs"], dtype=torch.float64))), pt["value"]))
        nb = hwlat_torch.fetch(self.c["url"], self.c["device"], "nasbench201", kind="composite")
        with open(self.cases["nasbench201-enumerated-composite"]["path"]) as f:
            self.assertEqual(nb.export, json.load(f))
        # at another speed: the device twice as slow (the predictor's calibration elasticity applies)
        slow = hwlat_torch.fetch(self.c["url"], self.c["device"], "fbnet", kind="lut-sum", calibration_ms=2 * (m.calibration_ms or 1))
        base = hwlat_torch.fetch(self.c["url"], self.c["device"], "fbnet", kind="lut-sum")
        p = slow.softmax(torch.zeros(slow.layers, slow.candidates))
        self.assertGreater(float(slow(p)), float(base(p)) * 1.2)

    def test_fetch_errors_name_the_problem(self):
        url, device = self.c["url"], self.c["device"]
        with self.assertRaises(hwlat_torch.CollectorError) as cm:
            hwlat_torch.fetch(url, "dev-000000000000", "fbnet")
        self.assertEqual(cm.exception.status, 404)
        self.assertIn("unknown device 'dev-000000000000'", str(cm.exception))
        with self.assertRaises(hwlat_torch.CollectorError) as cm:
            hwlat_torch.fetch(url, device, "nope")
        self.assertEqual((cm.exception.status, cm.exception.field), (400, "space"))
        with self.assertRaises(hwlat_torch.CollectorError) as cm:
            hwlat_torch.fetch(url, device, "fbnet", kind="forest")
        self.assertEqual((cm.exception.status, cm.exception.field), (400, "kind"))
        self.assertIn("must be one of lut-sum, composite, encoding-mlp", str(cm.exception))
        with self.assertRaises(hwlat_torch.CollectorError) as cm:
            hwlat_torch.fetch(url, device, "fbnet", calibration_ms=-1)
        self.assertEqual(cm.exception.field, "calibration_ms")
        with self.assertRaises(hwlat_torch.CollectorError) as cm:
            hwlat_torch.fetch("http://127.0.0.1:9", device, "fbnet", timeout=5)
        self.assertEqual(cm.exception.status, 0)
        self.assertIn("cannot reach the collector", str(cm.exception))


@unittest.skipUnless(CLI, "HWLAT_TORCH_CLI not set: tests/torch/hwlat-torch.test.ts runs `hwlat export` and `hwlat predict`")
class CliExportTests(unittest.TestCase):
    def test_the_cli_export_predicts_what_hwlat_predict_prints(self):
        c = json.loads(CLI)
        m = hwlat_torch.load(c["path"], space="fbnet")
        ms = m.predict(c["arch"].split("-"))
        self.assertTrue(close(ms, c["predictMs"]), f"torch {ms} vs `hwlat predict` {c['predictMs']}")
        self.assertEqual(m.kind, "composite")
        self.assertEqual(m.mlp_mode, "residual")


if __name__ == "__main__":
    unittest.main()
