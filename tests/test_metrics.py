"""Streaming metrics: torchmetrics parity, merge, state placement, checkpoints, errors that keep
the state."""

from __future__ import annotations

import copy
import io
import pickle
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kldiv
from kldiv.metrics import JensenShannonDivergence, KLDivergence, MetricState
from kldiv.testing import Backend, LoadedBackend, assert_close, assert_same_kind, to_numpy

REDUCTIONS = ["mean", "sum", "none", None]
CLASSES = {"kl": KLDivergence, "js": JensenShannonDivergence}
TORCHMETRICS_NAMES = {"kl": "KLDivergence", "js": "JensenShannonDivergence"}


def batches(
    seed: int, sizes: list[int], width: int = 5, log_prob: bool = False
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Random (p, q) batches of ``sizes`` rows: unnormalised, or log-probabilities."""
    rng = np.random.default_rng(seed)
    result = []
    for size in sizes:
        p, q = rng.uniform(0.05, 1.0, (2, size, width))
        if log_prob:
            p = np.log(p / p.sum(-1, keepdims=True))
            q = np.log(q / q.sum(-1, keepdims=True))
        result.append((p, q))
    return result


@pytest.fixture
def torch_float64() -> Iterator[Any]:
    """torch with float64 as default dtype: torchmetrics' float32 constants (JS's log 2) exact."""
    torch = pytest.importorskip("torch")
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(previous)


@pytest.fixture
def torchmetrics_value(torch_float64: Any) -> Callable[..., np.ndarray]:
    """What torchmetrics' own class computes from a stream of batches, in float64."""
    regression = pytest.importorskip("torchmetrics.regression")

    def value(name: str, data: list[tuple[np.ndarray, np.ndarray]], **kwargs: Any) -> np.ndarray:
        metric = getattr(regression, TORCHMETRICS_NAMES[name])(**kwargs)
        for p, q in data:
            metric.update(torch_float64.asarray(p), torch_float64.asarray(q))
        return metric.compute().numpy()

    return value


@pytest.fixture
def set_validate_args() -> Iterator[Callable[[bool | None], None]]:
    """:func:`kldiv.set_validate_args`, restored to the defaults after the test."""
    yield kldiv.set_validate_args
    kldiv.set_validate_args(None)


@pytest.fixture
def jax_x64() -> Iterator[Any]:
    """JAX with 64-bit floats for the test (the previous setting restored afterwards)."""
    jax = pytest.importorskip("jax")
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield jax
    jax.config.update("jax_enable_x64", previous)


def fed(metric: Any, xp: Any, data: list[tuple[np.ndarray, np.ndarray]]) -> Any:
    for p, q in data:
        metric.update(xp.asarray(p), xp.asarray(q))
    return metric


