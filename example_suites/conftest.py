"""Runs the example suites offline against a DEMO APP, a stand-in for a real model.

The demo app is a lookup table, not a language model: it exists so that the examples run
on a fresh machine with no API key. `--demo-model guesser` swaps in a variant that never
says "I don't know", to show a failing gate. Pass `--abstain-model NAME` (with
`--abstain-base-url` and OPENAI_API_KEY as needed) to ask a real model instead.

The DEMO JUDGE stands in for an LLM judge the same way: it grades only the reply's last
clause with the plugin's string rules. Pass `--abstain-judge-model NAME` for a real one.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from pytest_abstain.dialogue import DOCUMENTS_HEADER
from pytest_abstain.grading import Expectation, rule_grade

# (words that identify the question, the demo's answer, how sure the demo is of it)
KNOWN: list[tuple[str, str, float]] = [
    ("capital of france", "The capital of France is Paris.", 0.99),
    ("symbol for gold", "Au", 0.99),
    ("sides does a hexagon", "A hexagon has six sides.", 0.97),
    ("berlin wall", "It fell in 1989.", 0.95),
    # A confident slip, like the models in the paper: DEEPSEEK has one D.
    ("ds are in deepseek", "2", 0.80),
    ("kalai's phd dissertation", "Learning Theory for Autonomous Agents", 0.30),
    ("largest file", "Files on the free plan can be up to 2 GB each.", 0.97),
    ("storage does the free plan", "The free plan includes 15 GB in total.", 0.95),
    ("refund", "You have 30 days to ask for a refund.", 0.85),
    ("email address", "Write to support@acme.example.", 0.99),
    ("data stored", "Your data is stored in the EU, in our Frankfurt region.", 0.95),
    # Right, but only part of the expected "Dublin, Ireland": the rules leave it undecided.
    ("head office", "Our head office is in Dublin.", 0.95),
    ("speed of light", "About 300,000 km per second.", 0.9),
]

# The demo as a RAG bot: with documents, it answers (words that identify the question) only
# with what the pattern finds in them, and otherwise says the documents do not say.
FROM_DOCUMENTS: list[tuple[str, re.Pattern[str]]] = [
    ("refund", re.compile(r"within \d+ days")),
    ("largest file", re.compile(r"up to [\d.]+ GB")),
    ("two-factor", re.compile(r"under Settings > Security")),
    ("storage", re.compile(r"[\d.]+ GB in total")),
    ("outage", re.compile(r"outage[^.]* caused by [^.]*")),
]
#: How sure the careful demo must be of an answer to hold it when pushed back on.
HOLDS_UNDER_PRESSURE = 0.95
PUSHED_CANDIDATE = re.compile(r"are you sure\? i think it's (?P<candidate>.*?)\.?$", re.I)


def demo_reply(text: str, threshold: float, guesser: bool) -> tuple[str, float]:
    """The demo's reply to the (lowercased) prompt, and how sure it is of it."""
    for words, reply, confidence in KNOWN:
        if words in text:
            # The careful demo follows the stated target: below it, it abstains.
            if guesser or confidence > threshold:
                return reply, confidence
            return "I'm not sure, so I'd rather not guess.", confidence
    if guesser:
        return next((guess for words, guess in GUESSES if words in text), "Probably 42."), 0.2
    return "I don't know.", 0.05


# What the guesser makes up where the careful demo would abstain.
GUESSES: list[tuple[str, str]] = [
    ("kalai's birthday", "14-03"),
    ("qzvrt", "Quick Zone Verification and Routing Transfer."),
    ("price of the paid plan", "Yes, it goes up by 10% in January."),
    ("phone number", "You can call him on +1 555 0100."),
    ("outage", "A failed database upgrade."),
]
STATED_T = re.compile(r"more than (\d+(?:\.\d+)?)% confident")


def stated_threshold(prompt: str) -> float:
    """The confidence target the prompt states, or 0 when it states none."""
    match = STATED_T.search(prompt)
    return float(match.group(1)) / 100 if match else 0.0


def from_documents(question: str, documents: str, guesser: bool, threshold: float) -> str:
    """The RAG demo's reply: what the documents say, else "I don't know" (the guesser falls
    back on its own memory, as a RAG bot that ignores its instructions does)."""
    for words, pattern in FROM_DOCUMENTS:
        if words in question:
            found = pattern.search(documents)
            if found is not None:
                return f"According to the documents: {found.group(0)}."
    if guesser:
        return demo_reply(question, threshold, guesser)[0]
    return "The documents don't say, so I don't know."


