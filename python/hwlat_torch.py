"""hwlat's differentiable expected-latency model in PyTorch.

Loads the JSON that ``hwlat export --format json`` writes (or that a collector serves at
``GET /api/latency/export``) and returns a ``torch.nn.Module`` mapping architecture
probabilities ``[layers, candidates]`` (or a batch ``[B, layers, candidates]``) to E[latency] in
milliseconds, with autograd. Every form of the export is evaluated exactly as its ``formula``
field and hwlat's TypeScript model (predictor/differentiable) define it:

- ``additive`` (FBNet, ProxylessNAS): ``lin = base + sum(p * scores)``, then the learned
  correction: nothing (``lut-sum``), a residual MLP (``lin * (0.1 + relu(0.9 + mlp(p)))``) or an
  encoding MLP (``y_scale * mlp(p)``), then ``floor_ms + relu(y - floor_ms)``;
- ``enumerated`` (NAS-Bench-201, whose cell is not a sum over edges): the exact expectation
  ``sum_a prod_l p[l, arch_a[l]] * arch_ms[a]``.

Plus ProxylessNAS's and FBNet's latency losses, as hwlat's ``predictor/differentiable/losses.ts``
computes them. Depends on torch only.

Example::

    import torch, hwlat_torch
    latency = hwlat_torch.load("fbnet_latency.json", space="fbnet")
    alpha = torch.zeros(latency.layers, latency.candidates, requires_grad=True)
    lat = latency(latency.softmax(alpha))             # E[latency], ms (a 0-d tensor)
    loss = ce + 0.1 * lat / latency.uniform_ms()      # or hwlat_torch.proxyless_mul_log(ce, lat, ref=...)
"""

from __future__ import annotations

import json
import math
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

import torch
from torch import nn

__all__ = [
    "FORMAT", "ROW_SUM_TOLERANCE", "LATENCY_LOSSES", "LatencyExportError", "ProbsError", "SpaceMismatchError",
    "CollectorError", "ExpectedLatency", "load", "loads", "fetch", "toward_target", "proxyless_mul_log",
    "proxyless_add_linear", "fbnet_loss", "latency_loss",
]
__version__ = "0.1.0"

#: the one export format this module reads (``format`` field of the JSON)
FORMAT = "hwlat-latency-model/1"
#: how far a row of probabilities may sum from 1 (as hwlat's TypeScript checks)
ROW_SUM_TOLERANCE = 1e-3
_FORMS = ("additive", "enumerated")
_MLP_MODES = (None, "residual", "encoding")

# [layers, candidates] of hwlat's spaces: a probability grid of one of these shapes passed to a
# model of another space is named as such
_KNOWN_SHAPES = {(22, 9): "fbnet or fbnet-imagenet", (21, 7): "proxyless-mobile", (6, 5): "nasbench201"}


class LatencyExportError(ValueError):
    """The JSON is not a readable hwlat latency export; ``field`` names the part that is wrong."""

    def __init__(self, message: str, field: Optional[str] = None):
        super().__init__(message)
        self.field = field


class SpaceMismatchError(ValueError):
    """The export is of another search space than the one asked for."""


class ProbsError(ValueError):
    """Architecture probabilities that do not fit the model (shape, values, rows, padding)."""


class CollectorError(RuntimeError):
    """A collector answered an export request with an error (``status``: the HTTP status, 0: unreachable)."""

    def __init__(self, message: str, status: int, field: Optional[str] = None):
        super().__init__(message)
        self.status = status
        self.field = field


# --------------------------------------------------------------------------------------------
# reading the export


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _number(d: Mapping[str, Any], key: str, *, nullable: bool = False) -> Optional[float]:
    if key not in d:
        raise LatencyExportError(f"the export has no '{key}' field", key)
    v = d[key]
    if v is None and nullable:
        return None
    if not _is_number(v):
        raise LatencyExportError(f"'{key}' must be a finite number{' or null' if nullable else ''}, got {v!r}", key)
    return float(v)


def _int(d: Mapping[str, Any], key: str) -> int:
    v = d.get(key)
    if not (isinstance(v, int) and not isinstance(v, bool) and v >= 1):
        raise LatencyExportError(f"'{key}' must be an integer >= 1, got {v!r}", key)
    return v