@pytest.mark.parametrize("log_prob", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["kl", "js"])
def test_matches_torchmetrics(
    xp: Any,
    torchmetrics_value: Callable[..., np.ndarray],
    name: str,
    reduction: str | None,
    log_prob: bool,
) -> None:
    data = batches(0, [3, 1, 7, 4], log_prob=log_prob)
    metric = fed(CLASSES[name](log_prob=log_prob, reduction=reduction), xp, data)
    result = metric.compute()
    assert_same_kind(result, xp, dtype=xp.float64)
    expected = torchmetrics_value(name, data, log_prob=log_prob, reduction=reduction)
    assert_close(result, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("log_prob", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["kl", "js"])
def test_integration_matches_torchmetrics(
    torchmetrics_value: Callable[..., np.ndarray], name: str, reduction: str | None, log_prob: bool
) -> None:
    integration = pytest.importorskip("kldiv.integrations.torchmetrics")
    import torch

    data = batches(1, [2, 5, 3], log_prob=log_prob)
    metric = getattr(integration, TORCHMETRICS_NAMES[name])(log_prob=log_prob, reduction=reduction)
    for p, q in data:
        metric.update(torch.asarray(p), torch.asarray(q))
    expected = torchmetrics_value(name, data, log_prob=log_prob, reduction=reduction)
    assert_close(metric.compute(), expected, rtol=1e-12, atol=0)


def test_integration_declares_torchmetrics_states() -> None:
    integration = pytest.importorskip("kldiv.integrations.torchmetrics")
    from torchmetrics import Metric

    reduced = integration.KLDivergence(reduction="sum")
    kept = integration.JensenShannonDivergence(reduction=None)
    assert isinstance(reduced, Metric)
    assert reduced._reductions.keys() == {"measures", "total"}
    assert reduced._defaults["measures"].ndim == 0
    assert kept._defaults["measures"] == []
    from torchmetrics.utilities.data import dim_zero_cat, dim_zero_sum

    assert reduced._reductions["measures"] is dim_zero_sum
    assert kept._reductions["measures"] is dim_zero_cat
    with pytest.raises(ValueError, match="reduction"):
        integration.KLDivergence(reduction="batchmean")
    with pytest.raises(TypeError, match="log_prob"):
        integration.KLDivergence(log_prob=1)


def test_import_pulls_in_neither_torch_nor_torchmetrics() -> None:
    code = (
        "import sys, kldiv, kldiv.metrics, kldiv.integrations\n"
        "loaded = {'torch', 'torchmetrics'} & set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_state_lives_in_the_inputs_namespace(xp: Any) -> None:
    metric = fed(KLDivergence(reduction="none"), xp, batches(2, [3, 2]))
    state = metric.state
    assert isinstance(state, MetricState)
    for array in (state.sum, state.count, *state.rows):
        assert_same_kind(array, xp)
    assert len(state.rows) == 2
    assert int(to_numpy(state.count)) == 5
    result = metric.compute()
    assert_same_kind(result, xp, dtype=xp.float64)
    assert tuple(result.shape) == (5,)


def test_state_stays_on_the_inputs_device(device: tuple[Any, Any]) -> None:
    xp, where = device
    metric = KLDivergence(log_prob=False, reduction="mean")
    for p, q in batches(3, [2, 3]):
        metric.update(xp.asarray(p, device=where), xp.asarray(q, device=where))
    for array in (metric.state.sum, metric.state.count, metric.compute()):
        assert_same_kind(array, xp, device=where)
    before = metric.state
    p, q = batches(4, [2])[0]
    with pytest.raises(ValueError, match="device"):
        metric.update(xp.asarray(p), xp.asarray(q))
    assert metric.state is before


def test_call_updates_and_returns_the_batch_value(xp: Any) -> None:
    (p, q), (p2, q2) = batches(5, [4, 2])
    metric = KLDivergence(reduction="sum")
    first = metric(xp.asarray(p), xp.asarray(q))
    metric(xp.asarray(p2), xp.asarray(q2))
    assert_close(first, kldiv.kl_divergence(p, q, reduction="sum"), rtol=1e-12)
    both = kldiv.kl_divergence(np.concatenate([p, p2]), np.concatenate([q, q2]), reduction="sum")
    assert_close(metric.compute(), both, rtol=1e-12)


def test_any_batch_rank_and_axis(xp: Any) -> None:
    rng = np.random.default_rng(6)
    p, q = rng.uniform(0.1, 1.0, (2, 4, 3, 2, 5))  # batch (4, 2, 5), distributions on axis 1
    metric = JensenShannonDivergence(reduction="none", axis=1)
    metric.update(xp.asarray(p[:1]), xp.asarray(q[:1]))
    metric.update(xp.asarray(p[1:]), xp.asarray(q[1:]))
    expected = kldiv.js_divergence(p, q, reduction="none", axis=1)
    assert_close(metric.compute(), expected, rtol=1e-12)


def test_half_precision_accumulates_in_float32(xp: Any) -> None:
    if not hasattr(xp, "float16"):
        pytest.skip("no float16")
    data = batches(7, [300, 300, 300])
    metric = KLDivergence()
    for p, q in data:
        metric.update(xp.asarray(p, dtype=xp.float16), xp.asarray(q, dtype=xp.float16))
    assert metric.state.sum.dtype == xp.float32
    result = metric.compute()
    assert result.dtype == xp.float16
    rounded = [(p.astype(np.float16), q.astype(np.float16)) for p, q in data]
    expected = float(
        np.mean(
            [kldiv.kl_divergence(p.astype(np.float64), q.astype(np.float64)) for p, q in rounded]
        )
    )
    assert_close(result, expected, rtol=2e-3)


def test_reset_and_compute_before_update(xp: Any) -> None:
    metric = fed(KLDivergence(), xp, batches(8, [3]))
    metric.reset()
    assert metric.state.empty
    with pytest.raises(RuntimeError, match="before any update"):
        metric.compute()
    fed(metric, xp, batches(9, [2]))
    assert_close(metric.compute(), kldiv.kl_divergence(*batches(9, [2])[0]), rtol=1e-12)


def test_sync_without_process_group_is_a_no_op(xp: Any) -> None:
    metric = fed(KLDivergence(), xp, batches(10, [3]))
    before = metric.state
    assert metric.sync() is metric
    assert metric.state is before


# --- merge ---------------------------------------------------------------------------------------


def test_merge_equals_one_metric_fed_everything(xp: Any) -> None:
    data = batches(11, [3, 2, 4, 1])
    for reduction in REDUCTIONS:
        left = fed(JensenShannonDivergence(reduction=reduction), xp, data[:2])
        right = fed(JensenShannonDivergence(reduction=reduction), xp, data[2:])
        right_before = right.state
        assert left.merge(right) is left
        assert right.state is right_before
        whole = fed(JensenShannonDivergence(reduction=reduction), xp, data)
        assert_close(left.compute(), whole.compute(), rtol=1e-12)


def test_merge_with_an_empty_metric(xp: Any) -> None:
    data = batches(12, [3])
    metric = fed(KLDivergence(), xp, data)
    before = metric.state
    assert metric.merge(KLDivergence()).state is before
    empty = KLDivergence().merge(metric)
    assert_close(empty.compute(), metric.compute(), rtol=0, atol=0)


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 4), min_size=3, max_size=8),
    cuts=st.tuples(st.integers(0, 8), st.integers(0, 8)),
    width=st.integers(1, 4),
    reduction=st.sampled_from(REDUCTIONS),
    log_prob=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_merge_is_associative_and_equals_one_stream(
    sizes: list[int],
    cuts: tuple[int, int],
    width: int,
    reduction: str | None,
    log_prob: bool,
    seed: int,
) -> None:
    import array_api_compat.numpy as xp

    data = batches(seed, sizes, width=width, log_prob=log_prob)
    first, second = sorted(min(cut, len(data)) for cut in cuts)
    groups = data[:first], data[first:second], data[second:]

    def metric(group: list[Any]) -> JensenShannonDivergence | KLDivergence:
        cls = KLDivergence if seed % 2 else JensenShannonDivergence
        return fed(cls(log_prob=log_prob, reduction=reduction), xp, group)

    one_stream = metric(data)
    left = metric(groups[0]).merge(metric(groups[1])).merge(metric(groups[2]))
    right = metric(groups[0]).merge(metric(groups[1]).merge(metric(groups[2])))
    if sum(sizes) == 0 and reduction == "mean":
        assert_close(left.compute(), np.nan)
        assert_close(right.compute(), np.nan)
        return
    for merged in (left, right):
        assert int(merged.state.count) == int(one_stream.state.count) == sum(sizes)
        assert_close(merged.compute(), one_stream.compute(), rtol=1e-12, atol=1e-15)


