"""Who answers the questions: an OpenAI-compatible endpoint, or the team's own callable."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import email.utils
import inspect
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from .. import generation
from ..records import Message, Reply, served_name
from ..settings.urls import quoted_url

DEFAULT_BASE_URL = "https://api.openai.com/v1"
#: Statuses worth asking again (as well as every 5xx): timeout, conflict, rate limit.
TRANSIENT_STATUSES = frozenset({408, 409, 429})


class Responder(Protocol):
    """Something that answers chat messages; `ask` turns every failure into Reply.failed.

    `ask` makes one attempt: the asker decides about retries, from `Reply.transient`.
    """

    name: str
    #: Where replies come from, safe to print (no credentials); None for in-process callables.
    endpoint: str | None
    #: Generation parameters sent with every request, as the cache key and reports hold
    #: them (a credential header's value redacted).
    params: dict[str, Any]

    async def ask(
        self, messages: list[Message], response_format: dict[str, Any] | None = None
    ) -> Reply:
        """One attempt; `response_format` asks for structured output where the endpoint
        has it (the prompt asks for the same shape, so replies can be parsed either way)."""
        ...

    async def aclose(self) -> None: ...


def display_url(url: str) -> str:
    """`url` without credentials, query or fragment, safe to print and store."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def endpoint_of(base_url: str | None) -> str:
    """The endpoint the `openai` client will use, which falls back to OPENAI_BASE_URL."""
    return display_url(base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL)


#: Shorter values in a base URL are not taken for secrets: replacing every "v1" or "ok" in a
#: message would garble it, and a credential is longer.
MIN_URL_SECRET = 4


def api_key_secrets(api_key: str | None) -> dict[str, str]:
    """The forms of the key an error may quote (as given, stripped, escaped as repr does,
    which is how an HTTP library quotes a header it refuses), each mapped to its label."""
    if not api_key:
        return {}
    forms = {api_key, api_key.strip(), repr(api_key)[1:-1]}
    return {form: "[API key]" for form in forms if form}


def url_secrets(url: str | None) -> dict[str, str]:
    """The credentials in a base URL, in the forms an error may quote, mapped to their label:
    the password and the user:password pair (as written and decoded, and the pair in base64,
    as the client sends it in a Basic Authorization header), and the query's values (some
    gateways take `?key=...`)."""
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return {}  # not a URL the client can use: the settings refuse it before any request
    forms: set[str] = set()
    password = parts.password
    if password is not None:
        user = parts.username or ""
        pair = f"{unquote(user)}:{unquote(password)}"
        forms |= {f"{user}:{password}", pair, password, unquote(password)}
        forms.add(base64.b64encode(pair.encode()).decode())
    forms |= {raw.partition("=")[2] for raw in parts.query.split("&")}  # as written
    forms |= {value for _, value in parse_qsl(parts.query)}  # decoded
    return {form: "[URL credentials]" for form in forms if len(form) >= MIN_URL_SECRET}


def redact(text: str, secrets: Mapping[str, str]) -> str:
    """`text` with each secret replaced by its label, in one pass, longest first (a key's
    forms overlap, and a label must not be redacted again)."""
    if not secrets:
        return text
    pattern = "|".join(re.escape(s) for s in sorted(secrets, key=len, reverse=True))
    return re.sub(pattern, lambda match: secrets[match.group()], text)


