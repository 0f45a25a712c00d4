"""How numbers are shown to people, the same in gate messages and every report."""

from __future__ import annotations


def format_number(value: float) -> str:
    """Short human form: 3.0 -> '3', 2.3333 -> '2.33', 0.9 -> '0.9'."""
    return f"{value:.3g}"


def format_rate(value: float | None) -> str:
    """A metric to three decimals; 'n/a' where there was nothing to divide by."""
    return "n/a" if value is None else f"{value:.3f}"


def counted(count: int, one: str, many: str) -> str:
    """'1 reply', '3 replies'."""
    return f"{count} {one if count == 1 else many}"


def format_percent(value: float | None) -> str:
    """A share as a whole percentage: 0.625 -> '62%'; 'n/a' where there was none."""
    return "n/a" if value is None else f"{value * 100:.0f}%"