# --- checkpoints: deepcopy, pickle, state_dict ---------------------------------------------------

#: The library each backend's state_dict records.
LIBRARY_NAMES = {
    Backend.NUMPY: "numpy",
    Backend.NUMPY_READONLY: "numpy",
    Backend.ARRAY_API_STRICT: "array_api_strict",
    Backend.TORCH: "torch",
    Backend.TORCH_CUDA: "torch",
    Backend.JAX: "jax.numpy",
    Backend.DASK: "dask.array",
    Backend.CUPY: "cupy",
}


def reloaded(metric: Any) -> Any:
    """A metric configured as ``metric`` that loaded its ``state_dict()``."""
    restored = type(metric)(log_prob=metric.log_prob, reduction=metric.reduction, axis=metric.axis)
    restored.load_state_dict(metric.state_dict())
    return restored


ROUND_TRIPS: dict[str, Callable[[Any], Any]] = {
    "deepcopy": copy.deepcopy,
    "pickle": lambda metric: pickle.loads(pickle.dumps(metric)),
    "state_dict": reloaded,
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("round_trip", ROUND_TRIPS)
def test_checkpoint_restores_a_metric_that_keeps_streaming(
    xp: Any, round_trip: str, reduction: str | None
) -> None:
    data = batches(30, [3, 2, 4, 1], log_prob=True)
    whole = fed(JensenShannonDivergence(log_prob=True, reduction=reduction), xp, data)
    metric = fed(JensenShannonDivergence(log_prob=True, reduction=reduction), xp, data[:2])
    restored = ROUND_TRIPS[round_trip](metric)
    assert restored.state.xp is metric.state.xp
    assert_close(restored.compute(), metric.compute(), rtol=0, atol=0)
    fed(restored, xp, data[2:])  # further updates
    assert_close(restored.compute(), whole.compute(), rtol=1e-12)
    assert int(to_numpy(metric.state.count)) == 5  # the original is untouched
    other = ROUND_TRIPS[round_trip](
        fed(JensenShannonDivergence(log_prob=True, reduction=reduction), xp, data[2:])
    )
    assert_close(metric.merge(other).compute(), whole.compute(), rtol=1e-12)


def test_state_dict_holds_config_names_and_the_state_arrays(
    xp: Any, backend: LoadedBackend
) -> None:
    metric = fed(KLDivergence(reduction=None, axis=-1), xp, batches(31, [2, 3]))
    saved = metric.state_dict()
    keys = ["metric", "log_prob", "reduction", "axis", "library", "dtype", "sum", "count", "rows"]
    assert list(saved) == keys
    config = (saved["metric"], saved["log_prob"], saved["reduction"], saved["axis"])
    assert config == ("KLDivergence", False, "none", -1)
    assert (saved["library"], saved["dtype"]) == (LIBRARY_NAMES[backend.backend], "float64")
    assert saved["sum"] is metric.state.sum
    assert saved["count"] is metric.state.count
    assert len(saved["rows"]) == 2
    for array in (saved["sum"], saved["count"], *saved["rows"]):
        assert_same_kind(array, xp)


def test_checkpoint_keeps_the_result_dtype(xp: Any) -> None:
    dtype = getattr(xp, "float16", xp.float32)  # 16-bit: the sum accumulates in float32
    metric = KLDivergence(reduction="sum")
    for p, q in batches(32, [4, 3]):
        metric.update(xp.asarray(p, dtype=dtype), xp.asarray(q, dtype=dtype))
    for round_trip in ROUND_TRIPS.values():
        restored = round_trip(metric)
        assert restored.state.sum.dtype == xp.float32
        assert_close(restored.compute(), metric.compute(), rtol=0, atol=0)


def test_checkpoint_keeps_the_device(device: tuple[Any, Any]) -> None:
    xp, where = device
    metric = KLDivergence(reduction="none")
    for p, q in batches(33, [2, 3]):
        metric.update(xp.asarray(p, device=where), xp.asarray(q, device=where))
    for round_trip in ROUND_TRIPS.values():
        restored = round_trip(metric)
        for array in (restored.state.sum, restored.state.count, *restored.state.rows):
            assert_same_kind(array, xp, device=where)
        assert restored.state.device == where


def test_empty_metric_checkpoints(xp: Any) -> None:
    for round_trip in ROUND_TRIPS.values():
        restored = round_trip(KLDivergence())
        assert restored.state.empty
        with pytest.raises(RuntimeError, match="before any update"):
            restored.compute()
    saved = KLDivergence().state_dict()
    assert (saved["library"], saved["sum"], saved["rows"]) == (None, None, [])
    metric = fed(KLDivergence(), xp, batches(34, [2]))
    metric.load_state_dict(saved)  # replaces: the metric is empty again
    assert metric.state.empty


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_torch_save_and_load_of_a_state_dict(tmp_path: Any, reduction: str) -> None:
    torch = pytest.importorskip("torch")
    data = batches(35, [3, 2])
    metric = KLDivergence(reduction=reduction)
    for p, q in data:
        metric.update(torch.asarray(p, dtype=torch.float32), torch.asarray(q, dtype=torch.float32))
    torch.save(metric.state_dict(), tmp_path / "metric.pt")
    restored = KLDivergence(reduction=reduction)
    restored.load_state_dict(torch.load(tmp_path / "metric.pt", weights_only=True))
    assert_close(restored.compute(), metric.compute(), rtol=0, atol=0)
    buffer = io.BytesIO()
    torch.save({"metric": metric.state_dict()}, buffer)
    buffer.seek(0)
    again = KLDivergence(reduction=reduction)
    again.load_state_dict(torch.load(buffer)["metric"])
    assert_close(again.compute(), metric.compute(), rtol=0, atol=0)


def test_load_state_dict_names_what_differs_and_keeps_the_state(
    holding: tuple[Any, KLDivergence],
) -> None:
    xp, metric = holding
    saved = metric.state_dict()
    target = fed(KLDivergence(reduction="none"), xp, batches(36, [4]))
    before, expected = target.state, to_numpy(target.compute())
    mismatched = {
        "reduction is 'none' there, 'sum' here": KLDivergence(reduction="sum"),
        "metric is 'KLDivergence' there, 'JensenShannonDivergence' here": (
            JensenShannonDivergence(reduction="none")
        ),
        "log_prob is False there, True here": KLDivergence(log_prob=True, reduction="none"),
        "axis is -1 there, 0 here": KLDivergence(reduction="none", axis=0),
    }
    for message, other in mismatched.items():
        with pytest.raises(ValueError, match=message):
            other.load_state_dict(saved)
    with pytest.raises(ValueError, match=r"missing \['rows'\], unexpected \['extra'\]"):
        target.load_state_dict({**{k: v for k, v in saved.items() if k != "rows"}, "extra": 1})
    with pytest.raises(TypeError, match="must be a dict"):
        target.load_state_dict(list(saved.items()))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="records cupy arrays but holds"):
        target.load_state_dict({**saved, "library": "cupy"})
    strict = pytest.importorskip("array_api_strict")
    other = strict if "strict" not in getattr(xp, "__name__", "") else np
    with pytest.raises(TypeError, match="different libraries"):
        target.load_state_dict({**saved, "count": other.asarray(5)})
    with pytest.raises(TypeError, match="arrays only: count not one"):
        target.load_state_dict({**saved, "count": 5})
    for dtype in ("int64", "asarray", "no_such_dtype"):
        with pytest.raises(ValueError, match=f"dtype '{dtype}', not a real floating dtype"):
            target.load_state_dict({**saved, "dtype": dtype})
    assert_kept(target, before, expected)
    target.load_state_dict(saved)  # a valid one replaces the state
    assert_close(target.compute(), metric.compute(), rtol=0, atol=0)


