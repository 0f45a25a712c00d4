"""Explaining cache misses: the indexed explanation against the one before issue 13.

    python benchmarks/cache_misses.py            # 1,000 entries, 1,000 misses, median of 3
    python benchmarks/cache_misses.py --quick    # 200 and 200, once: a smoke test
    python benchmarks/cache_misses.py --entries 2000

The scenario of the issue: a cache recorded at one threshold, replayed at another, so every
question misses and each miss is explained. The cache is real files in a temporary folder.
The reference is the old algorithm, written out below: every entry read for every miss. Both
run in the same process, interleaved, from a fresh ResponseCache each time (the index is built
inside the timing); the machine is shared, so the medians and their ratio are what to quote.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pytest_abstain.asking.cache import CacheKey, ResponseCache  # noqa: E402
from pytest_abstain.asking.misses import PART_ORDER, differences  # noqa: E402
from pytest_abstain.records import Reply  # noqa: E402

SYSTEM = "Answer only if you are more than {t}% confident; otherwise say you do not know."


def key(i: int, threshold: int) -> CacheKey:
    messages = [
        {"role": "system", "content": SYSTEM.format(t=threshold)},
        {"role": "user", "content": f"Question {i}: in which year did event {i} happen?"},
    ]
    return CacheKey.of("http://127.0.0.1:8000/v1", "model", {"temperature": 0}, messages, 0)


def old_explain_miss(root: Path, wanted_key: CacheKey) -> str:
    """ResponseCache.explain_miss before issue 13: reads every entry, for every miss."""
    wanted = wanted_key.parts()
    prompt = wanted_key.messages[-1][1] if wanted_key.messages else ""
    best: tuple[tuple[int, int], dict[str, Any]] | None = None
    for path in sorted(root.glob("*/*.json")):
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))["key"]
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            continue
        if not isinstance(stored, dict):
            continue
        differing = sum(1 for name in PART_ORDER if stored.get(name) != wanted[name])
        messages = stored.get("messages")
        last = messages[-1] if isinstance(messages, list) and messages else {}
        content = str(last.get("content", "")) if isinstance(last, dict) else ""
        shared = next(
            (i for i, (x, y) in enumerate(zip(content, prompt, strict=False)) if x != y),
            min(len(content), len(prompt)),
        )
        if best is None or (differing, -shared) < best[0]:
            best = ((differing, -shared), stored)
    if best is None:
        return f"the cache in {root} is empty"
    return "the closest cached entry differs in " + "; ".join(differences(best[1], wanted))


def timed(explain: Any, misses: list[CacheKey]) -> tuple[float, list[str]]:
    started = time.perf_counter()
    explained = [explain(miss) for miss in misses]
    return time.perf_counter() - started, explained


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 entries, one repeat")
    parser.add_argument("--entries", type=int, default=1000, help="entries, and misses")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    entries, repeats = (200, 1) if args.quick else (args.entries, args.repeats)

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        cache = ResponseCache(root)
        for i in range(entries):
            cache.put(key(i, 75), Reply(text="I don't know.", prompt_tokens=40))
        misses = [key(i, 90) for i in range(entries)]
        new_times, old_times = [], []
        for _ in range(repeats):
            new_time, new = timed(ResponseCache(root).explain_miss, misses)
            old_time, old = timed(lambda miss: old_explain_miss(root, miss), misses)
            if new != old:
                raise SystemExit("the explanations differ from the old algorithm's")
            new_times.append(new_time)
            old_times.append(old_time)

    new_median, old_median = statistics.median(new_times), statistics.median(old_times)
    print(f"{entries} entries, {entries} misses explained, median of {repeats}:")
    print(f"  indexed (now)     {new_median:9.3f} s  {new_median / entries * 1e6:9.1f} µs a miss")
    print(f"  every entry read  {old_median:9.3f} s  {old_median / entries * 1e6:9.1f} µs a miss")
    print(f"  ratio             {old_median / new_median:9.0f} x faster; same explanations")


if __name__ == "__main__":
    main()
