"""The baseline gate measured on simulated suites (seeded, so the figures are fixed)."""

from __future__ import annotations

from gate_simulation import gate_rates


def test_gate_rarely_fires_on_noise_and_catches_ten_more_points_of_hallucination() -> None:
    rates = gate_rates(questions=200, samples=3, runs=600)
    assert rates.false_alarms <= 0.05, rates
    assert rates.power >= 0.90, rates


def test_small_suites_keep_false_alarms_at_the_level_too() -> None:
    rates = gate_rates(questions=50, samples=3, runs=600)
    assert rates.false_alarms <= 0.05, rates
    # Power falls with suite size; this pins the figure the README quotes, roughly.
    assert 0.4 <= rates.power <= 0.9, rates
