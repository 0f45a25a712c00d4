"""The baseline file: per-question grade counts pooled over recorded runs (pure; no pytest).

Each recording (a run with --abstain-update-baseline) adds its samples to every question's
pool, so the baseline grows more precise with time instead of being one run, lucky or not.
The pool is capped at `POOL_RUNS` runs' worth of samples: past the cap, a random subset of the
older samples is dropped, so an old model ages out (a quarter of its weight per recording at
the default) and the samples kept are still real draws, as the pooled test assumes. A
question whose text or answer changed starts a new pool; so does a suite whose setup (prompt,
model, judge, t, ...) changed, or one recorded with --abstain-baseline-restart.

Keys are sorted and questions keyed by id, so the file's diff in a pull request shows
exactly which questions changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jsonschema

from ..files import write_atomic
from ..records import Counts, Grade, SuiteInfo
from ..schema import load_schema, plugin_version
from .scoring import compute_metrics, counts_json, metrics_json
from .suites import SuiteResult

BASELINE_VERSION = 2
#: Versions this pytest-abstain reads: a version 1 file is one run (a pool of one).
READ_VERSIONS = (1, 2)
#: A question's pool keeps at most this many runs' worth of samples (of the run recording).
POOL_RUNS = 4
#: What produced a suite's runs: when one of these differs, the old pool describes another
#: setup and the recording starts a new one (a key missing on either side is unknown, no change).
SETUP_KEYS = (
    "responder",
    "endpoint",
    "prompt_template_sha256",
    "system_prompt_sha256",
    "judge",
    "judge_when",
    "judge_prompt_sha256",
    "verbal_confidence",
    "served_models",
    "generation",
)


class BaselineError(Exception):
    """A baseline file that cannot be used; it is left exactly as it is."""


@dataclass(frozen=True)
class BaselineQuestion:
    counts: Counts
    tags: tuple[str, ...] = ()
    #: sha256 of the question text and its expected answer (None in hand-made baselines).
    sha256: str | None = None
    #: The reply that decided its grade, shortened (None in baselines made before 0.2).
    reply: str | None = None
    #: How many recorded runs the counts pool (1 in version 1 files).
    runs: int = 1


@dataclass(frozen=True)
class BaselineSuite:
    name: str
    threshold: float
    samples: int
    produced_by: dict[str, Any]
    questions: dict[str, BaselineQuestion] = field(default_factory=dict)
    #: The suite's file (or test module) when the entry was made, as pytest names it; None
    #: in older baselines, whose keys are the path (with the model and t).
    path: str | None = None
    #: Runs recorded into the pool since it started, and the date it started (None: unknown).
    recordings: int = 1
    pooled_since: str | None = None

    def source(self, key: str) -> str:
        """Where the suite lived: its path, or for an older entry its key without the model
        and t ('honesty/abstain_facts.yaml[gpt-4o][t=0.9]' → 'honesty/abstain_facts.yaml')."""
        if self.path is not None:
            return self.path
        stripped = strip_variants(key)
        return stripped if stripped.endswith(_SUITE_ENDINGS) else key


_VARIANTS = re.compile(r"(\[[^\[\]]*\])+$")
_SUITE_ENDINGS = (".yaml", ".yml", ".py")


def strip_variants(key: str) -> str:
    """A suite key without the model and t a side-by-side run or a sweep adds."""
    return _VARIANTS.sub("", key)


@dataclass(frozen=True)
class Baseline:
    created: str
    tool_version: str
    suites: dict[str, BaselineSuite] = field(default_factory=dict)
    #: The file it was read from, as the command that accepts a change should name it.
    shown_path: str | None = None

    def entry_of(self, info: SuiteInfo) -> tuple[str, BaselineSuite] | None:
        """(key, entry) of a suite: under its baseline key, else (an entry made before the
        suite had a name or a baseline_key) under its path."""
        for key in dict.fromkeys((info.baseline_id, info.key)):
            if key in self.suites:
                return key, self.suites[key]
        return None


def baseline_schema() -> dict[str, Any]:
    """The published JSON Schema of the baseline file."""
    return load_schema("baseline")


def read_baseline(path: Path, shown: str | None = None) -> Baseline | None:
    """The baseline at `path`, None when there is no file; BaselineError when unusable.
    `shown`: the path as messages should name it (default: `path`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as exc:
        raise BaselineError(
            f"baseline {path}: not UTF-8 text ({exc.reason} at byte {exc.start}); {_RECREATE}"
        ) from None
    except OSError as exc:
        raise BaselineError(f"baseline {path}: cannot read it: {exc.strerror or exc}") from None
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise BaselineError(
            f"baseline {path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "it may be truncated or hold merge-conflict markers. Fix it, or delete it and "
            "re-create it with --abstain-update-baseline"
        ) from None
    except RecursionError:  # thousands of nested brackets
        raise BaselineError(
            f"baseline {path}: not usable JSON: nested too deeply; {_RECREATE}"
        ) from None
    # NaN/Infinity, which pass every bound of the schema, or an integer too long to read.
    except ValueError as exc:
        reason = str(exc).splitlines()[0][:200]
        raise BaselineError(f"baseline {path}: not usable JSON: {reason}; {_RECREATE}") from None
    if not isinstance(data, dict):
        kind = _JSON_KINDS.get(type(data), "a number")
        raise BaselineError(
            f"baseline {path}: the top level is {kind}, not a JSON object; is it a "
            f"pytest-abstain baseline? {_RECREATE}"
        )
    if data.get("version") not in READ_VERSIONS:
        found = (
            "has no 'version'"
            if "version" not in data
            else f"version {_clip(repr(data['version']))} is not supported"
        )
        raise BaselineError(
            f"baseline {path}: {found} (this pytest-abstain reads versions "
            f"{', '.join(map(str, READ_VERSIONS))}); "
            f"{_RECREATE}"
        )
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(baseline_schema()).iter_errors(data)
    )
    if error is not None:
        where = "/".join(map(str, error.absolute_path)) or "top level"
        # jsonschema quotes the whole offending value, which can be the whole file.
        raise BaselineError(f"baseline {path}: {_clip(where)}: {_clip(error.message, 300)}")
    return Baseline(
        created=data["created"],
        tool_version=data["tool"]["version"],
        suites={key: _suite_from(raw) for key, raw in data["suites"].items()},
        shown_path=shown or str(path),
    )


