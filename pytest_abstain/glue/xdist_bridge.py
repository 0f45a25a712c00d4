"""pytest glue for pytest-xdist: what a worker has queued, and what crosses to the controller
on the public `user_properties` of a report (pytest serialises them for xdist): a question's
record, a judge calibration case, the reason the run stopped early, and how a worker's asking
went (so the controller can stop the run on the count of every worker's replies). The
controller answers through a file named in each worker's `workerinput`."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    # Imported where a report is read: the standby (standby.py) asks every report of a run
    # whether it carries one, and most runs hold no honesty question.
    from ..asking.asker import Tally
    from ..records import JudgeCase, QuestionRecord

#: The user property that carries a question's record to the controller. It is put on the
#: reports only, never on the item: JUnit XML writes an item's properties, and the record
#: (every reply) does not belong there.
RECORD_PROPERTY = "abstain_record"


#: The user property that carries a calibration case's result (also in JUnit XML).
CASE_PROPERTY = "abstain_judge_case"
#: The user property on the question after which the run stopped early, with the reason.
STOP_PROPERTY = "abstain_stopped_early"
#: The user property of a test whose abstain marker is malformed (exit 2, as a bad suite).
MALFORMED_PROPERTY = "abstain_malformed"
#: The report property with the worker's asking so far (on reports only, like the record).
TALLY_PROPERTY = "abstain_tally"
#: The workerinput key naming the file where the controller writes why the run stops.
STOP_FILE_INPUT = "abstain_stop_file"
#: The user property of a question past (or near) its valid_until: on the item, so that a
#: question skipped as stale still tells the controller (and JUnit XML shows the date).
EXPIRY_PROPERTY = "abstain_expiry"
_PROPERTIES = frozenset(
    {RECORD_PROPERTY, CASE_PROPERTY, STOP_PROPERTY, MALFORMED_PROPERTY, TALLY_PROPERTY,
     EXPIRY_PROPERTY}
)  # fmt: skip


def carries_honesty(report: pytest.TestReport) -> bool:
    """Whether `report` is an honesty question's: it carries a record, a case, a stop, a
    worker's tally or a malformed marker."""
    return any(name in _PROPERTIES for name, _ in report.user_properties)


def attach_case(item: pytest.Item, case: JudgeCase) -> None:
    item.user_properties.append((CASE_PROPERTY, json.dumps(dataclasses.asdict(case))))


def attached_case(report: pytest.TestReport) -> JudgeCase | None:
    from ..records import JudgeCase

    for name, value in report.user_properties:
        if name == CASE_PROPERTY:
            return JudgeCase(**json.loads(str(value)))
    return None


def mark_stopped(item: pytest.Item, reason: str) -> None:
    if (STOP_PROPERTY, reason) not in item.user_properties:
        item.user_properties.append((STOP_PROPERTY, reason))


def stopped_after(report: pytest.TestReport) -> str | None:
    """Why the run stopped early, when it did by this report's question."""
    return next(
        (str(value) for name, value in report.user_properties if name == STOP_PROPERTY), None
    )


def mark_malformed(item: pytest.Item) -> None:
    item.user_properties.append((MALFORMED_PROPERTY, True))


def is_malformed(report: pytest.TestReport) -> bool:
    return any(name == MALFORMED_PROPERTY for name, _ in report.user_properties)


def mark_expiry(item: pytest.Item, note: dict[str, Any]) -> None:
    item.user_properties.append((EXPIRY_PROPERTY, json.dumps(note)))


def expiry_of(report: pytest.TestReport) -> dict[str, Any] | None:
    for name, value in report.user_properties:
        if name == EXPIRY_PROPERTY:
            note: dict[str, Any] = json.loads(str(value))
            return note
    return None


def attach_tally(report: pytest.TestReport, worker: str, tally: Tally) -> None:
    value = {"worker": worker, "succeeded": tally.succeeded, "failures": tally.first_failures}
    report.user_properties.append((TALLY_PROPERTY, json.dumps(value)))


def attached_tally(report: pytest.TestReport) -> tuple[str, Tally] | None:
    from ..asking.asker import Tally

    for name, value in report.user_properties:
        if name == TALLY_PROPERTY:
            data = json.loads(str(value))
            return str(data["worker"]), Tally(int(data["succeeded"]), tuple(data["failures"]))
    return None


def attach_record(report: pytest.TestReport, record: QuestionRecord) -> None:
    report.user_properties.append((RECORD_PROPERTY, json.dumps(record.to_json())))


def attached_record(report: pytest.TestReport) -> QuestionRecord | None:
    from ..records import QuestionRecord

    for name, value in report.user_properties:
        if name == RECORD_PROPERTY:
            return QuestionRecord.from_json(json.loads(str(value)))
    return None


def queued_on_this_worker(config: pytest.Config) -> list[int]:
    """Indices of the items xdist has sent this worker and it has not run yet.

    xdist has no public API for this, so this reads its worker queue defensively: if that
    ever changes, the worker asks each question when its test starts, which is slower but
    still correct.
    """
    for plugin in config.pluginmanager.get_plugins():
        queue = getattr(plugin, "torun", None)
        if queue is None or not hasattr(queue, "lock"):
            continue
        try:
            with queue.lock() as pending:
                return [index for index in pending if isinstance(index, int)]
        except Exception:
            return []
    return []
