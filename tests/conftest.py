from __future__ import annotations

from collections.abc import Iterator

import pytest
from openai_server import FakeOpenAI

pytest_plugins = ["pytester"]


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAI]:
    """A loopback OpenAI-compatible chat server; set `.replies`, `.latency`, `.faults`."""
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def api_key(monkeypatch: pytest.MonkeyPatch) -> str:
    key = "sk-test-abstain-0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    # The openai client also reads these; a developer's shell must not leak into tests.
    for name in ("OPENAI_BASE_URL", "OPENAI_CUSTOM_HEADERS", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)
    return key
