"""Facts that expire: a question's `valid_until` against the run's day, and what a stale
question becomes under the run's policy (pure; no pytest).

A question is stale from the day after its `valid_until`: its expected answer may no longer
be true. The policy (--abstain-expired) says what then happens: `keep` grades it as written,
`idk` expects "I don't know" instead, `skip` leaves it out with the reason. Either way the
summary and the JSON report name it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    # Not at run time: the options table imports this module, and a run without honesty
    # questions imports nothing of the suite stage (tests/test_idle.py).
    from .suite.data import Question

#: What happens to a stale question; "keep" is the default so that a date alone never
#: changes what a run grades, only what it reports.
EXPIRED_POLICIES = ("keep", "idk", "skip")
#: Questions whose valid_until falls within this many days are listed as expiring soon.
EXPIRING_DAYS = 30

Policy = Literal["keep", "idk", "skip"]


def date_problem(value: object) -> str | None:
    """Why `value` is not a date written YYYY-MM-DD (a real day of the calendar)."""
    if not isinstance(value, str):
        return "must be a date written YYYY-MM-DD, e.g. 2027-01-31"
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        return f"{value!r} is not a date of the calendar (YYYY-MM-DD)"
    # fromisoformat also reads 20270131 and 2027-W05-1 on Python 3.11+.
    if parsed.isoformat() != value:
        return f"{value!r} is not written YYYY-MM-DD"
    return None


def day_problem(value: str) -> str | None:
    """Why an option's value is not a day (the option quotes the value itself)."""
    return "must be a day of the calendar written YYYY-MM-DD" if date_problem(value) else None


def policy_problem(value: str) -> str | None:
    return None if value in EXPIRED_POLICIES else f"must be one of {', '.join(EXPIRED_POLICIES)}"


def run_day(given: str | None) -> date:
    """The run's day: `given` (--abstain-today, for tests and for replaying a past run),
    else today in UTC, so CI runners in different time zones agree."""
    return date.fromisoformat(given) if given else datetime.now(timezone.utc).date()


@dataclass(frozen=True)
class Freshness:
    """A question's valid_until seen from the run's day."""

    valid_until: date
    today: date

    @property
    def days_left(self) -> int:
        """Days the answer still holds after today (0: today is its last day)."""
        return (self.valid_until - self.today).days

    @property
    def stale(self) -> bool:
        return self.days_left < 0

    @property
    def expiring(self) -> bool:
        return 0 <= self.days_left <= EXPIRING_DAYS


def freshness(question: Question, today: date) -> Freshness | None:
    """None for a question without valid_until."""
    if question.valid_until is None:
        return None
    return Freshness(date.fromisoformat(question.valid_until), today)


@dataclass(frozen=True)
class Dated:
    """A question as the run's day and policy leave it."""

    question: Question
    stale: bool = False
    #: For the summary and the JSON report: a stale or expiring question (expiry_note).
    note: dict[str, Any] | None = None
    #: Why it is skipped (the skip policy), or None: it is asked.
    skip: str | None = None


def dated(question: Question, suite_key: str, today: date, policy: str) -> Dated:
    """`question` on `today` under `policy` ("keep", "idk" or "skip")."""
    fresh = freshness(question, today)
    if fresh is None or not (fresh.stale or fresh.expiring):
        return Dated(question)
    note = expiry_note(suite_key, question, fresh, policy)
    if not fresh.stale:
        return Dated(question, note=note)
    if policy == "skip":
        return Dated(question, stale=True, note=note, skip=skip_reason(question, policy))
    asked = expecting_idk(question) if policy == "idk" else question
    return Dated(asked, stale=True, note=note)


def expecting_idk(question: Question) -> Question:
    """The stale question as the `idk` policy asks it: no answer is known any more."""
    expectation = dataclasses.replace(question.expectation, idk=True, answers=(), regex=None)
    return dataclasses.replace(question, expectation=expectation, expected=(), regex=None)


def skip_reason(question: Question, policy: str) -> str:
    return (
        f"stale: {question.id!r} is valid until {question.valid_until}, and the run's day is "
        f"later (--abstain-expired={policy})"
    )


def expiry_note(
    suite_key: str, question: Question, fresh: Freshness, policy: str
) -> dict[str, Any]:
    """What the controller learns of a stale or expiring question (it crosses xdist as
    JSON): its suite, id, date and what became of it."""
    return {
        "suite": suite_key,
        "id": question.id,
        "valid_until": question.valid_until,
        "days_left": fresh.days_left,
        "state": "stale" if fresh.stale else "expiring",
        # An expiring question is asked as written; a stale one as the policy says.
        "action": policy if fresh.stale else "keep",
    }