_JSON_KINDS = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
_RECREATE = "fix it, or delete it and re-create it with --abstain-update-baseline"


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number a baseline can hold")


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else f"{text[: limit - 15]}... ({len(text):,} chars)"


def _suite_from(raw: Mapping[str, Any]) -> BaselineSuite:
    questions = {
        qid: BaselineQuestion(
            counts=Counts(q["correct"], q["wrong"], q["abstained"]),
            tags=tuple(q.get("tags", ())),
            sha256=q.get("sha256"),
            reply=q.get("reply"),
            runs=q.get("runs", 1),
        )
        for qid, q in raw["questions"].items()
    }
    return BaselineSuite(
        name=raw["name"],
        threshold=raw["threshold"],
        samples=raw["samples"],
        produced_by=dict(raw["produced_by"]),
        questions=questions,
        path=raw.get("path"),
        recordings=raw.get("recordings", 1),
        pooled_since=raw.get("pooled_since", raw["produced_by"].get("date")),
    )


def suite_baseline(result: SuiteResult) -> BaselineSuite:
    """A suite's results as a baseline entry; questions without a graded reply are left out."""
    info = result.info
    questions = {}
    for record in result.questions:
        counts = record.counts
        if counts.graded:
            graded = Counts(counts.correct, counts.wrong, counts.abstained)
            questions[record.id] = BaselineQuestion(
                graded, tuple(record.tags), record.content_sha, record.short_reply
            )
    today = datetime.now(timezone.utc).date().isoformat()
    return BaselineSuite(
        name=info.name,
        threshold=info.threshold,
        samples=info.samples,
        pooled_since=today,
        produced_by={
            "responder": info.responder,
            "endpoint": info.endpoint,
            "prompt_template_sha256": info.prompt_sha,
            "system_prompt_sha256": info.system_prompt_sha,
            "judge": info.judge,
            "judge_when": info.judge_when,
            "judge_prompt_sha256": info.judge_prompt_sha,
            "verbal_confidence": info.verbal_confidence,
            # Who answered, as the endpoint said: the baseline may belong to another model.
            "served_models": sorted(result.served.models),
            "generation": info.generation,
            "plugin_version": plugin_version(),
            "date": today,
        },
        questions=questions,
        path=info.source,
    )


