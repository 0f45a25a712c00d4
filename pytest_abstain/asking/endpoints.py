"""The openai clients of a run: the model under test's and the judge's, made once each."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from .. import generation
from ..sampling import Samples
from ..settings import RunSettings, openai_base_url_problem
from .responders import OpenAIResponder, endpoint_of

#: Sent with every judge request: the same reply should get the same verdict every run.
JUDGE_PARAMS = {"temperature": 0}
#: The environment variables holding the keys sent: no cache entry may hold one.
MODEL_KEY, JUDGE_KEY = "OPENAI_API_KEY", "ABSTAIN_JUDGE_API_KEY"
KEY_VARIABLES = (MODEL_KEY, JUDGE_KEY)


class SetupError(Exception):
    """The run cannot ask what a question needs (no model, no judge, a bad URL): a set-up
    mistake, reported as a usage error before anything is asked."""


class NoResponder(SetupError):
    """Nothing to ask at all: no model and no conftest responder. A repo's other tests still
    run; the honesty questions are skipped (or fail, with --abstain-require-model)."""

    ADVICE = (
        "pass --abstain-model NAME (and --abstain-base-url for a non-OpenAI endpoint), or "
        "implement pytest_abstain_make_responder in a conftest.py"
    )


class Endpoints:
    """One client per (model, base URL, role, generation parameters): the judge gets its own
    even for the same model and URL, because its key may differ; suites that ask with other
    parameters get their own, each learning once which parameters its endpoint refuses."""

    def __init__(self, settings: RunSettings, environ: Mapping[str, str]) -> None:
        self.settings = settings
        self.environ = environ
        self._clients: dict[tuple[str, str | None, bool, str], OpenAIResponder] = {}
        #: Told the values of credential headers (extra_headers) as each client is made,
        #: known only then (a suite may set them): the response cache refuses to store them.
        self.on_secrets: Callable[[list[str]], None] = lambda secrets: None

    def keys(self) -> list[str]:
        return [self.environ.get(name, "") for name in KEY_VARIABLES]

    def model(self, model: str, params: Mapping[str, Any] | None = None) -> OpenAIResponder:
        """The model under test's client, asking with `params` (generation.py)."""
        return self._client(model, judge=False, params=params)

    def judge(self, model: str) -> OpenAIResponder:
        return self._client(model, judge=True)

    def _client(
        self, model: str, judge: bool, params: Mapping[str, Any] | None = None
    ) -> OpenAIResponder:
        s = self.settings
        base_url = (s.judge_base_url or s.base_url) if judge else s.base_url
        # A grader should give the same verdict on the same reply every time.
        wanted = dict(JUDGE_PARAMS) if judge else dict(params or {})
        key = (model, base_url, judge, json.dumps(wanted, sort_keys=True, default=str))
        client = self._clients.get(key)
        if client is not None:
            return client
        fallback = self.environ.get("OPENAI_BASE_URL")
        if base_url is None and fallback is not None:
            # Checked at configure time when a model is named there; a judge model named
            # only in a suite is known only now.
            problem = openai_base_url_problem(fallback)
            if problem:
                raise SetupError(problem)
        # A key pasted into a CI secret often ends in a newline, which no HTTP library
        # sends (and some quote back in their error).
        api_key = self.environ.get(MODEL_KEY, "").strip() or None
        if judge:
            api_key = self.environ.get(JUDGE_KEY, "").strip() or api_key
        try:
            sent = generation.expanded(wanted, self.environ)
        except ValueError as exc:
            raise SetupError(f"generation parameters of {model}: {exc}") from None
        client = self._clients[key] = OpenAIResponder(
            model=model,
            base_url=base_url,
            api_key=api_key,
            timeout=s.timeout,
            params=sent,
            api=s.api_for(model),
        )
        self.on_secrets(generation.secrets(sent))
        return client


def run_endpoint(settings: RunSettings) -> str | None:
    """The endpoint the run's model is asked at, safe to print; None for a conftest responder."""
    return endpoint_of(settings.base_url) if settings.model else None


def _samples_json(given: Samples | None) -> int | str | None:
    """The run-wide samples: a number, "auto" or "auto:K"; None when suites decide."""
    return None if given is None else (str(given) if given.auto else given.budget)


def run_description(settings: RunSettings) -> dict[str, Any]:
    """What produced a report: the model(s), the endpoint, samples and concurrency."""
    return {
        "model": settings.model,
        "models": list(settings.models),
        "endpoint": run_endpoint(settings),
        "samples": _samples_json(settings.samples.given),
        "concurrency": settings.concurrency,
    }