# --- bad input leaves the state exactly as it was ------------------------------------------------


@pytest.fixture
def holding(xp: Any) -> tuple[Any, KLDivergence]:
    """A metric that has accumulated two batches."""
    return xp, fed(KLDivergence(reduction="none"), xp, batches(13, [3, 2]))


def assert_kept(metric: Any, before: MetricState, expected: np.ndarray) -> None:
    assert metric.state is before
    assert_close(metric.compute(), expected, rtol=0, atol=0)


def test_shape_mismatch_keeps_state(holding: tuple[Any, KLDivergence]) -> None:
    xp, metric = holding
    before, expected = metric.state, to_numpy(metric.compute())
    with pytest.raises(ValueError, match=r"p \(3, 5\), q \(2, 5\)"):
        metric.update(xp.asarray(np.ones((3, 5))), xp.asarray(np.ones((2, 5))))
    with pytest.raises(ValueError, match="trailing axes"):
        metric.update(xp.asarray(np.ones((3, 2, 5))), xp.asarray(np.ones((3, 2, 5))))
    with pytest.raises(ValueError, match="axis"):
        KLDivergence(axis=2).update(xp.asarray(np.ones((3, 5))), xp.asarray(np.ones((3, 5))))
    assert_kept(metric, before, expected)


def test_other_library_keeps_state(holding: tuple[Any, KLDivergence]) -> None:
    xp, metric = holding
    before, expected = metric.state, to_numpy(metric.compute())
    strict = pytest.importorskip("array_api_strict")
    other = strict if "strict" not in getattr(xp, "__name__", "") else np
    p, q = batches(14, [2])[0]
    with pytest.raises(TypeError, match="reset"):
        metric.update(other.asarray(p), other.asarray(q))
    with pytest.raises(TypeError, match="different libraries"):
        metric.update(xp.asarray(p), other.asarray(q))
    foreign = fed(KLDivergence(reduction="none"), other, [(p, q)])
    with pytest.raises(TypeError, match="reset"):
        metric.merge(foreign)
    assert_kept(metric, before, expected)