def shared_keys(results: Iterable[SuiteResult]) -> dict[str, str]:
    """Baseline keys that several suites of the run share (the same name in two files),
    each with the message that says so: one entry cannot hold two suites."""
    owners: dict[str, list[str]] = {}
    for result in results:
        owners.setdefault(result.info.baseline_id, []).append(result.info.key)
    return {
        key: f"suites {', '.join(keys)} share the baseline key {key!r} (a name: or "
        "baseline_key:), so one baseline entry would hold both: give each its own"
        for key, keys in owners.items()
        if len(keys) > 1
    }


@dataclass(frozen=True)
class Update:
    """A baseline file rewritten: what it holds now, and which entries left or moved."""

    baseline: Baseline
    #: Entries dropped because no suite claims them any more (`orphans` that were present).
    dropped: tuple[str, ...] = ()
    #: (old key, new key): entries kept under a path, now under the suite's name or key.
    rekeyed: tuple[tuple[str, str], ...] = ()


def updated(
    old: Baseline | None,
    results: Iterable[SuiteResult],
    orphans: Iterable[str] = (),
    restart: bool = False,
) -> Update:
    """`old` with this run recorded into the suites that ran, and the `orphans` (entries of
    suites removed or renamed) dropped; the other suites' entries are kept.

    A recording pools each question's samples with its old ones (see the module's docstring);
    `restart` starts every suite that ran afresh from this run, as accepting an intended change
    does. Questions deleted from the suite leave its entry; questions that did not run (-k, -x)
    or got no graded reply keep their pool. An entry found under the suite's path moves to its
    baseline key (its name, or baseline_key).
    """
    results = list(results)
    shared = shared_keys(results)
    if shared:
        raise BaselineError(next(iter(shared.values())))
    suites = dict(old.suites) if old else {}
    rekeyed = []
    for result in results:
        new = suite_baseline(result)
        found = old.entry_of(result.info) if old else None
        previous = None if found is None or restart else found[1]
        if previous is not None and not same_setup(previous, new):
            previous = None
        if previous is not None:
            new = pooled(previous, new, result)
        key = result.info.baseline_id
        if found is not None and found[0] != key:
            suites.pop(found[0], None)
            rekeyed.append((found[0], key))
        suites[key] = new
    dropped = tuple(key for key in orphans if suites.pop(key, None) is not None)
    baseline = Baseline(
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        tool_version=plugin_version(),
        suites=suites,
    )
    return Update(baseline, dropped, tuple(rekeyed))


def same_setup(previous: BaselineSuite, new: BaselineSuite) -> bool:
    """Whether `new` was produced the way `previous` was, so their samples can be pooled."""
    if abs(previous.threshold - new.threshold) > 1e-12:
        return False
    made, now = previous.produced_by, new.produced_by
    return all(made[key] == now[key] for key in SETUP_KEYS if key in made and key in now)