def _matrix(v: Any, rows: int, cols: int, field: str) -> List[List[float]]:
    if not isinstance(v, list) or len(v) != rows:
        got = len(v) if isinstance(v, list) else type(v).__name__
        raise LatencyExportError(f"'{field}' must be a list of {rows} rows, got {got}", field)
    for r, row in enumerate(v):
        if not isinstance(row, list) or len(row) != cols:
            got = len(row) if isinstance(row, list) else type(row).__name__
            raise LatencyExportError(f"'{field}[{r}]' must be a list of {cols} numbers, got {got}", field)
        for c, x in enumerate(row):
            if not _is_number(x):
                raise LatencyExportError(f"'{field}[{r}][{c}]' must be a finite number, got {x!r}", field)
    return v


def _check_export(d: Any) -> None:
    """Checks the export's structure, raising LatencyExportError naming the first wrong field."""
    if not isinstance(d, Mapping):
        raise LatencyExportError(f"the export must be a JSON object, got {type(d).__name__}")
    fmt = d.get("format")
    if fmt != FORMAT:
        if fmt is None:
            raise LatencyExportError(f"the JSON has no 'format' field: it is not an hwlat latency export (expected '{FORMAT}', from `hwlat export --format json`)", "format")
        raise LatencyExportError(f"unknown format version '{fmt}': this hwlat_torch {__version__} reads '{FORMAT}' (use the hwlat_torch of the hwlat that exported it)", "format")
    for key in ("space", "form"):
        if not isinstance(d.get(key), str):
            raise LatencyExportError(f"'{key}' must be a string, got {d.get(key)!r}", key)
    if d["form"] not in _FORMS:
        raise LatencyExportError(f"unknown form '{d['form']}'; known: {', '.join(_FORMS)}", "form")
    L, C = _int(d, "layers"), _int(d, "candidates")
    positions = d.get("positions")
    if not (isinstance(positions, list) and len(positions) == L and all(isinstance(p, str) for p in positions)):
        raise LatencyExportError(f"'positions' must be a list of {L} names", "positions")
    names = d.get("candidate_names")
    if not (isinstance(names, list) and len(names) == L):
        raise LatencyExportError(f"'candidate_names' must be a list of {L} rows", "candidate_names")
    for l, row in enumerate(names):
        if not (isinstance(row, list) and len(row) == C and all(n is None or isinstance(n, str) for n in row)):
            raise LatencyExportError(f"'candidate_names[{l}]' must be a list of {C} names (null for padding)", "candidate_names")
        if row[0] is None:
            raise LatencyExportError(f"'candidate_names[{l}]' has no candidate", "candidate_names")
    _number(d, "lut_fixed_ms")
    _matrix(d.get("lut_ms"), L, C, "lut_ms")
    if d["form"] == "enumerated":
        archs = d.get("archs")
        if not (isinstance(archs, list) and len(archs) >= 1):
            raise LatencyExportError("'archs' must be a non-empty list of architectures", "archs")
        n_real = [sum(1 for n in row if n is not None) for row in names]
        for a, arch in enumerate(archs):
            if not (isinstance(arch, list) and len(arch) == L):
                raise LatencyExportError(f"'archs[{a}]' must be a list of {L} candidate indices", "archs")
            for l, i in enumerate(arch):
                if not (isinstance(i, int) and not isinstance(i, bool) and 0 <= i < n_real[l]):
                    raise LatencyExportError(f"'archs[{a}][{l}]' must be a candidate index in 0..{n_real[l] - 1}, got {i!r}", "archs")
        ms = d.get("arch_ms")
        if not (isinstance(ms, list) and len(ms) == len(archs) and all(_is_number(x) for x in ms)):
            raise LatencyExportError(f"'arch_ms' must be a list of {len(archs)} numbers (one per architecture)", "arch_ms")
        return
    _number(d, "base")
    _matrix(d.get("scores"), L, C, "scores")
    mode = d.get("mlp_mode")
    if mode not in _MLP_MODES:
        raise LatencyExportError(f"unknown mlp_mode {mode!r}; known: residual, encoding, null", "mlp_mode")
    mlp = d.get("mlp")
    if not isinstance(mlp, list):
        raise LatencyExportError(f"'mlp' must be a list of layers, got {type(mlp).__name__}", "mlp")
    if (mode is None) != (len(mlp) == 0):
        raise LatencyExportError(f"mlp_mode {mode!r} with {len(mlp)} mlp layers: a mode needs layers and layers need a mode", "mlp")
    inputs = L * C
    for k, layer in enumerate(mlp):
        if not isinstance(layer, Mapping):
            raise LatencyExportError(f"'mlp[{k}]' must be an object with W, b and relu", "mlp")
        W = layer.get("W")
        if not (isinstance(W, list) and len(W) == inputs and isinstance(W[0], list)):
            raise LatencyExportError(f"'mlp[{k}].W' must have {inputs} rows (the previous layer's units)", "mlp")
        units = len(W[0])
        _matrix(W, inputs, units, f"mlp[{k}].W")
        b = layer.get("b")
        if not (isinstance(b, list) and len(b) == units and all(_is_number(x) for x in b)):
            raise LatencyExportError(f"'mlp[{k}].b' must be a list of {units} numbers", "mlp")
        if not isinstance(layer.get("relu"), bool):
            raise LatencyExportError(f"'mlp[{k}].relu' must be true or false", "mlp")
        inputs = units
    if mlp and inputs != 1:
        raise LatencyExportError(f"the last mlp layer must have 1 unit, got {inputs}", "mlp")
    _number(d, "y_scale")
    _number(d, "floor_ms", nullable=True)


