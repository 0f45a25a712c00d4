from __future__ import annotations

import asyncio
import inspect
import socket
from collections.abc import Iterator

import openai
import pytest
from openai_server import FakeOpenAI

pytest_plugins = ["pytester"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that run pytest inside pytest (pytester) or a subprocess: the slow
    third of the suite, so `pytest -m "not e2e"` is the fast subset (README → Set-up)."""
    for item in items:
        if isinstance(item, pytest.Function) and _end_to_end(item):
            item.add_marker(pytest.mark.e2e)


def _end_to_end(item: pytest.Function) -> bool:
    """The rule benchmarks/test_mix.py counts by: pytester, or a subprocess in the body."""
    if "pytester" in item.fixturenames:
        return True
    try:
        source = inspect.getsource(item.function)
    except (OSError, TypeError):
        return False
    return "subprocess" in source or "runpytest" in source


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: runs pytest or a process end to end (slow)")
    config.addinivalue_line(
        "markers",
        "real_servers: runs a LiteLLM proxy or llama.cpp's server (tests/loopback_servers.py)",
    )
    _warm_up_the_http_stack()


def _warm_up_the_http_stack() -> None:
    """Import the whole HTTP stack once, before any in-process pytester run.

    The openai client imports its transport (httpcore, h11, anyio's backend) on the first
    request. pytester drops the modules a run imported when it ends, so the next run would
    import them again while modules it kept hold the first copies: an exception raised as one
    copy's class escapes a handler of the other's, and a dropped connection or a timeout
    arrives unwrapped (and unretried). A real run imports them once; so does this.
    """

    async def ask_once(url: str) -> None:
        client = openai.AsyncOpenAI(base_url=url, api_key="warm-up", max_retries=0)
        await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "?"}])
        await client.close()

    with FakeOpenAI() as server:
        asyncio.run(ask_once(server.base_url))


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAI]:
    """A loopback OpenAI-compatible chat server; set `.replies`, `.latency`, `.faults`."""
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def api_key(monkeypatch: pytest.MonkeyPatch) -> str:
    key = "sk-test-abstain-0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    # The openai client also reads these; a developer's shell must not leak into tests.
    for name in ("OPENAI_BASE_URL", "OPENAI_CUSTOM_HEADERS", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)
    return key


@pytest.fixture(autouse=True)
def inner_runs_keep_their_order(request: pytest.FixtureRequest) -> None:
    """A pytester run is the test's own subject: its items run in the order written, even
    when pytest-randomly is installed to shuffle this suite (as the order-independence check
    does); otherwise the plugin under test would be shuffled with it. pytester clears
    PYTEST_ADDOPTS when it starts, so this is set after it."""
    if "pytester" in request.fixturenames:
        request.getfixturevalue("pytester")
        request.getfixturevalue("monkeypatch").setenv("PYTEST_ADDOPTS", "-p no:randomly")