def pooled(previous: BaselineSuite, new: BaselineSuite, result: SuiteResult) -> BaselineSuite:
    """`new` (this run's entry) with each question's old pool added, capped."""
    cap = POOL_RUNS * new.samples
    questions: dict[str, BaselineQuestion] = {}
    ran = {record.id for record in result.questions}
    for qid, kept in previous.questions.items():
        # Not run (-k), or no graded reply this time: not measured, so the pool stands.
        if qid not in new.questions and (result.partial or qid in ran):
            questions[qid] = kept
    for qid, fresh in new.questions.items():
        kept_or_none = previous.questions.get(qid)
        if kept_or_none is None or kept_or_none.sha256 not in (None, fresh.sha256):
            questions[qid] = fresh  # new, or edited: another question, a new pool
            continue
        thinned = _thinned(qid, kept_or_none, max(0, cap - fresh.counts.graded))
        questions[qid] = replace(
            fresh,
            counts=thinned + fresh.counts,
            runs=kept_or_none.runs + 1,
            # The reply that decided the grade: this run's, unless it gave none.
            reply=fresh.reply if fresh.reply is not None else kept_or_none.reply,
        )
    return replace(
        new,
        questions=questions,
        recordings=previous.recordings + 1,
        pooled_since=previous.pooled_since,
    )


def _thinned(qid: str, kept: BaselineQuestion, keep: int) -> Counts:
    """`keep` of the samples of the pool `kept`, a uniformly random subset (all when fewer).

    Seeded by the question, its pool and its number of runs, so the same update writes the
    same file, and each recording draws afresh (the counts alone could repeat for ever)."""
    counts = kept.counts
    if counts.graded <= keep:
        return counts
    state = f"{qid}|{counts.correct}|{counts.wrong}|{counts.abstained}|{kept.runs}|{keep}"
    rng = random.Random(hashlib.sha256(state.encode()).digest())
    grades: list[Grade] = ["correct", "wrong", "abstained"]
    samples = [
        g
        for g, n in zip(grades, (counts.correct, counts.wrong, counts.abstained), strict=True)
        for _ in range(n)
    ]
    return Counts.of(rng.sample(samples, keep))


def baseline_json(baseline: Baseline) -> dict[str, Any]:
    suites = {}
    for key, suite in baseline.suites.items():
        total = Counts.summed(q.counts for q in suite.questions.values())
        metrics = metrics_json(compute_metrics(total, suite.threshold))
        del metrics["error"]  # errors are never stored in a baseline
        suites[key] = {
            **({"path": suite.path} if suite.path is not None else {}),
            "name": suite.name,
            "threshold": suite.threshold,
            "samples": suite.samples,
            "recordings": suite.recordings,
            **({"pooled_since": suite.pooled_since} if suite.pooled_since else {}),
            "produced_by": suite.produced_by,
            "metrics": metrics,
            "questions": {
                qid: {
                    **counts_json(q.counts),
                    **({"tags": list(q.tags)} if q.tags else {}),
                    **({"sha256": q.sha256} if q.sha256 else {}),
                    **({"reply": q.reply} if q.reply is not None else {}),
                    "runs": q.runs,
                }
                for qid, q in suite.questions.items()
            },
        }
    return {
        "version": BASELINE_VERSION,
        "tool": {"name": "pytest-abstain", "version": baseline.tool_version},
        "created": baseline.created,
        "suites": suites,
    }


def write_baseline(path: Path, baseline: Baseline) -> None:
    """Write atomically, keys sorted: readers never see half a file, diffs stay small."""
    text = json.dumps(baseline_json(baseline), indent=2, sort_keys=True, ensure_ascii=False)
    write_atomic(path, text + "\n")


def update_baseline(
    path: Path, results: Iterable[SuiteResult], orphans: Iterable[str] = (), restart: bool = False
) -> Update:
    """Record `results` into the baseline file as it is now (pooled, or from scratch with
    `restart`), drop `orphans`, under a lock, and write it.

    Read again under the lock rather than taken from the start of the run: another run may
    have updated other suites meanwhile (two CI jobs, one file), and its suites must survive.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path.parent):
        update = updated(read_baseline(path), results, orphans, restart)
        write_baseline(path, update.baseline)
    return update


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive advisory lock on `folder`, held until the block ends.

    The folder, not the file: the file is replaced by a rename, so a lock on it would
    guard an inode nobody reads again, and a separate lock file would litter the repo.
    """
    try:
        import fcntl
    except ImportError:  # Windows: no flock; concurrent updates there are last-writer-wins
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
