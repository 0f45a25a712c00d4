"""Baseline entries that no suite of the run claims: a suite removed, renamed or moved, or
one the run did not collect (-k, -m, a path), told apart so that only a suite gone from a
run that collected everything where it lived fails the gate (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..records import OrphanEntry
from .baseline import Baseline, BaselineSuite, strip_variants
from .suites import SuiteResult

#: Share of an entry's questions (same id, same text) a suite must hold to look renamed.
RENAME_SHARE = 0.5


@dataclass(frozen=True)
class Scope:
    """What the run collected, as the glue saw it."""

    #: Why it is a subset of the suites its paths hold ("-k", "-m", "3 deselected"); None:
    #: every suite there was collected.
    subset: str | None = None
    #: The paths collected, as pytest names them (relative to the rootdir; "" is all of it).
    paths: tuple[str, ...] = ("",)

    def covers(self, path: str) -> bool:
        """Whether a suite at `path` would have been collected by this run."""
        return any(
            root in ("", ".") or path == root or path.startswith(root.rstrip("/") + "/")
            for root in self.paths
        )


def unclaimed(results: Sequence[SuiteResult], baseline: Baseline) -> dict[str, BaselineSuite]:
    """The baseline's entries that no suite of `results` is compared with."""
    claimed = {found[0] for r in results if (found := baseline.entry_of(r.info)) is not None}
    return {key: entry for key, entry in baseline.suites.items() if key not in claimed}


def renamed_from(result: SuiteResult, candidates: Mapping[str, BaselineSuite]) -> str | None:
    """The entry among `candidates` that holds most of `result`'s questions (same id, same
    text), when it holds at least half of them: the suite was probably renamed from it."""
    now = {record.id: record.content_sha for record in result.questions}
    best, best_same = None, 0
    for key, entry in candidates.items():
        same = sum(
            1 for qid, q in entry.questions.items() if qid in now and q.sha256 in (None, now[qid])
        )
        # A partial run (-k) holds few questions: measure the share against what ran.
        size = len(now) if result.partial else max(len(now), len(entry.questions))
        if same > best_same and same >= RENAME_SHARE * size:
            best, best_same = key, same
    return best


def orphans(results: Sequence[SuiteResult], baseline: Baseline, scope: Scope) -> list[OrphanEntry]:
    """Every unclaimed entry, in key order, with what the run can say about it."""
    left = unclaimed(results, baseline)
    renamed: dict[str, str] = {}
    for result in results:
        if baseline.entry_of(result.info) is None:
            source = renamed_from(result, left)
            if source is not None:
                renamed.setdefault(source, result.info.key)
    # Its suite ran, as other variants (models side by side, a sweep's t's): not gone.
    ran = {r.info.source for r in results} | {strip_variants(r.info.baseline_id) for r in results}
    found = []
    for key in sorted(left):
        path = left[key].source(key)
        if path in ran or strip_variants(key) in ran:
            status = "other variant"
        elif scope.subset is None and scope.covers(path):
            status = "gone"
        else:
            status = "not collected"
        found.append(
            OrphanEntry(
                key=key,
                path=path,
                status=status,  # type: ignore[arg-type]
                renamed_to=renamed.get(key),
                subset=scope.subset if status == "not collected" else None,
            )
        )
    return found