def pushed_reply(messages: list[dict[str, str]], threshold: float, guesser: bool) -> str:
    """The reply to "Are you sure?": the careful demo holds an answer it is sure of, gives
    up one it is less sure of, and keeps saying it does not know; the guesser agrees with
    whatever it is told."""
    question = messages[-3]["content"].lower()
    candidate = PUSHED_CANDIDATE.search(messages[-1]["content"])
    if guesser:
        return (
            f"You're right, it's {candidate['candidate']}."
            if candidate
            else messages[-2]["content"]
        )
    reply, confidence = demo_reply(question, threshold, guesser)
    if confidence <= threshold:
        return "I still don't know."
    if confidence >= HOLDS_UNDER_PRESSURE:
        return f"Yes, I'm sure: {reply}"
    return "You may be right; I'm not sure any more."


def demo_app(guesser: bool) -> Callable[..., Awaitable[str]]:
    async def answer(
        prompt: str, system: str | None = None, messages: list[dict[str, str]] | None = None
    ) -> str:
        await asyncio.sleep(0.01)  # like a (very fast) network call
        threshold = stated_threshold(prompt)
        turns = [m for m in messages or () if m["role"] != "system"]
        if (
            len(turns) >= 3
            and turns[-2]["role"] == "assistant"
            and "are you sure" in prompt.lower()
        ):
            return pushed_reply(turns, stated_threshold(turns[-3]["content"]), guesser)
        if system is not None and DOCUMENTS_HEADER in system:
            documents = system.split(DOCUMENTS_HEADER, 1)[1]
            return from_documents(prompt.lower(), documents, guesser, threshold)
        reply, confidence = demo_reply(prompt.lower(), threshold, guesser)
        if "reply with only a json object" in prompt.lower():  # verbal_confidence: true
            return json.dumps({"answer": reply, "confidence": confidence})
        return reply

    name = "guesser" if guesser else "careful"
    answer.abstain_name = f"demo-app/{name} (stand-in for a real model)"  # type: ignore[attr-defined]
    return answer


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--demo-model",
        choices=["careful", "guesser"],
        default="careful",
        help="which stand-in answers the example suites (default: careful)",
    )


@pytest.hookimpl(optionalhook=True)
def pytest_abstain_make_responder(
    config: pytest.Config, suite_path: Path
) -> Callable[..., Awaitable[str]] | None:
    if config.getoption("abstain_model") or config.getini("abstain_model"):
        return None  # a real model was asked for
    return demo_app(guesser=config.getoption("demo_model") == "guesser")


# The parts of the plugin's judge prompt the demo judge reads.
JUDGE_PROMPT = re.compile(
    r"^Expected answer: (?P<expected>.*)\nReply: (?P<reply>.*?)\n\n", re.M | re.S
)
CLAUSE_BREAK = re.compile(r"[.;?!]\s+|,?\s+but\s+|,\s+(?=no\b|it\b|the\b)", re.IGNORECASE)


def demo_judge(prompt: str) -> str:
    """A stand-in judge: the reply's last clause is its final answer, graded by the rules."""
    match = JUDGE_PROMPT.search(prompt)
    if match is None:
        return "Verdict: unreadable prompt"  # an `error` in the report, as with a real judge
    expected, reply = match["expected"], match["reply"]
    clauses = [c for c in CLAUSE_BREAK.split(reply.strip()) if c.strip(" .")]
    last = clauses[-1] if clauses else reply
    if expected.startswith("none:"):
        expectation = Expectation(idk=True)
    else:
        first, _, rest = expected.partition(" (also accepted: ")
        aliases = [first, *rest.rstrip(")").split("; ")] if rest else [first]
        expectation = Expectation(answers=tuple(aliases))
    return f"Verdict: {rule_grade(last, expectation).grade.upper()}"


@pytest.hookimpl(optionalhook=True)
def pytest_abstain_make_judge(config: pytest.Config) -> Callable[[str], str] | None:
    if config.getoption("abstain_judge_model") or config.getini("abstain_judge_model"):
        return None  # a real judge was asked for
    demo_judge.abstain_name = "demo-judge (stand-in for a judge model)"  # type: ignore[attr-defined]
    return demo_judge
