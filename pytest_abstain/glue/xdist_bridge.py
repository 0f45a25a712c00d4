"""pytest glue for pytest-xdist: what a worker has queued, and records crossing to the
controller on the public `user_properties` of a report (pytest serialises them for xdist)."""

from __future__ import annotations

import json

import pytest

from ..records import QuestionRecord

#: The user property that carries a question's record to the controller. It is put on the
#: reports only, never on the item: JUnit XML writes an item's properties, and the record
#: (every reply) does not belong there.
RECORD_PROPERTY = "abstain_record"


def attach_record(report: pytest.TestReport, record: QuestionRecord) -> None:
    report.user_properties.append((RECORD_PROPERTY, json.dumps(record.to_json())))


def attached_record(report: pytest.TestReport) -> QuestionRecord | None:
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