# --------------------------------------------------------------------------------------------
# the model


class ExpectedLatency(nn.Module):
    """E[latency] (ms) of a search space under architecture probabilities, as an ``nn.Module``.

    ``forward(probs)``: ``probs`` is ``[layers, candidates]`` (returns a 0-d tensor) or
    ``[B, layers, candidates]`` (returns ``[B]``); each row sums to 1 and padding columns (a layer
    with fewer candidates, ``candidate_names[l][i] is None``) are 0. The computation runs in
    ``probs``'s dtype and device. A one-hot grid gives the predictor's prediction of that
    architecture. The constants are buffers, so ``.to(device)`` / ``.double()`` move them.

    ``validate`` (default True) checks each input (shape, finite, >= 0, rows summing to 1, padding
    zero) and raises ProbsError naming the problem; it reads the values back, so a hot loop that
    builds ``probs`` with :meth:`softmax` may turn it off.
    """

    def __init__(self, export: Mapping[str, Any], *, space: Optional[str] = None, validate: bool = True):
        super().__init__()
        _check_export(export)
        if space is not None and export["space"] != space:
            raise SpaceMismatchError(f"the latency export is of space '{export['space']}', not '{space}' (export the predictor of '{space}': `hwlat export --space {space} --format json`)")
        self.export: Dict[str, Any] = dict(export)
        self.space: str = export["space"]
        self.device_id: Optional[str] = export.get("device")
        self.kind: Optional[str] = export.get("kind")
        self.form: str = export["form"]
        self.calibration_ms: Optional[float] = export.get("calibration_ms")
        self.layers: int = export["layers"]
        self.candidates: int = export["candidates"]
        self.positions: List[str] = list(export["positions"])
        self.candidate_names: List[List[Optional[str]]] = [list(r) for r in export["candidate_names"]]
        self.validate = validate
        L, C = self.layers, self.candidates
        dt = torch.get_default_dtype()
        self.register_buffer("mask", torch.tensor([[n is not None for n in row] for row in self.candidate_names], dtype=torch.bool))
        self.register_buffer("lut_ms", torch.tensor(export["lut_ms"], dtype=dt))
        self.lut_fixed_ms = float(export["lut_fixed_ms"])
        self.mlp_mode: Optional[str] = None
        self.floor_ms: Optional[float] = None
        self._mlp_relu: List[bool] = []
        self._radix: Optional[List[int]] = None
        if self.form == "additive":
            self.base = float(export["base"])
            self.register_buffer("scores", torch.tensor(export["scores"], dtype=dt).reshape(L * C))
            self.mlp_mode = export["mlp_mode"]
            for k, layer in enumerate(export["mlp"]):
                self.register_buffer(f"mlp_W{k}", torch.tensor(layer["W"], dtype=dt))
                self.register_buffer(f"mlp_b{k}", torch.tensor(layer["b"], dtype=dt))
                self._mlp_relu.append(bool(layer["relu"]))
            self.y_scale = float(export["y_scale"])
            self.floor_ms = None if export["floor_ms"] is None else float(export["floor_ms"])
        else:
            archs = torch.tensor(export["archs"], dtype=torch.long)
            self.register_buffer("archs", archs)
            self.register_buffer("arch_ms", torch.tensor(export["arch_ms"], dtype=dt))
            # hwlat enumerates every architecture in mixed-radix order (the last layer fastest):
            # then the expectation is a chain of small contractions instead of N products
            radix = [int(self.mask[l].sum()) for l in range(L)]
            if archs.shape[0] == math.prod(radix) and torch.equal(archs, _mixed_radix(radix)):
                self._radix = radix

    # -- the formula --------------------------------------------------------------------------

    def forward(self, probs: torch.Tensor, validate: Optional[bool] = None) -> torch.Tensor:
        probs = self._as_tensor(probs)
        if self.validate if validate is None else validate:
            self.check(probs)
        if self.form == "enumerated":
            return self._enumerated(probs)
        return self._additive(probs)

    def _buf(self, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return t if (t.dtype == like.dtype and t.device == like.device) else t.to(dtype=like.dtype, device=like.device)

    def _additive(self, probs: torch.Tensor) -> torch.Tensor:
        x = probs.reshape(*probs.shape[:-2], self.layers * self.candidates)
        y: torch.Tensor
        if self.mlp_mode is not None:
            h = x
            for k, relu in enumerate(self._mlp_relu):
                h = h @ self._buf(getattr(self, f"mlp_W{k}"), x) + self._buf(getattr(self, f"mlp_b{k}"), x)
                if relu:
                    h = torch.relu(h)
            h = h.squeeze(-1)
        if self.mlp_mode == "encoding":
            y = h * self.y_scale
        else:
            y = x @ self._buf(self.scores, x) + self.base
            if self.mlp_mode == "residual":
                # the correction factor max(0.1, 1 + r), written with relu as the export's formula
                y = y * (torch.relu(h + 0.9) + 0.1)
        if self.floor_ms is not None:
            y = torch.relu(y - self.floor_ms) + self.floor_ms
        return y

    def _enumerated(self, probs: torch.Tensor) -> torch.Tensor:
        ms = self._buf(self.arch_ms, probs)
        if self._radix is not None:
            t = ms.reshape(self._radix)
            batch = probs.shape[:-2]
            for l in reversed(range(self.layers)):
                n = self._radix[l]
                p = probs[..., l, :n].reshape(*batch, *([1] * l), n)
                t = (t * p).sum(-1)
            return t
        archs = self.archs.to(probs.device)
        rows = torch.arange(self.layers, device=probs.device)
        picked = probs[..., rows, archs]  # [..., N, L]: p[l, arch_a[l]]
        return picked.prod(-1) @ ms

    # -- checks -------------------------------------------------------------------------------

    def _as_tensor(self, probs: Any) -> torch.Tensor:
        if isinstance(probs, torch.Tensor):
            if not probs.is_floating_point():
                raise ProbsError(f"'probs' must be a floating-point tensor, got {probs.dtype}")
            return probs
        try:
            return torch.as_tensor(probs, dtype=torch.get_default_dtype())
        except (TypeError, ValueError, RuntimeError) as e:
            raise ProbsError(f"'probs' must be a tensor or nested lists of numbers [layers][candidates]: {e}") from None

    def check(self, probs: torch.Tensor) -> None:
        """Raises ProbsError naming the problem: shape, non-finite or negative values, a row not
        summing to 1 (within ROW_SUM_TOLERANCE), a non-zero padding column."""
        probs = self._as_tensor(probs)
        L, C = self.layers, self.candidates
        shape = tuple(probs.shape)
        if probs.dim() not in (2, 3) or shape[-2:] != (L, C):
            hint = ""
            other = _KNOWN_SHAPES.get(shape[-2:]) if probs.dim() in (2, 3) else None
            if other is not None:
                hint = f"; [{shape[-2]}, {shape[-1]}] is the grid of {other}: is this the latency model of the supernet's space?"
            raise ProbsError(f"'probs' must have shape [{L}, {C}] (layers × candidates of '{self.space}') or [batch, {L}, {C}], got [{', '.join(map(str, shape))}]{hint}")
        p = probs.detach()
        batched = p.dim() == 3
        if not batched:
            p = p.unsqueeze(0)

        def at(idx: Sequence[int]) -> str:
            b, l, i = (int(v) for v in idx)
            return f"probs[{b}][{l}][{i}]" if batched else f"probs[{l}][{i}]"

        bad = (~torch.isfinite(p)).nonzero()
        if len(bad):
            return self._raise(f"'{at(bad[0])}' is {p[tuple(bad[0])].item()}: probabilities must be finite numbers")
        bad = (p < 0).nonzero()
        if len(bad):
            return self._raise(f"'{at(bad[0])}' is {p[tuple(bad[0])].item()}: probabilities must be >= 0")
        bad = ((p != 0) & ~self.mask.to(p.device)).nonzero()
        if len(bad):
            b, l, i = (int(v) for v in bad[0])
            n = int(self.mask[l].sum())
            return self._raise(f"'{at(bad[0])}' is {p[b, l, i].item()}, but {self.positions[l]} of '{self.space}' has only {n} candidates: padding columns must be 0")
        sums = p.sum(-1, dtype=torch.float64)
        bad = ((sums - 1).abs() > ROW_SUM_TOLERANCE).nonzero()
        if len(bad):
            b, l = (int(v) for v in bad[0])
            where = f"'probs[{b}]' row {l}" if batched else f"'probs' row {l}"
            return self._raise(f"{where} ({self.positions[l]}) sums to {sums[b, l].item():.6g}, expected 1 (±{ROW_SUM_TOLERANCE}): pass probabilities, e.g. softmax(alpha), not logits")

    @staticmethod
    def _raise(message: str) -> None:
        raise ProbsError(message)

    # -- helpers for search loops -------------------------------------------------------------

    def softmax(self, logits: torch.Tensor, tau: float = 1.0) -> torch.Tensor:
        """softmax(logits / tau) over each layer's real candidates; padding columns get 0."""
        return torch.softmax((logits / tau).masked_fill(~self.mask.to(logits.device), float("-inf")), dim=-1)

    def gumbel_softmax(self, logits: torch.Tensor, tau: float = 1.0, hard: bool = False) -> torch.Tensor:
        """FBNet's Gumbel-softmax over each layer's real candidates; padding columns get 0."""
        return torch.nn.functional.gumbel_softmax(logits.masked_fill(~self.mask.to(logits.device), float("-inf")), tau=tau, hard=hard, dim=-1)

    def one_hot(self, choices: Sequence[Union[int, str]], dtype: Optional[torch.dtype] = None) -> torch.Tensor:
        """The ``[layers, candidates]`` grid of one architecture: per layer a candidate index or name."""
        if len(choices) != self.layers:
            raise ProbsError(f"an architecture of '{self.space}' has {self.layers} choices (one per position), got {len(choices)}")
        grid = torch.zeros(self.layers, self.candidates, dtype=dtype or torch.get_default_dtype())
        for l, c in enumerate(choices):
            names = self.candidate_names[l]
            if isinstance(c, str):
                if c not in names:
                    known = ", ".join(n for n in names if n is not None)
                    raise ProbsError(f"'{c}' is not a candidate of {self.positions[l]} of '{self.space}'; known: {known}")
                c = names.index(c)
            if not (isinstance(c, int) and 0 <= c < self.candidates and names[c] is not None):
                raise ProbsError(f"candidate {c!r} of {self.positions[l]} is out of range 0..{int(self.mask[l].sum()) - 1}")
            grid[l, c] = 1
        return grid

    @torch.no_grad()
    def predict(self, choices: Sequence[Union[int, str]]) -> float:
        """The predicted latency (ms) of one architecture (per layer a candidate index or name)."""
        return float(self(self.one_hot(choices, dtype=torch.float64), validate=False))

    @torch.no_grad()
    def uniform_ms(self) -> float:
        """E[latency] under uniform probabilities: a natural reference latency for the losses."""
        p = self.mask.to(torch.float64)
        return float(self(p / p.sum(-1, keepdim=True), validate=False))

    def lut_sum(self, probs: torch.Tensor) -> torch.Tensor:
        """The plain LUT sum ``lut_fixed_ms + sum(p * lut_ms)`` (reported by the export; the
        prediction itself is forward())."""
        probs = self._as_tensor(probs)
        return (probs * self._buf(self.lut_ms, probs)).sum((-2, -1)) + self.lut_fixed_ms

    def extra_repr(self) -> str:
        mode = f", mlp_mode={self.mlp_mode}" if self.form == "additive" else f", archs={self.archs.shape[0]}"
        return f"space={self.space!r}, kind={self.kind!r}, form={self.form!r}, layers={self.layers}, candidates={self.candidates}{mode}"


def _mixed_radix(radix: Sequence[int]) -> torch.Tensor:
    """Every index tuple of the given radices, the last one fastest (hwlat's enumeration order)."""
    grids = torch.meshgrid(*[torch.arange(n) for n in radix], indexing="ij")
    return torch.stack([g.reshape(-1) for g in grids], dim=1)


# --------------------------------------------------------------------------------------------
# loading


def loads(text: Union[str, bytes], *, space: Optional[str] = None, validate: bool = True) -> ExpectedLatency:
    """The model of an export given as JSON text."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise LatencyExportError(f"the latency export is not valid JSON: {e}") from None
    return ExpectedLatency(data, space=space, validate=validate)


def load(source: Union[str, "os.PathLike[str]", Mapping[str, Any]], *, space: Optional[str] = None, validate: bool = True) -> ExpectedLatency:
    """The model of an export: a path to ``hwlat export --format json``'s file, or its parsed dict.
    ``space`` (recommended): the space the supernet searches; another space is a SpaceMismatchError."""
    if isinstance(source, Mapping):
        return ExpectedLatency(source, space=space, validate=validate)
    try:
        with open(source, "rb") as f:
            text = f.read()
    except OSError as e:
        raise LatencyExportError(f"cannot read the latency export '{os.fspath(source)}': {e.strerror or e}") from None
    return loads(text, space=space, validate=validate)


def fetch(collector: str, device: str, space: str, *, kind: Optional[str] = None, calibration_ms: Optional[float] = None,
          timeout: float = 30.0, validate: bool = True) -> ExpectedLatency:
    """The model of a device's predictor served by a collector (``GET /api/latency/export``):
    ``collector`` its base URL (``http://host:port``), ``kind`` a predictor kind (default: the
    trained one), ``calibration_ms`` the device's calibration latency now (predictions at its speed now)."""
    query = {"device": device, "space": space}
    if kind is not None:
        query["kind"] = kind
    if calibration_ms is not None:
        query["calibration_ms"] = repr(float(calibration_ms))
    url = f"{collector.rstrip('/')}/api/latency/export?{urllib.parse.urlencode(query)}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as res:
            text = res.read()
    except urllib.error.HTTPError as e:
        body: Dict[str, Any] = {}
        try:
            body = json.loads(e.read())
        except (ValueError, OSError):
            pass
        raise CollectorError(f"{url}: HTTP {e.code}: {body.get('error', e.reason)}", e.code, body.get("field")) from None
    except (urllib.error.URLError, OSError) as e:
        raise CollectorError(f"{url}: cannot reach the collector: {getattr(e, 'reason', e)}", 0) from None
    return loads(text, space=space, validate=validate)


# --------------------------------------------------------------------------------------------
# latency losses (hwlat's predictor/differentiable/losses.ts)

Scalarish = Union[torch.Tensor, float]


def _tensor(x: Scalarish, like: Optional[torch.Tensor] = None) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x
    return torch.tensor(float(x), dtype=like.dtype if like is not None else torch.get_default_dtype(),
                        device=like.device if like is not None else None)


def _positive(name: str, v: Optional[float]) -> Optional[float]:
    if v is not None and not (_is_number(v) and v > 0):
        raise ValueError(f"'{name}' must be a number > 0, got {v!r}")
    return v


def _check_latency(e: torch.Tensor, loss: str) -> None:
    v = e.detach()
    if not bool(torch.all(torch.isfinite(v) & (v > 0))):
        raise ValueError(f"{loss}: the expected latency must be a number > 0 ms, got {v.tolist()}")


def toward_target(lat: Scalarish, target_ms: float) -> torch.Tensor:
    """The latency a loss sees when pulled toward a target T: T·exp(|log(E/T)|) (E above T, T²/E below)."""
    _positive("target_ms", target_ms)
    return torch.exp(torch.abs(torch.log(_tensor(lat) / target_ms))) * target_ms


def _seen(lat: Scalarish, target_ms: Optional[float]) -> torch.Tensor:
    return toward_target(lat, target_ms) if target_ms is not None else _tensor(lat)


def proxyless_mul_log(ce: Scalarish, lat: Scalarish, *, ref: Optional[float] = None, alpha: float = 0.2, beta: float = 0.3,
                      target_ms: Optional[float] = None) -> torch.Tensor:
    """ProxylessNAS ``mul#log``: α·CE·(log E[lat] / log ref)^β (α 0.2, β 0.3). ``ref`` (ms) is
    required (``target_ms`` serves as ref when none is given); log E and log ref must have the
    same sign, so express latencies in a unit where both are > 1 (e.g. µs for ms-scale networks)."""
    ref = _positive("ref", ref if ref is not None else target_ms)
    if ref is None:
        raise ValueError("proxyless-mul-log: 'ref' (the reference latency, ms) is required")
    if ref == 1:
        raise ValueError("proxyless-mul-log: 'ref' must not be 1 ms (log ref = 0)")
    e = _seen(lat, target_ms)
    _check_latency(e, "proxyless-mul-log")
    ratio = torch.log(e) / math.log(ref)
    if not bool(torch.all(ratio.detach() > 0)):
        raise ValueError(f"proxyless-mul-log: log E[lat] / log ref must be > 0 (both latencies on the same side of 1 ms), got E[lat] {e.detach().tolist()} ms and ref {ref} ms")
    return _tensor(ce, e) * alpha * ratio ** beta


def proxyless_add_linear(ce: Scalarish, lat: Scalarish, *, ref: Optional[float] = None, lambda_: float = 0.1,
                         target_ms: Optional[float] = None) -> torch.Tensor:
    """ProxylessNAS ``add#linear``: CE + λ·(E[lat] − ref)/ref (λ 0.1; ``target_ms`` serves as ref when none is given)."""
    ref = _positive("ref", ref if ref is not None else target_ms)
    if ref is None:
        raise ValueError("proxyless-add-linear: 'ref' (the reference latency, ms) is required")
    e = _seen(lat, target_ms)
    return _tensor(ce, e) + (e - ref) / ref * lambda_


def fbnet_loss(ce: Scalarish, lat: Scalarish, *, alpha: float = 0.2, beta: float = 0.6, target_ms: Optional[float] = None) -> torch.Tensor:
    """FBNet: CE·α·log(LAT)^β (α 0.2, β 0.6); LAT must be > 1 so that log LAT > 0 (use a smaller unit)."""
    e = _seen(lat, target_ms)
    _check_latency(e, "fbnet")
    if not bool(torch.all(e.detach() > 1)):
        raise ValueError(f"fbnet: LAT must be > 1 ms so that log(LAT) > 0, got {e.detach().tolist()} ms (express it in a smaller unit)")
    return _tensor(ce, e) * alpha * torch.log(e) ** beta


#: the latency losses by the names ``hwlat search --loss`` uses
LATENCY_LOSSES: Mapping[str, Callable[..., torch.Tensor]] = {
    "proxyless-mul-log": proxyless_mul_log,
    "proxyless-add-linear": proxyless_add_linear,
    "fbnet": fbnet_loss,
}


def latency_loss(name: str) -> Callable[..., torch.Tensor]:
    """The loss called ``name``; an unknown name raises a KeyError listing the known ones."""
    if name not in LATENCY_LOSSES:
        raise KeyError(f"unknown latency loss '{name}'; known: {', '.join(LATENCY_LOSSES)}")
    return LATENCY_LOSSES[name]
