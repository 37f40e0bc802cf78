"""The generated Targets table judges the p99 targets round by round against the ceiling."""

from __future__ import annotations

from typing import Any

from benchmarks.report import p99_over_ceiling, targets_evaluate


def _target(rps: float, p99s: list[float] | None, p99: float) -> dict[str, Any]:
    measured: dict[str, Any] = {"requests_per_s": rps, "p99_ms": p99, "errors": 0}
    if p99s is not None:
        measured["rounds_p99_ms"] = p99s
    return measured


def test_the_p99_ratio_is_the_median_of_each_rounds_own_ratio() -> None:
    targets = {
        "a1_single_row": _target(1000, [10, 40, 20], 20),
        # Its p99 tracks the ceiling's round by round: 1.2× every round, whatever the load.
        "c_tariff_304": _target(800, [12, 48, 24], 24),
    }
    assert p99_over_ceiling(targets, "c_tariff_304") == 1.2


def test_a_run_without_per_round_p99s_compares_the_median_rounds() -> None:
    targets = {
        "a1_single_row": _target(1000, None, 20),
        "b_tariff_200": _target(700, None, 40),
    }
    assert p99_over_ceiling(targets, "b_tariff_200") == 2.0


def test_every_tariff_200_and_304_has_a_p99_row_and_a_missing_one_says_so() -> None:
    targets = {
        "a1_single_row": _target(1000, [20, 20], 20),
        "b_tariff_200": _target(700, [25, 35], 30),  # 1.25× and 1.75×: median 1.5×, met
        "c_tariff_304": _target(850, [31, 31], 31),  # 1.55×: missed
        "i_published_304": _target(900, [20, 20], 20),
    }
    rows = {name: (measured, met) for name, measured, met, _ in targets_evaluate(targets, {})}
    assert rows["p99 of (b) ≤ 1.5 × p99 of (a′)"] == ("1.50× (30.0 ms vs 20.0 ms)", True)
    assert rows["p99 of (c) ≤ 1.5 × p99 of (a′)"][1] is False
    assert rows["p99 of (i) ≤ 1.5 × p99 of (a′)"][1] is True
    assert rows["p99 of (j) ≤ 1.5 × p99 of (a′)"] == ("not in this run", False)
    # The throughput targets beside them, and a peer this run did not measure.
    assert rows["(c) ≥ 0.8 × (a′)"] == ("0.85×", True)
    assert rows["(b) ≥ 1.5 × peer protected resource"] == ("not in this run", False)
