"""From a question's plan to its record, outside pytest: replies (cache, asking, retries),
first grades (hooks or rules), the judge's verdicts, the record.

The pytest glue feeds it plans in item order and asks for each record when the item runs;
an xdist worker does the same with the items it is sent. Replies are asked concurrently on
the asker's event loop; grading runs on the caller's thread, because a team's grading hooks
and the regex deadline (a SIGALRM timer) belong on the main thread.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import dataclasses
import functools
from collections.abc import Callable, Hashable
from typing import Any, Protocol

from .asking.asker import Asker
from .asking.cache import CacheKey
from .asking.endpoints import SetupError
from .asking.responders import CallableResponder, Responder, WithContext
from .dialogue import pushback_messages, with_first_replies
from .grading import Search, response_format, rule_grade, unbounded_search
from .judging import VerdictError, parse_verdict
from .plan import FirstGrade, Graded, QuestionPlan, first_grades, judge_request, record_of, to_judge
from .records import JudgeCase, Message, QuestionRecord, Reply, joined
from .sampling import Settled

#: The keys of a question's later replies (samples: auto) and of its replies after the
#: pushback turn, beside its own.
FOLLOW_UP = " (follow-up)"
PUSHED_BACK = " (pushback)"


def _first_sample(key: str, plan: QuestionPlan) -> int:
    """The number of the first sample asked under `key`: 0, or after the first replies."""
    return plan.first_samples if key.removesuffix(PUSHED_BACK).endswith(FOLLOW_UP) else 0


def _question_key(key: str) -> str:
    """The question's key from one of its batches' keys (its pushback, its follow-ups)."""
    return key.removesuffix(PUSHED_BACK).removesuffix(FOLLOW_UP)


class NotAsked(Exception):
    """The run stopped early before this question was asked or judged."""


class Unanswered(Exception):
    """A question's request was cancelled while the run was not stopping."""


class ReplyCache(Protocol):
    """What the pipeline needs of a response cache (asking.cache.ResponseCache is one)."""

    @property
    def root(self) -> object: ...
    def get(self, key: CacheKey) -> Reply | None: ...
    def put(self, key: CacheKey, reply: Reply) -> None: ...
    def explain_miss(self, key: CacheKey) -> str: ...


@dataclasses.dataclass(frozen=True)
class Hooks:
    """A team's answers about one reply (None: no opinion), from its grading hooks."""

    grade: Callable[[QuestionPlan, str], object] = lambda plan, reply: None
    is_abstention: Callable[[QuestionPlan, str], object] = lambda plan, reply: None


def hooked_grade(plan: QuestionPlan, reply: str, hooks: Hooks, search: Search) -> Graded:
    """The team's grade if its hook gives one, else the string rules (with their doubt, for
    the judge), taking the team's word on abstention if it gives one."""
    given = hooks.grade(plan, reply)
    if given is not None:
        if given not in ("correct", "wrong", "abstained"):
            raise ValueError(
                f"pytest_abstain_grade_reply returned {given!r}: expected 'correct', "
                "'wrong', 'abstained' or None"
            )
        return Graded(given, "hook")
    abstained = hooks.is_abstention(plan, reply)
    if abstained is not None and not isinstance(abstained, bool):
        raise ValueError(
            f"pytest_abstain_is_abstention returned {abstained!r}: expected True, False or None"
        )
    rules = rule_grade(
        reply,
        plan.question.expectation,
        plan.idk_phrases,
        abstained=abstained,
        deflections=plan.deflections,
        search=search,
    )
    return Graded(rules.grade, "rules", rules.doubt)


def _readable_verdict(reply: Reply) -> bool:
    try:
        parse_verdict(reply.text or "")
    except VerdictError:
        return False
    return True


def _store_if(keep: Callable[[Reply], bool], store: Callable[[Reply], None], reply: Reply) -> None:
    if keep(reply):
        store(reply)


