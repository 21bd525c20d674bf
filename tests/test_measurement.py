"""es.measure: a torch module's latency on this machine, as a median with its spread."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import edgesim as es
from edgesim.errors import EdgesimError


def _conv() -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    torch.manual_seed(0)
    return nn.Conv2d(8, 8, 3, padding=1).eval(), (torch.randn(1, 8, 16, 16),)


def test_a_measurement_is_a_median_with_its_spread() -> None:
    module, inputs = _conv()
    before = {k: v.clone() for k, v in module.state_dict().items()}
    threads = torch.get_num_threads()
    m = es.measure(module, inputs, threads=1, repeats=9, warmup=1)
    assert len(m.samples_s) == 9 and m.threads == 1
    assert 0 < m.min_s <= m.p10_s <= m.median_s <= m.p90_s <= max(m.samples_s)
    assert m.median_s == sorted(m.samples_s)[4]
    assert m.spread == (m.p90_s - m.p10_s) / m.median_s
    assert torch.get_num_threads() == threads  # restored
    assert all(torch.equal(before[k], v) for k, v in module.state_dict().items())


def test_repeats_follow_the_time_budget_within_bounds() -> None:
    module, inputs = _conv()
    few = es.measure(module, inputs, min_time_s=0.0, min_repeats=3, max_repeats=50)
    assert len(few.samples_s) == 3  # the budget is met at once: the minimum count
    capped = es.measure(module, inputs, min_time_s=60.0, min_repeats=3, max_repeats=7)
    assert len(capped.samples_s) == 7  # a budget never met: the cap


def test_before_each_runs_untimed_before_every_call() -> None:
    module, inputs = _conv()
    calls: list[int] = []
    m = es.measure(module, inputs, repeats=4, warmup=2, before_each=lambda: calls.append(1))
    assert len(calls) == 6 and len(m.samples_s) == 4  # warm-up calls included


@pytest.mark.parametrize(("kwargs", "field"), [({"threads": 0}, "threads"),
                                               ({"repeats": 0}, "repeats"),
                                               ({"warmup": -1}, "warmup")])
def test_bad_arguments_name_their_field(kwargs: dict[str, int], field: str) -> None:
    module, inputs = _conv()
    with pytest.raises(EdgesimError) as err:
        es.measure(module, inputs, **kwargs)  # type: ignore[arg-type]
    assert err.value.field == field
    with pytest.raises(EdgesimError, match="tuple of example inputs"):
        es.measure(module, list(inputs))  # type: ignore[arg-type]