def test_wrong_reduction_or_configuration_keeps_state(holding: tuple[Any, KLDivergence]) -> None:
    xp, metric = holding
    before, expected = metric.state, to_numpy(metric.compute())
    with pytest.raises(ValueError, match="reduction='batchmean' is not supported"):
        KLDivergence(reduction="batchmean")
    with pytest.raises(TypeError, match="log_prob"):
        KLDivergence(log_prob=1)  # type: ignore[arg-type]
    for other in (KLDivergence(reduction="sum"), KLDivergence(log_prob=True, reduction="none")):
        fed(other, xp, batches(15, [2], log_prob=other.log_prob))
        with pytest.raises(ValueError, match="configured differently"):
            metric.merge(other)
    with pytest.raises(TypeError, match="cannot merge"):
        metric.merge(JensenShannonDivergence(reduction="none"))  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        metric.reduction = "sum"  # type: ignore[misc]
    metric._reduction = "batchmean"  # corrupted from outside: update refuses, state kept
    with pytest.raises(ValueError, match="reduction"):
        metric.update(*(xp.asarray(a) for a in batches(16, [2])[0]))
    metric._reduction = "none"
    assert KLDivergence(reduction=None).merge(metric).compute().shape == (5,)
    assert_kept(metric, before, expected)


def test_bad_values_keep_state(holding: tuple[Any, KLDivergence]) -> None:
    xp, metric = holding
    before, expected = metric.state, to_numpy(metric.compute())
    p, q = batches(17, [2])[0]
    p[0, 0] = -0.5
    if "dask" in getattr(xp, "__name__", ""):
        pytest.skip("value checks are skipped on lazy arrays")
    with pytest.raises(ValueError, match="p contains negative"):
        metric.update(xp.asarray(p), xp.asarray(q))
    assert_kept(metric, before, expected)