def retry_after_of(headers: Mapping[str, str]) -> float | None:
    """Seconds from `retry-after-ms` or `Retry-After` (seconds or an HTTP date), if any."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        with contextlib.suppress(ValueError):
            return max(0.0, float(raw_ms) / 1000)
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


class OpenAIResponder:
    """Asks a chat model through the `openai` client (OpenAI, Azure, vLLM, Ollama, ...)."""

    def __init__(
        self,
        model: str,
        base_url: str | None,
        api_key: str | None,
        timeout: float,
        params: dict[str, Any] | None = None,
        api: str = "chat",
    ) -> None:
        self.name = model
        #: "chat" (chat completions) or "responses" (OpenAI's Responses API).
        self.api = api
        self.model = model
        self.base_url = base_url
        # The client falls back to OPENAI_BASE_URL itself; this is for reports.
        self.endpoint: str | None = endpoint_of(base_url)
        #: Sent with every request (the judge's temperature 0, the model's generation
        #: parameters). One the endpoint refuses is dropped for good (some models take no
        #: temperature), and each reply says so (Reply.dropped).
        self._sent: dict[str, Any] = dict(params or {})
        #: The parameters as the cache key and reports hold them: credential headers'
        #: values redacted (they must not re-key the cache, nor reach any file).
        self.params: dict[str, Any] = generation.shown(self._sent)
        if api != "chat":
            # Another API may answer otherwise: its replies are cached apart.
            self.params["api"] = api
        #: Parameters (and "response_format") this endpoint refused: no longer sent.
        self.refused: set[str] = set()
        #: The endpoint wants max_tokens as max_completion_tokens (OpenAI's reasoning models).
        self._completion_tokens = False
        self._api_key = api_key
        # The client falls back to OPENAI_BASE_URL itself, credentials and all.
        url = base_url or os.environ.get("OPENAI_BASE_URL")
        headers = {value: "[header]" for value in generation.secrets(self._sent)}
        self._secrets = {**headers, **url_secrets(url), **api_key_secrets(api_key)}
        self.timeout = timeout
        self._client: Any = None

    def _get_client(self) -> Any:
        # Created on first use, inside the asking thread's event loop, which its
        # connection pool is bound to.
        if self._client is None:
            import openai

            self._client = openai.AsyncOpenAI(
                base_url=self.base_url,
                # Local endpoints (vLLM, Ollama) take any key; the client insists on one.
                api_key=self._api_key or "not-set",
                timeout=self.timeout,
                # The asker retries, with back-off shared across requests (retrying.py).
                max_retries=0,
            )
        return self._client

    async def ask(
        self, messages: list[Message], response_format: dict[str, Any] | None = None
    ) -> Reply:
        reply = await self._ask(messages, response_format)
        wanted = [*self._sent, *(["response_format"] if response_format is not None else [])]
        dropped = [name for name in wanted if name in self.refused]
        if self._completion_tokens and "max_tokens" in self._sent:
            dropped.append("max_tokens (sent as max_completion_tokens)")
        return dataclasses.replace(reply, dropped=tuple(dropped)) if dropped else reply

    async def _ask(
        self, messages: list[Message], response_format: dict[str, Any] | None = None
    ) -> Reply:
        extra = {k: v for k, v in self._sent.items() if k not in self.refused}
        if self._completion_tokens and "max_tokens" in extra:
            extra["max_completion_tokens"] = extra.pop("max_tokens")
        if response_format is not None and "response_format" not in self.refused:
            extra["response_format"] = response_format
        if self.api == "responses":
            return await self._ask_responses(messages, response_format, extra)
        try:
            response = await self._get_client().chat.completions.create(
                model=self.model,
                messages=messages,
                **extra,
            )
        except Exception as exc:
            refused = _refused_parameter(exc, extra)
            renamed = refused == "max_tokens" and not self._completion_tokens
            if renamed and "max_completion_tokens" in str(exc):
                # OpenAI's reasoning models take the cap under its new name only: keep it.
                self._completion_tokens = True
                return await self._ask(messages, response_format)
            if refused is not None:
                # Many OpenAI-compatible servers lack json_schema output, and some models
                # take no temperature: ask without it (the prompt asks for the same JSON),
                # and stop sending it to this endpoint.
                self.refused.add(refused)
                return await self._ask(messages, response_format)
            return self._failure(exc)
        choices = getattr(response, "choices", None)
        if not choices:
            # A broken proxy or a truncated body, not the model's answer: worth another try.
            return Reply.failed(
                f"the endpoint returned no choices ({self.endpoint})",
                transient=True,
                request_failed=True,
            )
        choice = choices[0]
        message = choice.message
        if getattr(message, "refusal", None):
            return Reply.failed(f"the model refused: {message.refusal}")
        if choice.finish_reason == "content_filter":
            return Reply.failed("the reply was withheld by the endpoint's content filter")
        text = message.content
        usage = getattr(response, "usage", None)
        if truncated := self._truncation(choice.finish_reason, text, usage):
            return Reply.failed(truncated)
        if not isinstance(text, str) or not text.strip():
            return Reply.failed("the endpoint returned an empty reply")
        return Reply(
            text=text,
            prompt_tokens=getattr(usage, "prompt_tokens", None),
            completion_tokens=getattr(usage, "completion_tokens", None),
            # What answered, as the endpoint says: a gateway's fallback or a local server
            # answers under another name than the one asked for (records.served_name).
            served_model=served_name(getattr(response, "model", None)),
            fingerprint=served_name(getattr(response, "system_fingerprint", None)),
        )

    async def _ask_responses(
        self,
        messages: list[Message],
        response_format: dict[str, Any] | None,
        extra: dict[str, Any],
    ) -> Reply:
        """The same question through OpenAI's Responses API: the same parameters under
        that API's names, the same failures, the same Reply."""
        sent = responses_request(messages, extra)
        try:
            response = await self._get_client().responses.create(model=self.model, **sent)
        except Exception as exc:
            refused = _refused_parameter(
                exc, {RESPONSES_NAMES.get(k, k): v for k, v in extra.items()}
            )
            if refused is not None:
                self.refused.add(CHAT_NAMES.get(refused, refused))
                return await self._ask(messages, response_format)
            return self._failure(exc)
        usage = getattr(response, "usage", None)
        details = getattr(response, "incomplete_details", None)
        reason = getattr(details, "reason", None)
        if reason == "content_filter":
            return Reply.failed("the reply was withheld by the endpoint's content filter")
        refusal = next(
            (
                part.refusal
                for item in getattr(response, "output", None) or []
                for part in getattr(item, "content", None) or []
                if getattr(part, "type", None) == "refusal"
            ),
            None,
        )
        if refusal:
            return Reply.failed(f"the model refused: {refusal}")
        text = getattr(response, "output_text", None)
        finish = "length" if reason == "max_output_tokens" else "stop"
        used = getattr(usage, "output_tokens", None)
        tokens = SimpleNamespace(completion_tokens=used)
        if truncated := self._truncation(finish, text, tokens):
            return Reply.failed(truncated)
        if not isinstance(text, str) or not text.strip():
            return Reply.failed("the endpoint returned an empty reply")
        return Reply(
            text=text,
            prompt_tokens=getattr(usage, "input_tokens", None),
            completion_tokens=used,
            served_model=served_name(getattr(response, "model", None)),
        )

    def _truncation(self, finish_reason: object, text: object, usage: Any) -> str | None:
        """Why a reply was cut off at the token limit (None: it was not). A cut-off reply is
        an error, never graded: the answer or the "I don't know" may be in the part that
        was never written. An empty reply that used the whole cap was cut off too (a
        reasoning model can spend it all before answering)."""
        cap = self._sent.get("max_tokens") if "max_tokens" not in self.refused else None
        used = getattr(usage, "completion_tokens", None)
        empty = not isinstance(text, str) or not text.strip()
        at_cap = empty and isinstance(cap, int) and isinstance(used, int) and used >= cap
        if finish_reason != "length" and not at_cap:
            return None
        if cap is None:
            return "the reply was cut off at the endpoint's own token limit (finish_reason length)"
        if isinstance(used, int) and 0 < used < cap:
            # The server capped it below what was asked (llama.cpp's --n-predict, a gateway's
            # limit): raising our cap would change nothing.
            return (
                f"the reply was cut off at the endpoint's own token limit after {used} tokens, "
                f"below the max_tokens {cap} asked: raise the server's limit"
            )
        return (
            f"the reply was cut off at the token limit (max_tokens {cap}): raise "
            "--abstain-max-tokens, or generation: max_tokens in the suite (0: no cap)"
        )

    def _failure(self, exc: Exception) -> Reply:
        """The failed reply for an exception of the client, classified for retrying."""
        import openai

        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            body = exc.body
            detail = body.get("message") if isinstance(body, dict) else None
            text = f"HTTP {status} from {self.endpoint}: {detail or exc.message}"
            if status == 401 and not self._api_key:
                text += " (OPENAI_API_KEY is not set)"
            code = body.get("code") if isinstance(body, dict) else None
            # An exhausted quota answers 429 too, but waiting will not refill it.
            transient = status in TRANSIENT_STATUSES or status >= 500
            transient = transient and code != "insufficient_quota"
            return self._redacted(
                text,
                transient=transient,
                rate_limited=status == 429 and transient,
                retry_after=retry_after_of(exc.response.headers),
            )
        if isinstance(exc, openai.APITimeoutError):
            return Reply.failed(
                f"no reply within {self.timeout:g}s from {self.endpoint}",
                transient=True,
                timed_out=True,
                request_failed=True,
            )
        if isinstance(exc, openai.APIConnectionError):
            if _refused(exc) and _is_loopback(self.base_url or ""):
                # Nothing listens on that local port: the server is not running, and asking
                # again for seconds will not start it.
                return self._redacted(
                    f"cannot connect to {self.endpoint}: connection refused (is the server "
                    "running on that port?)",
                    transient=False,
                )
            cause = exc.__cause__ or exc
            return self._redacted(f"cannot connect to {self.endpoint}: {cause}", transient=True)
        if isinstance(exc, json.JSONDecodeError):
            # The client does not wrap this one: a 200 whose body is not JSON (a proxy's
            # error page, a cut connection).
            return Reply.failed(
                f"malformed response from {self.endpoint}: body is not JSON",
                transient=True,
                request_failed=True,
            )
        return self._redacted(f"{type(exc).__name__}: {exc}", transient=False)

    def _redacted(self, text: str, *, transient: bool, **kwargs: Any) -> Reply:
        """A failed reply whose reason cannot carry the API key or the base URL's credentials
        (some endpoints and proxies echo them, headers included)."""
        text = redact(text, self._secrets)
        return Reply.failed(text, transient=transient, request_failed=True, **kwargs)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


