"""The fuzzing engine: malformed calls built from a declaration of a function's arguments.

A :class:`Signature` lists a public callable's arguments, each of a kind: an array kind of
:data:`ARRAY_KINDS` (valid values made from a seed and a batch shape) or an option kind of
:data:`OPTION_KINDS` (valid values, values that must be refused, values that may be). A call
starts valid on one backend (read-only NumPy, torch or array-api-strict) and takes zero to three
mutations: wrong types, ragged lists, complex/bool/int dtypes, 0-d, empty and huge-rank arrays,
NaN/inf/negative values, shapes that do not broadcast, arrays of another library or on another
device, and bad option values. :func:`run_call` makes the call and returns what happened; the
test module states what must hold.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import array_api_strict as strict
import numpy as np
from hypothesis import strategies as st

from kldiv.testing import Backend

LIBRARIES = ("numpy_readonly", "torch", "array_api_strict")

#: Exceptions a bad call may raise (kldiv's documented errors).
DOCUMENTED = (TypeError, ValueError, NotImplementedError)


@dataclass(frozen=True)
class Arg:
    """One argument: its name, kind, whether it is passed by keyword, whether None is valid,
    and its broadcast group (arrays of one group must broadcast together)."""

    name: str
    kind: str
    keyword: bool = False
    optional: bool = False
    group: str = "rows"


@dataclass(frozen=True)
class Option:
    """Valid values, values that must raise, values that may raise (then naming the option)."""

    valid: tuple[Any, ...]
    refused: tuple[Any, ...] = ()
    odd: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Signature:
    """A public callable and its arguments; ``call`` receives (positional, keyword) values."""

    name: str
    call: Callable[..., Any]
    args: tuple[Arg, ...]
    errors: tuple[type[BaseException], ...] = DOCUMENTED
    also_named: tuple[str, ...] = ()  # names a message may use instead (of derived arguments)

    @property
    def arrays(self) -> tuple[Arg, ...]:
        return tuple(arg for arg in self.args if arg.kind in ARRAY_KINDS)


@dataclass
class Mutation:
    arg: str
    kind: str
    must_raise: bool  # whatever else the call holds
    sole_must_raise: bool = False  # when it is the call's only mutation


@dataclass
class Call:
    """A generated call: its arguments and the mutations applied to them."""

    positional: dict[str, Any]
    keyword: dict[str, Any]
    mutations: list[Mutation] = field(default_factory=list)

    @property
    def must_raise(self) -> bool:
        if any(m.must_raise for m in self.mutations):
            return True
        return len(self.mutations) == 1 and self.mutations[0].sole_must_raise

    def describe(self) -> str:
        def show(value: Any) -> str:
            if hasattr(value, "shape") and hasattr(value, "dtype"):
                kind = f"{type(value).__module__}.{type(value).__name__}"
                return f"{kind}{tuple(value.shape)}:{value.dtype}"
            return repr(value)[:60]

        args = {**self.positional, **self.keyword}
        shown = ", ".join(f"{name}={show(value)}" for name, value in args.items())
        mutated = ", ".join(f"{m.arg}:{m.kind}" for m in self.mutations)
        return f"({shown}) mutations [{mutated}]"


# --- valid arrays -----------------------------------------------------------------------------


def _probs(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    return rng.uniform(0.05, 1.0, shape)


def _tril(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    batch, size = shape
    lower = np.tril(rng.normal(0.0, 0.3, (batch, size, size)), -1)
    return lower + np.eye(size) * rng.uniform(0.5, 2.0, (batch, size, 1))


def _topk_size(size: int) -> int:
    """k of the top-k kinds: about half of the vocabulary ``size``."""
    return (size + 1) // 2


def _topk_logprobs(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    batch, size = shape
    return np.log(rng.uniform(0.05, 1.0, (batch, _topk_size(size))) / (size + 1))


def _topk_indices(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    batch, size = shape
    return np.stack([rng.permutation(size)[: _topk_size(size)] for _ in range(batch)])


ARRAY_KINDS: dict[str, Callable[[np.random.Generator, tuple[int, int]], np.ndarray]] = {
    "probs": _probs,
    "logprobs": lambda rng, shape: np.log(
        (p := _probs(rng, shape)) / p.sum(axis=-1, keepdims=True)
    ),
    "real": lambda rng, shape: rng.normal(0.0, 1.0, shape),
    "logits": lambda rng, shape: rng.normal(0.0, 3.0, shape),
    "positive": lambda rng, shape: rng.uniform(0.5, 2.0, shape),
    "unit": lambda rng, shape: rng.uniform(0.05, 0.95, shape),
    "above_one": lambda rng, shape: rng.uniform(1.5, 3.0, shape),
    "mask": lambda rng, shape: np.ones(shape),
    "tril": _tril,
    "spd": lambda rng, shape: (t := _tril(rng, shape)) @ np.swapaxes(t, -1, -2),
    "vector": lambda rng, shape: rng.normal(0.0, 1.0, shape),
    "values1d": lambda rng, shape: rng.normal(0.0, 1.0, (shape[1] + 1,)),
    "weights1d": lambda rng, shape: rng.uniform(0.5, 2.0, (shape[1] + 1,)),
    "low_rank": lambda rng, shape: rng.normal(0.0, 0.3, (*shape, 1)),
    "row_mask": lambda rng, shape: np.ones(shape[:1]),
    "topk_logprobs": _topk_logprobs,
    "topk_indices": _topk_indices,
}

#: Array mutations: name -> (must raise whatever else happens, must raise when alone).
ARRAY_MUTATIONS = {
    "wrong_type": (True, True),
    "ragged_list": (True, True),
    "complex": (True, True),
    "bool": (False, False),
    "int": (False, False),
    "zero_d": (False, False),
    "empty_batch": (False, False),
    "empty_axis": (False, False),
    "huge_rank": (False, False),
    "nan": (False, False),
    "inf": (False, False),
    "neg_inf": (False, False),
    "negative": (False, False),
    "zeros": (False, False),
    "list": (False, False),
    "number": (False, False),
    "bad_shape": (False, True),
    "other_library": (False, True),
    "other_device": (False, True),
}

WRONG_TYPES: tuple[Any, ...] = ("probabilities", {"p": 1.0}, object(), b"\x00", {1.0, 2.0})
HUGE_RANK = 30


# --- options ----------------------------------------------------------------------------------

NAN, INF = math.nan, math.inf
BOOL = Option((True, False), refused=("yes", 2.5, None))
AXIS = Option((-1, 0, 1, -2), refused=(64, -65, 10**9, 1.5, "-1", None), odd=(2, -3))
VALIDATE = Option((None, True, False), refused=("yes", 2.5))
POSITIVE = Option((1.0, 2.0, 0.5), refused=(NAN, INF, -INF, 0.0, -1.0, "2", [1.0, 2.0]))
LOG_BASE = Option((None, 2.0, 10.0), refused=(NAN, INF, 0.0, -2.0, 1.0, "e", [2.0]))
REAL = Option((0.5, 2.0), refused=(NAN, "x", [1.0]), odd=(INF, -INF, -0.5, 0.0, 1.0, 1e300))
ROWWISE = Option(("mean", "sum", "none", None), refused=("avg", "", "MEAN", 1, "batchmean"))
POINTWISE = Option(("mean", "sum", "none", "batchmean"), refused=("avg", "", None, 2))
CLAMP = Option((-30.0, -5.0), refused=(NAN, "x", None), odd=(INF, -INF, 100.0))
CLAMP_MAX = Option((20.0, 5.0), refused=(NAN, "x", None), odd=(INF, -INF, -100.0))
BOUNDS = Option((None, (-1.0, 1.0)), refused=("x", (1.0,), (NAN, 1.0), 3.0), odd=((2.0, 1.0),))

OPTION_KINDS: dict[str, Option] = {
    "bool": BOOL,
    "axis": AXIS,
    "validate": VALIDATE,
    "positive_number": POSITIVE,
    "log_base": LOG_BASE,
    "real_number": REAL,
    "rowwise": ROWWISE,
    "pointwise": POINTWISE,
    "clamp_min": CLAMP,
    "clamp_max": CLAMP_MAX,
    "bounds": BOUNDS,
}


def add_option_kind(name: str, option: Option) -> None:
    """Declare an option kind of one function (estimator names, presets...)."""
    OPTION_KINDS[name] = option


# --- building calls ---------------------------------------------------------------------------


def _loaded(library: str) -> Any:
    return Backend(library).load()


def to_library(array: np.ndarray, library: str) -> Any:
    """``array`` as a native array of ``library`` (read-only for NumPy), its dtype kept."""
    if library == "numpy_readonly":
        copy = np.array(array, copy=True)
        copy.flags.writeable = False
        return copy
    if library == "torch":
        import torch

        return torch.asarray(np.array(array, copy=True))
    return strict.asarray(np.array(array, copy=True))


def _other_library(library: str) -> str:
    return "torch" if library != "torch" else "numpy_readonly"


def _other_device(value: Any, library: str) -> Any:
    if library == "array_api_strict":
        return strict.asarray(value, device=strict.Device("device1"))
    if library == "torch":
        return value.to("meta")
    return None


def _mutate_array(
    kind: str, array: np.ndarray, library: str, rng: np.random.Generator, data: Any
) -> Any:
    """The value ``array`` becomes under mutation ``kind`` (a native array or another object)."""
    if kind == "wrong_type":
        return data.draw(st.sampled_from(WRONG_TYPES), label="wrong type")
    if kind == "ragged_list":
        return [[0.5, 0.5], [1.0]]
    if kind == "list":
        return array.tolist()
    if kind == "number":
        return float(array.flat[0]) if array.size else 0.5
    changed = np.array(array, copy=True)
    if kind == "complex":
        changed = changed + 1j * changed
    elif kind == "bool":
        changed = changed > 0
    elif kind == "int":
        changed = np.round(changed * 3).astype(np.int64)
    elif kind == "zero_d":
        changed = changed.reshape(-1)[0] if changed.size else np.asarray(0.5)
        changed = np.asarray(changed)
    elif kind == "empty_batch":
        changed = changed[:0]
    elif kind == "empty_axis":
        changed = changed[..., :0]
    elif kind == "huge_rank":
        changed = changed.reshape((1,) * HUGE_RANK + changed.shape)
    elif kind == "bad_shape":
        changed = np.concatenate([changed, changed[:1]], axis=0)
    elif kind in ("nan", "inf", "neg_inf", "negative", "zeros") and changed.size:
        position = rng.integers(changed.size, size=max(1, changed.size // 3))
        special = {"nan": NAN, "inf": INF, "neg_inf": -INF, "negative": -0.25, "zeros": 0.0}
        if changed.dtype.kind == "i":  # indices: a negative index; NaN and inf make them floats
            special["negative"] = -1
            changed = changed if kind in ("negative", "zeros") else changed.astype(np.float64)
        changed.reshape(-1)[position] = special[kind]
    target = _other_library(library) if kind == "other_library" else library
    native = to_library(changed, target)
    if kind == "other_device":
        moved = _other_device(native, library)
        return native if moved is None else moved
    return native


def draw_call(data: Any, signature: Signature) -> tuple[Call, str]:
    """A call of ``signature``: valid arguments, then 0 to 3 mutations (drawn by Hypothesis)."""
    library = data.draw(st.sampled_from(LIBRARIES), label="library")
    shape = (data.draw(st.integers(2, 4), label="batch"), data.draw(st.integers(1, 4)))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    raw = {arg.name: ARRAY_KINDS[arg.kind](rng, shape) for arg in signature.arrays}
    values: dict[str, Any] = {name: to_library(array, library) for name, array in raw.items()}
    for arg in signature.args:
        if arg.kind in OPTION_KINDS:
            values[arg.name] = data.draw(st.sampled_from(OPTION_KINDS[arg.kind].valid))
    mutations = []
    count = data.draw(st.integers(0, 3), label="mutations")
    if signature.args:
        for _ in range(count):
            arg = data.draw(st.sampled_from(signature.args), label="argument")
            mutations = [m for m in mutations if m.arg != arg.name]  # its new value replaces it
            mutation = _apply(data, arg, values, raw, library, rng)
            mutation.sole_must_raise &= _has_partner(signature, arg, mutation.kind)
            mutations.append(mutation)
    call = Call(
        {a.name: values[a.name] for a in signature.args if not a.keyword},
        {a.name: values[a.name] for a in signature.args if a.keyword},
        mutations,
    )
    return call, library


def _has_partner(signature: Signature, arg: Arg, kind: str) -> bool:
    """Whether another array argument makes mutation ``kind`` of ``arg`` a mismatch."""
    others = [other for other in signature.arrays if other.name != arg.name]
    if kind == "bad_shape":
        return any(other.group == arg.group for other in others)
    return bool(others)


def _apply(
    data: Any,
    arg: Arg,
    values: dict[str, Any],
    raw: dict[str, np.ndarray],
    library: str,
    rng: np.random.Generator,
) -> Mutation:
    if arg.kind in ARRAY_KINDS:
        kind = data.draw(st.sampled_from(list(ARRAY_MUTATIONS)), label="mutation")
        if kind == "wrong_type" and arg.optional:
            kind = "complex"
        must, sole = ARRAY_MUTATIONS[kind]
        if kind == "other_device" and library == "numpy_readonly":
            sole = False  # NumPy has one device
        values[arg.name] = _mutate_array(kind, raw[arg.name], library, rng, data)
        return Mutation(arg.name, kind, must, sole)
    option = OPTION_KINDS[arg.kind]
    choices = [("refused", v) for v in option.refused] + [("odd", v) for v in option.odd]
    how, value = data.draw(st.sampled_from(choices), label="option value")
    values[arg.name] = value
    return Mutation(arg.name, f"{how}={value!r}", how == "refused")


# --- inputs unchanged -------------------------------------------------------------------------


def fingerprint(value: Any) -> str | None:
    """A checksum of an array's bytes (None for non-arrays and torch ``meta`` tensors)."""
    module = type(value).__module__
    if isinstance(value, np.ndarray):
        data = np.ascontiguousarray(value)
    elif module.startswith("torch"):
        if value.device.type == "meta":
            return None
        data = np.asarray(repr(value.detach().cpu().tolist()))
    elif module.startswith("array_api_strict"):
        data = np.ascontiguousarray(value._array)
    else:
        return None
    return hashlib.sha1(data.tobytes() + str(data.shape).encode()).hexdigest()


def fingerprints(call: Call) -> dict[str, str | None]:
    return {name: fingerprint(v) for name, v in {**call.positional, **call.keyword}.items()}


def names_argument(error: BaseException, names: list[str]) -> bool:
    """Whether the message of ``error`` names one of ``names`` (as a word); ``loc_p`` may be
    named ``loc`` (the parameter of a distribution built from it)."""
    message = str(error)
    names = names + [name.removesuffix("_p").removesuffix("_q") for name in names]
    return any(re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", message) for name in names)