def _generation(responder: Responder) -> dict[str, Any] | None:
    """What a responder is asked with, for the record: None for a team's own callable (it
    takes no generation parameters), else its parameters as shown (secrets redacted)."""
    return None if responder.endpoint is None else dict(responder.params)


def _done(reply: Reply) -> concurrent.futures.Future[Reply]:
    future: concurrent.futures.Future[Reply] = concurrent.futures.Future()
    future.set_result(reply)
    return future


@dataclasses.dataclass
class _Judging:
    graded: list[FirstGrade]
    verdicts: dict[int, concurrent.futures.Future[Reply]]


class Pipeline:
    """Turns question plans into records. Each question is known by a key (its node id)."""

    def __init__(
        self,
        asker: Asker,
        *,
        responder: Callable[[QuestionPlan], Responder],
        judge: Callable[[QuestionPlan], Responder],
        cache: ReplyCache | None = None,
        record_mode: str = "missing",
        explain_misses: bool = False,
        hooks: Hooks = Hooks(),
        search: Search = unbounded_search,
        settle: Callable[[str, list[QuestionRecord]], Settled] | None = None,
    ) -> None:
        self.asker = asker
        self.cache = cache
        self.record_mode = record_mode
        self.explain_misses = explain_misses
        self._responder = responder
        self._judge = judge
        self._hooks = hooks
        self._search = search
        #: Why each cache miss missed, with --abstain-explain-misses.
        self.misses: list[str] = []
        #: Per question, the first exception the team's code raised (its responder or a
        #: grading hook): the glue shows its traceback with the question's failure.
        self.raised: dict[str, BaseException] = {}
        self._futures: dict[str, list[concurrent.futures.Future[Reply]]] = {}
        self._plans: dict[str, QuestionPlan] = {}
        #: Questions whose replies are all in: the judge can be sent what it must grade.
        self._replied: collections.deque[str] = collections.deque()
        #: Per question: its first grades and the judge's verdicts by reply index.
        self._judging: dict[str, _Judging] = {}
        #: Per question with pushback: the replies after the follow-up turn, per sample.
        self._pushbacks: dict[str, list[concurrent.futures.Future[Reply]]] = {}
        #: samples: auto (results/settling.py): per suite, its questions when this process
        #: asks them all, or why it asks each its whole budget; each question's first record;
        #: the suite's decision once its first replies are in.
        self._settle = settle
        self._members: dict[str, dict[str, QuestionPlan]] = {}
        self._whole: dict[str, str] = {}
        self._firsts: dict[str, QuestionRecord] = {}
        self._settled: dict[str, Settled] = {}

    @property
    def stopped(self) -> str | None:
        """Why the run stopped early (every reply failed the same way), or None."""
        return self.asker.fatal

    def stop(self, reason: str) -> None:
        """Ask nothing more (the xdist controller saw the whole run fail the same way)."""
        self.asker.stop(reason)

    def unasked(self, key: str, plan: QuestionPlan, reason: str) -> QuestionRecord:
        """The record of a question the run did not ask: an error on every sample, so its
        suite counts it, and no gate passes on the questions that happened to be asked."""
        responder = self.responder(plan)
        asked = plan.first_samples if self._staged(key, plan) else plan.samples
        replies = [Reply.failed(reason)] * asked
        graded = first_grades(plan, replies)
        record = record_of(
            plan,
            key,
            responder.name,
            responder.endpoint,
            replies,
            graded,
            generation=_generation(responder),
        )
        if plan.pushback is None:
            return record
        return with_first_replies(plan.pushback, plan.question.distractors, record, record)

    def responder(self, plan: QuestionPlan) -> Responder:
        return self._responder(plan)

    def judge(self, plan: QuestionPlan) -> Responder:
        """The judge a plan asks for; SetupError when none is set."""
        return self._judge(plan)

    def asking_responder(self, plan: QuestionPlan) -> Responder:
        """The plan's responder as its question is asked: with context_as responder, the
        team's callable with the question's documents bound to its `context` keyword."""
        responder = self.responder(plan)
        if plan.context_as != "responder":
            return responder
        if not isinstance(responder, CallableResponder):
            raise SetupError(
                f"{plan.suite_key} hands its documents to the team's responder (context_as: "
                f"responder), but {responder.name} is asked through the openai client, which "
                "takes none: implement pytest_abstain_make_responder, or set context_as to "
                "prompt or system"
            )
        return WithContext(responder, plan.question.context)

    def _params(self, plan: QuestionPlan, responder: Responder) -> dict[str, Any]:
        """What the reply depends on besides the messages: the generation parameters, the
        JSON schema asked for, and documents handed to the responder outside the messages."""
        params = dict(responder.params)
        if plan.verbal_confidence:
            params["response_format"] = response_format()
        if isinstance(responder, WithContext):
            params["context"] = list(responder.documents)
        return params

    def cache_keys(self, plan: QuestionPlan) -> list[CacheKey]:
        responder = self.asking_responder(plan)
        params = self._params(plan, responder)
        return [
            CacheKey.of(responder.endpoint, responder.name, params, plan.messages, sample)
            for sample in range(plan.samples)
        ]

    # -- replies ----------------------------------------------------------------------

    def submit(self, key: str, plan: QuestionPlan) -> list[concurrent.futures.Future[Reply]]:
        """The question's replies, one future per sample, from the cache or asked (once):
        with samples: auto, the first (the rest may follow once its suite's are in)."""
        futures = self._futures.get(key)
        if futures is not None:
            return futures
        first = plan.first_samples if self._staged(key, plan) else plan.samples
        return self._submit_samples(key, plan, range(first))

    def _submit_samples(
        self, key: str, plan: QuestionPlan, samples: range
    ) -> list[concurrent.futures.Future[Reply]]:
        """Ask `samples` (by number) of the question, kept under `key`."""
        responder = self.asking_responder(plan)
        keys = self.cache_keys(plan)
        futures = [
            self._ask(
                f"{_question_key(key)} sample {sample + 1}",
                (_question_key(key), sample),
                keys[sample],
                responder,
                plan.messages,
                response_format() if plan.verbal_confidence else None,
            )
            for sample in samples
        ]
        self._futures[key] = futures
        self._plans[key] = plan
        if plan.pushback is not None:
            self._pushbacks[key] = [
                self._push_back(_question_key(key), plan, responder, sample, first)
                for sample, first in zip(samples, futures, strict=True)
            ]
        if plan.judge is not None:
            # Once every reply is in, the judge can start on it before pytest gets there.
            def replied(_: object) -> None:
                if all(future.done() for future in futures):
                    self._replied.append(key)  # deque.append is thread-safe

            for future in futures:
                future.add_done_callback(replied)
        return futures

    def _push_back(
        self,
        key: str,
        plan: QuestionPlan,
        responder: Responder,
        sample: int,
        first: concurrent.futures.Future[Reply],
    ) -> concurrent.futures.Future[Reply]:
        """The reply after the pushback turn, asked as soon as the first reply is in: the
        same conversation, the first reply, and the follow-up turn (dialogue.py)."""
        assert plan.pushback is not None
        turn = plan.pushback.turn(plan.question.distractors, sample)
        final: concurrent.futures.Future[Reply] = concurrent.futures.Future()

        def passed_on(second: concurrent.futures.Future[Reply]) -> None:
            if second.cancelled():
                final.cancel()
            else:
                final.set_result(second.result())

        def asked(done: concurrent.futures.Future[Reply]) -> None:
            if done.cancelled():
                final.cancel()
                return
            reply = done.result()
            if reply.text is None:
                final.set_result(Reply.failed(f"not pushed back: no first reply ({reply.error})"))
                return
            messages = pushback_messages(plan.messages, reply.text, turn)
            params = self._params(plan, responder)
            cache_key = CacheKey.of(responder.endpoint, responder.name, params, messages, sample)
            try:
                second = self._ask(
                    f"{key} sample {sample + 1} (pushback)",
                    (key, "pushback", sample),
                    cache_key,
                    responder,
                    messages,
                    response_format() if plan.verbal_confidence else None,
                )
            except Exception as exc:  # never leave the final reply pending
                final.set_result(Reply.failed(f"pushback not asked: {type(exc).__name__}: {exc}"))
                return
            second.add_done_callback(passed_on)

        first.add_done_callback(asked)
        return final

    def _ask(
        self,
        label: str,
        ask_key: Hashable,
        key: CacheKey,
        responder: Responder,
        messages: list[Message],
        response_format: dict[str, Any] | None = None,
        keep: Callable[[Reply], bool] | None = None,
    ) -> concurrent.futures.Future[Reply]:
        """One reply: from the cache, or asked (once per `ask_key`) and then stored, unless
        `keep` says it is not worth keeping (a judge's unreadable verdict is asked again)."""
        stored = self._from_cache(label, key)
        if stored is not None:
            return _done(stored)
        store = None
        if self.cache is not None:
            put = functools.partial(self.cache.put, key)
            store = put if keep is None else functools.partial(_store_if, keep, put)
        return self.asker.submit(ask_key, responder, messages, store, response_format)

    def _from_cache(self, label: str, key: CacheKey) -> Reply | None:
        """A stored reply; in replay-only mode a miss is an error reply naming the request."""
        cache, mode = self.cache, self.record_mode
        if cache is None or mode == "all":
            return None
        stored = cache.get(key)
        if stored is not None or mode != "replay":
            if stored is None and self.explain_misses:
                self.misses.append(f"{label}: {cache.explain_miss(key)}")
            return stored
        return Reply.failed(
            f"not in the response cache {cache.root} (--abstain-record replay asks nothing): "
            f"{cache.explain_miss(key)}. Record it with --abstain-record missing"
        )

    # -- samples: auto -----------------------------------------------------------------

    def sequential(self, suite_key: str, plans: dict[str, QuestionPlan]) -> None:
        """Ask the samples: auto suite `suite_key` in two steps: a first reply of each of
        its questions (`plans`, by key: all of the suite this run asks), then, if its first
        replies leave the gate's verdict open, the rest of the budget of each. A suite one of
        whose questions was asked already (whole) is asked whole."""
        if any(key in self._futures for key in plans):
            self.whole_budget(suite_key, "asked before its suite was known: the whole budget")
            return
        self._members[suite_key] = plans

    def whole_budget(self, suite_key: str, why: str) -> None:
        """Ask every question of a samples: auto suite its whole budget at once."""
        self._whole[suite_key] = why

    def _staged(self, key: str, plan: QuestionPlan) -> bool:
        members = self._members.get(plan.suite_key)
        return plan.adaptive and self._settle is not None and members is not None and key in members

    def _settle_suite(self, suite_key: str) -> Settled:
        """The suite's decision (once): its first replies graded, then settled or not."""
        found = self._settled.get(suite_key)
        if found is not None:
            return found
        assert self._settle is not None
        members = self._members[suite_key]
        firsts = []
        try:
            for key, plan in members.items():
                self.submit(key, plan)
                record = self._firsts.get(key) or self._batch_record(key, plan)
                self._firsts[key] = record
                firsts.append(record)
        except (NotAsked, Unanswered, SetupError):
            settled = Settled(True, "a first reply could not be had: the whole budget is asked")
        else:
            settled = self._settle(suite_key, firsts)
        self._settled[suite_key] = settled
        if settled.ask_rest:
            # All at once: the follow-ups are asked while pytest walks the suite.
            for key, plan in members.items():
                # A question that cannot be asked says so in its own record, not in this one.
                with contextlib.suppress(SetupError):
                    self._ask_rest(key, plan)
        return settled

    def _ask_rest(self, key: str, plan: QuestionPlan) -> None:
        if key + FOLLOW_UP not in self._futures:
            self._submit_samples(key + FOLLOW_UP, plan, range(plan.first_samples, plan.samples))

    # -- records ----------------------------------------------------------------------

    def record(self, key: str, plan: QuestionPlan) -> QuestionRecord:
        """Wait for the question's replies, grade them (the judge too) and make its record.
        With samples: auto, the first time a suite's question is recorded its first replies
        are all graded and settled (results/settling.py); the rest follows if they leave
        the verdict open.

        Raises SetupError (nothing can ask it), NotAsked (the run stopped first) or
        Unanswered (its request was cancelled).
        """
        self.submit(key, plan)
        first = self._firsts.get(key) or self._batch_record(key, plan)
        if not plan.adaptive:
            return first
        if not self._staged(key, plan):
            why = self._whole.get(plan.suite_key, "asked its whole budget at once")
            return dataclasses.replace(first, sampling=why)
        self._firsts[key] = first  # graded once, here or with its suite's
        settled = self._settle_suite(plan.suite_key)
        if not settled.ask_rest:
            return dataclasses.replace(first, sampling=settled.why)
        self._ask_rest(key, plan)
        both = joined(first, self._batch_record(key + FOLLOW_UP, plan))
        return dataclasses.replace(both, sampling=settled.why)

    def _batch_record(self, key: str, plan: QuestionPlan) -> QuestionRecord:
        """The record of the replies asked under `key` (a question's, or its follow-ups)."""
        futures = self._futures[key]
        owner = _question_key(key)
        try:
            replies = [future.result() for future in futures]
        except concurrent.futures.CancelledError:
            if self.stopped is None:
                raise Unanswered("the request was cancelled before a reply came") from None
            raise NotAsked("not asked: the run stopped early") from None
        finals = self._pushed_back(key)
        for reply in [*replies, *(finals or ())]:
            if reply.raised is not None:
                self.raised.setdefault(owner, reply.raised)
        responder = self.responder(plan)
        graded, verdicts, judge_name = self._judged(key, plan, replies)
        first = record_of(
            plan,
            owner,
            responder.name,
            responder.endpoint,
            replies,
            graded,
            verdicts,
            judge_name,
            _generation(responder),
        )
        if finals is None:
            return first
        # The replies after the pushback are graded like the first, judge and all.
        graded, verdicts, judge_name = self._judged(key + PUSHED_BACK, plan, finals)
        final = record_of(
            plan,
            owner,
            responder.name,
            responder.endpoint,
            finals,
            graded,
            verdicts,
            judge_name,
            _generation(responder),
        )
        assert plan.pushback is not None
        return with_first_replies(
            plan.pushback, plan.question.distractors, final, first, _first_sample(key, plan)
        )

    def _pushed_back(self, key: str) -> list[Reply] | None:
        """The replies after the pushback turn (None: the question has no pushback)."""
        futures = self._pushbacks.get(key)
        if futures is None:
            return None
        try:
            return [future.result() for future in futures]
        except concurrent.futures.CancelledError:
            if self.stopped is None:
                raise Unanswered("the pushback request was cancelled before a reply came") from None
            raise NotAsked("not asked: the run stopped early") from None

    def start_case(self, key: str, plan: QuestionPlan) -> None:
        """Send a judge calibration case to the judge ahead of its test (a missing judge is
        the case's own error, reported when it runs)."""
        assert plan.question.canned_reply is not None
        with contextlib.suppress(SetupError):
            self._start_judging(key, plan, [Reply(text=plan.question.canned_reply)], hooks=False)

    def case(self, key: str, plan: QuestionPlan) -> JudgeCase:
        """A judge calibration case: the judge's verdict on the canned reply (asked once)."""
        question = plan.question
        assert question.canned_reply is not None and question.human_verdict is not None
        replies = [Reply(text=question.canned_reply)]
        # The judge against a person, with the string rules beside it: a team's grading
        # hook is neither, so it is left out here.
        graded, verdicts, judge_name = self._judged(key, plan, replies, hooks=False)
        record = record_of(plan, key, "canned reply", None, replies, graded, verdicts, judge_name)
        return JudgeCase(
            id=question.id,
            suite=plan.suite_key,
            judge=judge_name or "",
            human=question.human_verdict,
            verdict=record.grades[0],
            rules=record.rule_grades[0],
            error=record.errors[0],
        )

    # -- the judge --------------------------------------------------------------------

    def _judged(
        self, key: str, plan: QuestionPlan, replies: list[Reply], hooks: bool = True
    ) -> tuple[list[FirstGrade], dict[int, Reply], str | None]:
        """First grades of the replies, the judge's verdicts where it was asked, its name.

        Before waiting, the judge is sent the replies of every later question already in:
        the judge then works ahead of pytest, as the model does, not one item at a time.
        """
        judge_name = None if plan.judge is None else self.judge(plan).name
        judging = self._start_judging(key, plan, replies, hooks)
        while self._replied:
            ready = self._replied.popleft()
            if ready not in self._judging:
                # Whatever goes wrong with another question (no judge, a grading bug) is
                # reported by its own record, on the right question, not by this one.
                with contextlib.suppress(Exception):
                    self._start_judging(ready, self._plans[ready], None)
        verdicts: dict[int, Reply] = {}
        for index, future in judging.verdicts.items():
            try:
                verdicts[index] = future.result()
            except concurrent.futures.CancelledError:
                if self.stopped is not None:
                    raise NotAsked("not judged: the run stopped early") from None
                verdicts[index] = Reply.failed("the judge's request was cancelled")
        return judging.graded, verdicts, judge_name

    def _first_grade(self, key: str, plan: QuestionPlan, reply: str) -> Graded:
        try:
            return hooked_grade(plan, reply, self._hooks, self._search)
        except Exception as exc:  # first_grades makes it the reply's error; keep the cause
            self.raised.setdefault(_question_key(key), exc)
            raise

    def _start_judging(
        self, key: str, plan: QuestionPlan, replies: list[Reply] | None, hooks: bool = True
    ) -> _Judging:
        """Grade the replies by the rules (and the grading hooks, unless `hooks` is False),
        and send the judge the ones it must grade; once per question. `replies` None: read
        them from the question's (done) futures."""
        judging = self._judging.get(key)
        if judging is not None:
            return judging
        if replies is None:
            futures = self._futures[key]
            if any(future.cancelled() for future in futures):
                return _Judging([], {})  # the run is stopping; its record says so
            replies = [future.result() for future in futures]
        graded = first_grades(
            plan, replies, functools.partial(self._first_grade, key) if hooks else None
        )
        judging = _Judging(graded, {})
        picked = to_judge(plan, graded)
        if picked:
            judge = self.judge(plan)
            for index in picked:
                first = graded[index]
                assert isinstance(first, Graded)  # only graded replies are picked
                # The judge grades what the rules graded: the answer inside a JSON reply.
                text = first.stated.answer if first.stated else replies[index].text
                messages = judge_request(plan, text or "")
                cache_key = CacheKey.of(judge.endpoint, judge.name, judge.params, messages, 0)
                sample = _first_sample(key, plan) + index + 1
                label = f"{_question_key(key)} sample {sample} (judge)"
                # Keyed by the request: the same reply to the same question is judged once.
                judging.verdicts[index] = self._ask(
                    label,
                    ("judge", cache_key.digest),
                    cache_key,
                    judge,
                    messages,
                    keep=_readable_verdict,
                )
        if plan.judge is not None:
            self._judging[key] = judging
        return judging


def failure_text(record: QuestionRecord) -> str | None:
    """Why some of the question's samples have no grade (each one named), or None."""
    failed = [(i, e) for i, e in enumerate(record.errors) if e is not None]
    if not failed:
        return None
    # A reply the judge could not grade came back: it has no grade, not no reply.
    got_replies = all(record.replies[i] is not None for i, _ in failed)
    missing = "no grade" if got_replies else "no reply"
    lines = [
        f"{missing} for {record.id!r} from {record.suite.responder} "
        f"({len(failed)} of {len(record.errors)} samples); not scored:"
    ]
    lines.extend(f"  sample {i + 1}: {e}" for i, e in failed)
    return "\n".join(lines)
