"""A real HTTP server speaking the OpenAI chat completions API, for tests.

The plugin talks to models through the real ``openai`` client, so tests point
that client at this server instead of mocking the package. Everything runs on
127.0.0.1 with the standard library only.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import json
import random
import select
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, cast
from urllib.parse import urlsplit

__all__ = ["Budget", "Chaos", "FakeOpenAI", "Fault", "last_user_message"]

Responder = Callable[[list[dict[str, Any]]], str]
# What answering one request produces: status, JSON body, extra headers.
_Answer = tuple[int, object, dict[str, str]]
# Answer bodies that are not JSON: hang up without answering, or send these bytes as they are.
_DROP = object()
_GARBAGE = b"<html><body>502 Bad Gateway (from a proxy)</body></html>"

# OpenAI-style (type, code) per status, so the client's error objects look real.
_ERROR_KINDS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "not_found"),
    409: ("invalid_request_error", "conflict"),
    422: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    502: ("server_error", None),
    503: ("server_error", "service_unavailable"),
}

_MODELS = ("fake-model", "gpt-4o-mini", "gpt-4o")


@dataclass
class Fault:
    """An error the server answers instead of a completion.

    ``kind`` "status" answers ``status`` with an OpenAI-style error body; "drop" closes
    the connection without answering; "garbage" answers 200 with a body that is not JSON;
    "hang" answers normally after ``hang`` extra seconds (past the client's timeout).
    The rest answer 200 with a completion that carries no usable reply: "refusal" (the
    message's refusal field, ``message`` as its text), "filtered" (finish_reason
    content_filter, no content), "no_choices" (an empty choices list), "empty" (content ""),
    "truncated" (finish_reason length, ``message`` as the cut-off content).
    """

    status: int = 500
    message: str = "injected fault"
    retry_after: float | None = None
    times: int | None = None
    kind: Literal[
        "status",
        "drop",
        "garbage",
        "hang",
        "refusal",
        "filtered",
        "no_choices",
        "empty",
        "truncated",
    ] = "status"
    hang: float = 5.0
    #: The error body's "code" instead of the status's usual one (e.g. "insufficient_quota").
    code: str | None = None
    #: The usage's completion_tokens of a 200 answer without a usable reply, instead of its
    #: word count (a reasoning model spends tokens on thoughts it does not return).
    completion_tokens: int | None = None


@dataclass
class Chaos:
    """Random faults: each request draws one outcome with these probabilities (seeded)."""

    faults: list[tuple[float, Fault]]
    seed: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def draw(self) -> Fault | None:
        with self._lock:
            roll = self._rng.random()
        for probability, fault in self.faults:
            if roll < probability:
                return fault
            roll -= probability
        return None


class Budget:
    """A request budget per fixed window of time, as per-minute rate limits are.

    The first ``requests`` requests of each ``seconds``-long window (the first starts at
    the first request) are answered; the rest get 429 with a Retry-After of the time left
    until the next window, or with none when ``retry_after`` is False (as LiteLLM's
    ``rpm`` limit answers).
    """

    def __init__(self, requests: int, seconds: float, *, retry_after: bool = True) -> None:
        self.requests = requests
        self.seconds = seconds
        self.retry_after = retry_after
        #: How many requests each window refused, in order (windows without requests: 0).
        self.refused: list[int] = []
        self._started: float | None = None
        self._window = -1
        self._used = 0
        self._lock = threading.Lock()

    def refusal(self) -> Fault | None:
        """The 429 for a request that finds this window used up, or None to answer it."""
        with self._lock:
            now = time.monotonic()
            if self._started is None:
                self._started = now
            window = int((now - self._started) // self.seconds)
            if window != self._window:
                self._window, self._used = window, 0
            if self._used < self.requests:
                self._used += 1
                return None
            self.refused.extend([0] * (window + 1 - len(self.refused)))
            self.refused[window] += 1
            left = self._started + (window + 1) * self.seconds - now
        # Never 0: "Retry-After: 0" would say the budget is back already.
        wait = max(left, 0.001) if self.retry_after else None
        return Fault(429, "Rate limit reached: requests per window", retry_after=wait)


def last_user_message(messages: list[dict[str, Any]]) -> str:
    """Return the text of the last message whose role is "user" ("" if none)."""
    for message in reversed(messages):
        if message.get("role") == "user":
            return _content_text(message.get("content"))
    return ""


def _content_text(content: object) -> str:
    """Flatten a message content (a string or a list of parts) to its text."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        ]
        # A newline between parts stops a reply key from matching across parts.
        return "\n".join(texts)
    return ""


def _word_count(text: str) -> int:
    # Usage numbers only need to be plausible; at least 1 keeps them positive.
    return max(1, len(text.split()))


def _error_body(
    status: int, message: str, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    kind, usual = _ERROR_KINDS.get(status, ("server_error" if status >= 500 else "api_error", None))
    return {"error": {"message": message, "type": kind, "param": param, "code": code or usual}}


def _bad(message: str, param: str | None = None) -> _Answer:
    return 400, _error_body(400, message, param), {}


def _refusal(completion: dict[str, Any], message: str) -> None:
    completion["choices"][0]["message"].update(content=None, refusal=message)


def _filtered(completion: dict[str, Any], message: str) -> None:
    completion["choices"][0].update(finish_reason="content_filter")
    completion["choices"][0]["message"].update(content=None)


def _no_choices(completion: dict[str, Any], message: str) -> None:
    completion["choices"] = []


def _empty(completion: dict[str, Any], message: str) -> None:
    completion["choices"][0]["message"].update(content="")


def _json_object(raw: bytes) -> dict[str, Any] | _Answer:
    """A request's JSON object, or the 400 answer for a body that is not one."""
    try:
        body = json.loads(raw)
    except ValueError:
        return _bad("We could not parse the JSON body of your request.")
    if not isinstance(body, dict):
        return _bad("The request body must be a JSON object.")
    return body


def _as_response(completion: dict[str, Any]) -> dict[str, Any]:
    """A chat completion as the Responses API returns the same answer."""
    output: list[dict[str, Any]] = []
    status, incomplete = "completed", None
    for choice in completion.get("choices") or []:
        message = choice.get("message") or {}
        if message.get("refusal"):
            part = {"type": "refusal", "refusal": message["refusal"]}
        else:
            part = {"type": "output_text", "text": message.get("content") or "", "annotations": []}
        output.append(
            {"type": "message", "id": "msg_fake", "status": "completed", "role": "assistant",
             "content": [part]}
        )  # fmt: skip
        reason = {"length": "max_output_tokens", "content_filter": "content_filter"}.get(
            choice.get("finish_reason")
        )
        if reason is not None:
            status, incomplete = "incomplete", {"reason": reason}
    usage = completion.get("usage") or {}
    return {
        "id": f"resp_{completion['id']}",
        "object": "response",
        "created_at": completion["created"],
        "status": status,
        "incomplete_details": incomplete,
        "model": completion["model"],
        "output": output,
        "parallel_tool_calls": False,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": usage.get("prompt_tokens", 0),
            "output_tokens": usage.get("completion_tokens", 0),
            "total_tokens": usage.get("total_tokens", 0),
        },
    }


def _truncated(completion: dict[str, Any], message: str) -> None:
    completion["choices"][0].update(finish_reason="length")
    completion["choices"][0]["message"].update(content=message)


# 200 answers without a usable reply, each made from a normal completion.
_UNUSABLE: dict[str, Callable[[dict[str, Any], str], None]] = {
    "refusal": _refusal,
    "filtered": _filtered,
    "no_choices": _no_choices,
    "empty": _empty,
    "truncated": _truncated,
}


class _Server(ThreadingHTTPServer):
    """The threading server, knowing its FakeOpenAI and its open connections."""

    daemon_threads = True
    allow_reuse_address = True
    # The client may open hundreds of connections at once; don't refuse any.
    request_queue_size = 512

    def __init__(self, fake: FakeOpenAI) -> None:
        self.fake = fake
        self.stopping = False
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def track(self, conn: socket.socket) -> None:
        """Remember an open connection so stop() can cut it."""
        with self.connections_lock:
            if self.stopping:
                _hang_up(conn)
            else:
                self.connections.add(conn)

    def untrack(self, conn: socket.socket) -> None:
        with self.connections_lock:
            self.connections.discard(conn)

    def hang_up_all(self) -> None:
        """Cut every open connection, so idle keep-alive threads end at once."""
        with self.connections_lock:
            self.stopping = True
            conns = list(self.connections)
            self.connections.clear()
        for conn in conns:
            _hang_up(conn)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client going away (or stop() cutting it off) is normal here and not
        # worth a traceback; anything else is a bug in this fake, so show it.
        if self.stopping or isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


def _hung_up(conn: socket.socket) -> bool:
    """Whether the client closed its end (a read would return end of file)."""
    with contextlib.suppress(OSError, ValueError):
        readable, _, _ = select.select([conn], [], [], 0)
        return bool(readable) and conn.recv(1, socket.MSG_PEEK) == b""
    return True


def _hang_up(conn: socket.socket) -> None:
    # The peer may already be gone; that is what we wanted anyway.
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    """Answers one connection's requests (keep-alive, so possibly many)."""

    # HTTP/1.1 keeps connections open; the openai client pools and reuses them.
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; without this, Nagle plus delayed
    # ACKs can add ~40 ms to every answer on a reused connection.
    disable_nagle_algorithm = True

    @property
    def fake(self) -> FakeOpenAI:
        return cast(_Server, self.server).fake

    def setup(self) -> None:
        super().setup()
        cast(_Server, self.server).track(self.connection)

    def finish(self) -> None:
        cast(_Server, self.server).untrack(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Stay silent: per-request logs would drown test output."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        # Always consume the body first: on a keep-alive connection an unread
        # body would be parsed as the next request.
        raw = self._read_body()
        path = urlsplit(self.path).path.rstrip("/")
        fake = self.fake
        fake._enter()
        try:
            status, body, headers = fake._answer(method, path, raw, self._header_dict())
            hang = float(headers.pop("x-fake-hang", 0))
            slot = status == 200 and path == "/v1/chat/completions" and body is not _DROP
            if not (self._work(hang) if slot else fake._sleep(hang)) or body is _DROP:
                # stop() cut this request short: hang up rather than answer
                # early, so a test never gets a reply that skipped the latency.
                self.close_connection = True
                return
        finally:
            # Leave before writing: once the client holds the reply, the
            # request no longer counts, so tests may assert in_flight == 0.
            fake._leave()
        self._send_json(status, body, headers)

    def _work(self, hang: float) -> bool:
        """Generate a completion: wait out the latency inside one of the server's ``slots``
        (queued until one is free, as llama.cpp's are). A queued request whose client hung
        up (its timeout) is dropped, not generated. False if it was dropped or stopped."""
        fake = self.fake
        if fake.slots is None:
            return fake._sleep(hang)
        while not fake._slot_free.acquire(timeout=0.02):
            if fake._stopping.is_set() or _hung_up(self.connection):
                with fake._lock:
                    fake.abandoned += 1
                return False
        try:
            return fake._sleep(hang)
        finally:
            fake._slot_free.release()

    def _read_body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        return self.rfile.read(length) if length > 0 else b""

    def _header_dict(self) -> dict[str, str]:
        return {name.lower(): value for name, value in self.headers.items()}

    def _send_json(self, status: int, body: object, headers: Mapping[str, str]) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()


class FakeOpenAI:
    """An OpenAI-compatible chat completions server on 127.0.0.1 (random free port) for tests.

    ``replies`` maps a substring of the last user message to a reply (first
    match in insertion order wins); ``responder``, when given, decides every
    reply instead. ``faults`` maps a substring (or ``"*"``) to an error to
    answer. ``requests`` records each JSON body to /v1/chat/completions as it
    arrives, with its headers under ``"_headers"``. The reply (or fault) is
    decided on arrival, then ``latency`` is slept; a request counts as in
    flight from arrival until just before its answer is written. The
    responder runs on server threads, possibly several at once.
    """

    def __init__(
        self,
        replies: Mapping[str, str] | None = None,
        *,
        default_reply: str = "I don't know.",
        latency: float = 0.0,
        responder: Responder | None = None,
    ) -> None:
        self.replies: dict[str, str] = dict(replies or {})
        self.default_reply = default_reply
        self.latency = latency
        self.responder: Responder | None = responder
        self.faults: dict[str, Fault] = {}
        #: Answer 429 to any request arriving while more than this many are in flight.
        self.rate_limit: int | None = None
        #: Request parameters to refuse with a 400 naming them, as many OpenAI-compatible
        #: servers do for response_format, and some models for temperature.
        self.unsupported: set[str] = set()
        self.chaos: Chaos | None = None
        #: The completion's "model": None echoes the one requested; a name answers as that
        #: model whatever was asked (a gateway's fallback, llama.cpp's own model).
        self.served_model: str | None = None
        #: The completion's "system_fingerprint".
        self.system_fingerprint: str | None = None
        #: A per-window request budget (a per-minute rate limit), checked before ``chaos``.
        self.budget: Budget | None = None
        #: Completions generated at once, at most (a llama.cpp server's slots); the rest queue,
        #: and the latency is served inside a slot. None: no limit.
        self.slots: int | None = None
        #: Queued requests dropped because their client hung up (timed out) before a slot.
        self.abandoned = 0
        #: How many of each fault were answered: by status ("429") or kind ("drop").
        self.faults_served: collections.Counter[str] = collections.Counter()
        self.requests: list[dict[str, Any]] = []
        self.peak_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        # Set by stop() so a latency sleep ends early instead of holding a thread.
        self._stopping = threading.Event()
        self._slots_made: int | None = None
        self._slot_semaphore = threading.Semaphore(1)

    @property
    def _slot_free(self) -> threading.Semaphore:
        """The semaphore of ``slots``, remade when a test changes ``slots``."""
        with self._lock:
            if self._slots_made != self.slots:
                self._slots_made = self.slots
                self._slot_semaphore = threading.Semaphore(self.slots or 1)
            return self._slot_semaphore

    # -- lifecycle -----------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The client's base URL, e.g. ``http://127.0.0.1:PORT/v1``."""
        if self._server is None:
            raise RuntimeError("FakeOpenAI is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def in_flight(self) -> int:
        """How many requests are being handled right now."""
        with self._lock:
            return self._in_flight

    def start(self) -> FakeOpenAI:
        """Bind a free port and serve in a background thread."""
        if self._server is not None:
            raise RuntimeError("FakeOpenAI is already started")
        self._stopping.clear()
        self._server = _Server(self)
        # A short poll interval makes shutdown() return quickly.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeOpenAI:{self._server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and cut open connections; safe to call twice."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        # Handler threads block reading idle keep-alive connections; cutting
        # the sockets ends them now rather than when the client hangs up.
        server.hang_up_all()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def reset_stats(self) -> None:
        """Forget recorded requests and the in-flight peak."""
        with self._lock:
            self.requests.clear()
            self.peak_in_flight = 0
            self.faults_served.clear()

    # -- request handling (called from handler threads) ---------------------

    def _enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _sleep(self, extra: float = 0.0) -> bool:
        """Wait out the latency (plus `extra`); False if stop() interrupted it."""
        latency = self.latency + extra
        if latency > 0:
            self._stopping.wait(latency)
        return not self._stopping.is_set()

    def _answer(self, method: str, path: str, raw: bytes, headers: dict[str, str]) -> _Answer:
        """Record the request and decide (status, JSON body, extra headers)."""
        if path == "/v1/chat/completions" and method == "POST":
            status, body, extra = self._chat(raw, headers)
        elif path == "/v1/responses" and method == "POST":
            status, body, extra = self._responses(raw, headers)
        elif path == "/v1/models" and method == "GET":
            status, body, extra = 200, self._model_list(), {}
        else:
            message = f"Unknown request URL: {method} {path}."
            status, body, extra = 404, _error_body(404, message), {}
        # Real responses carry one; the client exposes it as `_request_id`.
        extra["x-request-id"] = f"req_fake_{next(self._ids)}"
        return status, body, extra

    def _chat(self, raw: bytes, headers: dict[str, str]) -> _Answer:
        body = _json_object(raw)
        if not isinstance(body, dict):
            return body
        with self._lock:
            self.requests.append({**body, "_headers": headers})

        model, messages = body.get("model"), body.get("messages")
        if not isinstance(model, str) or not model:
            return _bad("you must provide a model parameter", "model")
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            return _bad("'messages' must be a list of objects", "messages")
        if body.get("stream"):
            # Better a clear error than a stream the client can't parse.
            return _bad("FakeOpenAI does not support stream=true", "stream")
        for name in sorted(self.unsupported & set(body)):
            message = f"Unsupported parameter: '{name}' is not supported with this model."
            if name == "max_tokens":  # as OpenAI's reasoning models answer
                message += " Use 'max_completion_tokens' instead."
            return _bad(message, name)

        prompt = last_user_message(messages)
        fault = self._take_fault(prompt)
        if fault is not None and fault.kind == "status":
            with self._lock:
                self.faults_served[str(fault.status)] += 1
            extra = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
            body = _error_body(fault.status, fault.message, code=fault.code)
            return fault.status, body, extra
        if fault is not None:
            with self._lock:
                self.faults_served[fault.kind] += 1
            if fault.kind == "drop":
                return 200, _DROP, {}
            if fault.kind == "garbage":
                return 200, _GARBAGE, {}
            if fault.kind in _UNUSABLE:
                return 200, self._unusable(model, messages, fault), {}

        try:
            reply = self._reply(messages, prompt)
        except Exception as exc:
            # Surface a broken responder as a server error the test can see.
            return 500, _error_body(500, f"responder raised {exc!r}"), {}
        hang = {"x-fake-hang": f"{fault.hang}"} if fault is not None else {}
        cap = body.get("max_completion_tokens", body.get("max_tokens"))
        return 200, self._capped(model, messages, reply, cap), hang

    def _responses(self, raw: bytes, headers: dict[str, str]) -> _Answer:
        """OpenAI's Responses API, answered by the chat path: the request is recorded as the
        chat request it means (`messages`, `max_tokens`), with `_api` "responses" and the
        body as sent under `_responses`."""
        body = _json_object(raw)
        if not isinstance(body, dict):
            return body
        messages: list[dict[str, Any]] = []
        if isinstance(body.get("instructions"), str):
            messages.append({"role": "system", "content": body["instructions"]})
        given = body.get("input")
        if isinstance(given, str):
            messages.append({"role": "user", "content": given})
        elif isinstance(given, list):
            messages.extend(m for m in given if isinstance(m, dict))
        renamed = ("input", "instructions", "max_output_tokens", "text", "reasoning")
        chat = {k: v for k, v in body.items() if k not in renamed}
        chat.update(messages=messages, _api="responses", _responses=body)
        if "max_output_tokens" in body:
            chat["max_tokens"] = body["max_output_tokens"]
        status, answer, extra = self._chat(json.dumps(chat).encode(), headers)
        if status != 200 or not isinstance(answer, dict) or "object" not in answer:
            return status, answer, extra
        return status, _as_response(answer), extra

    def _unusable(self, model: str, messages: list[dict[str, Any]], fault: Fault) -> object:
        """A 200 answer without a usable reply (a refusal, an empty reply, ...)."""
        completion = self._completion(model, messages, "")
        _UNUSABLE[fault.kind](completion, fault.message)
        if fault.completion_tokens is not None:
            completion["usage"]["completion_tokens"] = fault.completion_tokens
        return completion

    def _capped(
        self, model: str, messages: list[dict[str, Any]], reply: str, cap: object
    ) -> dict[str, Any]:
        """The completion of `reply`; one longer than the cap (a word a token) stops there,
        with finish_reason length, as a real model's does."""
        cut = isinstance(cap, int) and cap > 0 and _word_count(reply) > cap
        if cut:
            reply = " ".join(reply.split()[: cast(int, cap)])
        completion = self._completion(model, messages, reply)
        if cut:
            completion["choices"][0]["finish_reason"] = "length"
        return completion

    def _take_fault(self, prompt: str) -> Fault | None:
        """A rate-limit answer, a chaos draw, or the first live fault matching the prompt."""
        if self.rate_limit is not None and self.in_flight > self.rate_limit:
            return Fault(429, "Rate limit reached: too many requests in flight", retry_after=0)
        if self.budget is not None and (refused := self.budget.refusal()) is not None:
            return refused
        if self.chaos is not None and (drawn := self.chaos.draw()) is not None:
            return drawn
        with self._lock:
            # A snapshot: tests may edit `faults` from their own thread meanwhile.
            for key, fault in list(self.faults.items()):
                if key != "*" and key not in prompt:
                    continue
                if fault.times is None:
                    return fault
                if fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def _reply(self, messages: list[dict[str, Any]], prompt: str) -> str:
        if self.responder is not None:
            return self.responder(messages)
        for key, reply in list(self.replies.items()):
            if key in prompt:
                return reply
        return self.default_reply

    def _completion(self, model: str, messages: list[dict[str, Any]], reply: str) -> dict[str, Any]:
        prompt_tokens = sum(_word_count(_content_text(m.get("content"))) for m in messages)
        completion_tokens = _word_count(reply)
        return {
            "id": f"chatcmpl-fake{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.served_model or model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply, "refusal": None},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
            "system_fingerprint": self.system_fingerprint,
        }

    def _model_list(self) -> object:
        created = int(time.time())
        return {
            "object": "list",
            "data": [
                {"id": name, "object": "model", "created": created, "owned_by": "fake-openai"}
                for name in _MODELS
            ],
        }