def test_validate_args_default_and_override(
    xp: Any, set_validate_args: Callable[[bool | None], None]
) -> None:
    p, q = batches(18, [2])[0]
    p[0, 0] = -0.5
    lazy = "dask" in getattr(xp, "__name__", "")
    set_validate_args(False)
    KLDivergence().update(xp.asarray(p), xp.asarray(q))  # no check: NaN row
    set_validate_args(None)
    KLDivergence(validate_args=False).update(xp.asarray(p), xp.asarray(q))
    if lazy:
        KLDivergence().update(xp.asarray(p), xp.asarray(q))  # skipped on lazy arrays
    else:
        with pytest.raises(ValueError, match="negative"):
            KLDivergence().update(xp.asarray(p), xp.asarray(q))


def test_synced_metric_refuses_updates(xp: Any) -> None:
    metric = fed(KLDivergence(), xp, batches(19, [2]))
    before = metric.state
    metric._local = before  # what sync() leaves behind under a process group
    with pytest.raises(RuntimeError, match="synced"):
        metric.update(*(xp.asarray(a) for a in batches(20, [2])[0]))
    with pytest.raises(RuntimeError, match="synced"):
        metric.merge(KLDivergence())
    assert metric.unsync().state is before


# --- lazy backends -------------------------------------------------------------------------------


def test_dask_metric_stays_lazy() -> None:
    dask = pytest.importorskip("dask")
    import dask.array as da

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a Dask graph was computed")

    data = batches(21, [40, 60], width=8)
    chunked = [tuple(da.from_array(a, chunks=(10, 8)) for a in pair) for pair in data]
    metrics = [KLDivergence(), JensenShannonDivergence(reduction="none")]
    with dask.config.set(scheduler=refuse):
        for metric in metrics:
            for p, q in chunked:
                metric.update(p, q)
        results = [metric.compute() for metric in metrics]
        functional = kldiv.kl_divergence(*chunked[0], reduction="sum")
    assert all(isinstance(value, da.Array) for value in (*results, functional))
    whole_p, whole_q = (np.concatenate(arrays) for arrays in zip(*data, strict=True))
    assert_close(results[0], kldiv.kl_divergence(whole_p, whole_q))
    assert_close(results[1], kldiv.js_divergence(whole_p, whole_q, reduction="none"))
    assert_close(functional, kldiv.kl_divergence(*data[0], reduction="sum"), rtol=1e-12)


def test_jax_metric_under_jit(jax_x64: Any) -> None:
    jax = jax_x64
    import jax.numpy as jnp

    data = batches(22, [3, 4])

    @jax.jit
    def streamed(p0: Any, q0: Any, p1: Any, q1: Any) -> Any:
        metric = KLDivergence(validate_args=False)
        metric.update(p0, q0)
        metric.update(p1, q1)
        return metric.compute()

    result = streamed(*(jnp.asarray(a) for pair in data for a in pair))
    whole_p, whole_q = (np.concatenate(arrays) for arrays in zip(*data, strict=True))
    assert_close(result, kldiv.kl_divergence(whole_p, whole_q))