def _refused(exc: BaseException) -> bool:
    """Whether the connection was refused (read from the exception chain's types)."""
    seen: BaseException | None = exc
    for _ in range(10):  # the client wraps the socket's error a few times
        if seen is None:
            return False
        if isinstance(seen, ConnectionRefusedError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host == "localhost" or host.startswith("127.") or host == "::1"


#: Sent parameters never dropped: a gateway's headers and body are the team's own wiring,
#: and asking without them would ask someone else.
_KEPT = frozenset(generation.MAPPINGS)


#: Chat-completions parameter names as a Responses API error names them (a schema the
#: endpoint cannot follow is still found by "json_schema" under response_format).
RESPONSES_NAMES = {
    "max_tokens": "max_output_tokens",
    "max_completion_tokens": "max_output_tokens",
    "reasoning_effort": "reasoning.effort",
}
CHAT_NAMES = {"max_output_tokens": "max_tokens", "reasoning.effort": "reasoning_effort"}
#: What responses.create takes by keyword; anything else goes in the request body as given.
_RESPONSES_KEYWORDS = {"temperature", "top_p", "extra_body", "extra_headers"}


def responses_request(messages: list[Message], extra: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of responses.create for a chat request's messages and
    parameters: the system prompt becomes `instructions`, the cap `max_output_tokens`, the
    JSON schema `text.format`, the reasoning effort `reasoning.effort`."""
    system = [m["content"] for m in messages if m["role"] == "system"]
    sent: dict[str, Any] = {
        "input": [
            {"role": m["role"], "content": m["content"]} for m in messages if m["role"] != "system"
        ],
    }
    if system:
        sent["instructions"] = "\n\n".join(system)
    body: dict[str, Any] = dict(extra.get("extra_body") or {})
    for name, value in extra.items():
        if name in ("max_tokens", "max_completion_tokens"):
            sent["max_output_tokens"] = value
        elif name == "response_format":
            schema = value.get("json_schema", {}) if isinstance(value, dict) else {}
            sent["text"] = {"format": {"type": value.get("type", "json_schema"), **schema}}
        elif name == "reasoning_effort":
            sent["reasoning"] = {"effort": value}
        elif name in _RESPONSES_KEYWORDS:
            if name != "extra_body":
                sent[name] = value
        else:
            body[name] = value  # seed, stop: not keywords of responses.create
    if body:
        sent["extra_body"] = body
    return sent


def _refused_parameter(exc: Exception, sent: Mapping[str, Any]) -> str | None:
    """The optional parameter a 400/422 names (the endpoint does not support it), or None."""
    if getattr(exc, "status_code", None) not in (400, 422):
        return None
    body = getattr(exc, "body", None)
    named = body.get("param") if isinstance(body, dict) else None
    text = str(getattr(exc, "message", "") or exc).lower()
    for name in sent:
        if name in _KEPT:
            continue
        # As a word: "stop" or "seed" inside another word names nothing.
        said = re.search(rf"(?<![a-z_]){re.escape(name)}(?![a-z_])", text) is not None
        if named == name or said or (name == "response_format" and "json_schema" in text):
            return "max_tokens" if name == "max_completion_tokens" else name
    return None


def _accepts_keyword(fn: Callable[..., Any], name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _is_async(fn: Callable[..., Any]) -> bool:
    call = getattr(fn, "__call__", None)  # noqa: B004 - callable objects with async __call__
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(call)


def _url_of(exc: BaseException) -> str:
    """' (requesting URL)' when the exception, or one it was raised from, carries the
    request it failed on (openai's and httpx's errors do): 'Connection error.' alone does
    not say which of the app's services was down."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        try:
            url = getattr(getattr(current, "request", None), "url", None)
        except Exception:  # httpx raises when an error has no request attached
            url = None
        if url is not None:
            return f" (requesting {quoted_url(str(url))})"
        current = current.__cause__ or current.__context__
    return ""


class CallableResponder:
    """Adapts the team's own function, sync or async: `fn(prompt) -> str`.

    Keyword parameters, when the function has them: `system` receives the suite's system
    prompt, `messages` the whole conversation (every message, the prompt last), and
    `context` the question's documents (a suite with context_as: responder). Sync functions
    run in the asking thread pool, so they overlap too.
    """

    def __init__(self, fn: Callable[..., Any], name: str | None, timeout: float) -> None:
        self.fn = fn
        self.name = name or getattr(fn, "__qualname__", None) or type(fn).__name__
        self.endpoint: str | None = None
        self.params: dict[str, Any] = {}
        self.timeout = timeout
        self._takes_system = _accepts_keyword(fn, "system")
        self._takes_messages = _accepts_keyword(fn, "messages")
        self._takes_context = _accepts_keyword(fn, "context")
        self._async = _is_async(fn)

    async def ask(
        self,
        messages: list[Message],
        response_format: dict[str, Any] | None = None,
        context: Sequence[str] | None = None,
    ) -> Reply:
        """One call; `context` (not None) is handed over as the `context` keyword."""
        # The prompt asks for any structured reply in words; a callable has no other channel.
        system = next((m["content"] for m in messages if m["role"] == "system"), None)
        prompt = next(m["content"] for m in reversed(messages) if m["role"] == "user")
        if system is not None and not self._takes_system:
            return Reply.failed(
                f"responder {self.name!r} cannot take the suite's system prompt: "
                "give it a `system` keyword parameter"
            )
        # Earlier turns (a conversation, or a pushback after the reply) would be lost in
        # the prompt alone: answering the last message out of context is another question.
        conversation = sum(1 for m in messages if m["role"] != "system") > 1
        if conversation and not self._takes_messages:
            return Reply.failed(
                f"responder {self.name!r} cannot take the conversation before the question: "
                "give it a `messages` keyword parameter (a list of role/content dicts)"
            )
        if context is not None and not self._takes_context:
            return Reply.failed(
                f"responder {self.name!r} cannot take the question's documents (the suite's "
                "context_as is responder): give it a `context` keyword parameter"
            )
        kwargs: dict[str, Any] = {"system": system} if self._takes_system else {}
        if self._takes_messages:
            kwargs["messages"] = [dict(m) for m in messages]
        if context is not None:
            kwargs["context"] = list(context)
        try:
            if self._async:
                result = await asyncio.wait_for(self.fn(prompt, **kwargs), self.timeout)
            else:
                result = await self._in_thread(prompt, kwargs)
                if inspect.isawaitable(result):
                    result = await asyncio.wait_for(result, self.timeout)
        except asyncio.TimeoutError:
            return Reply.failed(
                f"responder {self.name!r} gave no reply within {self.timeout:g}s",
                timed_out=True,
                request_failed=True,
            )
        except Exception as exc:
            return Reply.failed(
                f"responder {self.name!r} raised {type(exc).__name__}: {exc}{_url_of(exc)}",
                request_failed=True,
                raised=exc,
            )
        if not isinstance(result, str):
            return Reply.failed(
                f"responder {self.name!r} returned {type(result).__name__}, expected str"
            )
        if not result.strip():
            return Reply.failed(f"responder {self.name!r} returned an empty reply")
        return Reply(text=result)

    async def _in_thread(self, prompt: str, kwargs: dict[str, Any]) -> Any:
        """Run the sync callable in the pool; its clock starts when a thread takes it.

        A call that timed out cannot be stopped and keeps its thread; counting the wait for
        a free thread against the next call would blame it for the previous one's slowness.
        """
        loop = asyncio.get_running_loop()
        started = asyncio.Event()

        def call() -> Any:
            loop.call_soon_threadsafe(started.set)
            return self.fn(prompt, **kwargs)

        future = loop.run_in_executor(None, call)
        await started.wait()
        return await asyncio.wait_for(asyncio.shield(future), self.timeout)

    async def aclose(self) -> None:
        return None


class WithContext:
    """The team's responder asked about one question, with that question's documents as its
    `context` keyword (a suite with context_as: responder)."""

    def __init__(self, inner: CallableResponder, documents: Sequence[str]) -> None:
        self.inner = inner
        self.documents = tuple(documents)
        self.name = inner.name
        self.endpoint: str | None = None
        self.params: dict[str, Any] = inner.params
        self.timeout = inner.timeout

    async def ask(
        self, messages: list[Message], response_format: dict[str, Any] | None = None
    ) -> Reply:
        return await self.inner.ask(messages, response_format, context=self.documents)

    async def aclose(self) -> None:
        return None  # the inner responder is the one to close, and a callable holds nothing
