"""The response cache against what a repository can hold and a run can leave (issue 13).

Each case puts the real thing on disk: a symbolic link to /dev/zero, a FIFO, a directory, an
oversize file, a writer's orphaned temporary file, an API key in the messages. Reads that
would never end if the cache regressed run in a child process with a memory limit, under a
timeout that only guards against a hang.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai_server import FakeOpenAI

import pytest_abstain.asking.cache
from pytest_abstain.asking.cache import (
    MAX_ENTRY_BYTES,
    ORPHAN_AGE_SECONDS,
    CacheKey,
    ResponseCache,
)
from pytest_abstain.asking.misses import MissIndex
from pytest_abstain.records import Reply

posix_only = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and /dev/zero are POSIX")
HANG_GUARD = 120  # seconds; a child still running then has hung (the old cache on a FIFO)
MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


def key(**changes: Any) -> CacheKey:
    parts: dict[str, Any] = {
        "endpoint": "http://127.0.0.1:1/v1",
        "model": "m",
        "params": {},
        "messages": MESSAGES,
        "sample": 0,
    }
    parts.update(changes)
    return CacheKey.of(**parts)


def entry_path(root: Path, of: CacheKey) -> Path:
    return root / of.digest[:2] / f"{of.digest}.json"


# --- entries that are not regular files of bounded size ----------------------------------

# Get, explain a miss (which reads every entry), record, then replay from a fresh cache.
CHILD = textwrap.dedent(
    """
    import json, resource, sys
    from pathlib import Path
    # Reading /dev/zero to the end would take the machine's memory before failing.
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
    from pytest_abstain.asking.cache import CacheKey, ResponseCache
    from pytest_abstain.records import Reply

    root = Path(sys.argv[1])
    key = CacheKey.of(**json.loads(sys.argv[2]))
    cache = ResponseCache(root)
    got = cache.get(key)
    explained = cache.explain_miss(CacheKey.of(**{**json.loads(sys.argv[2]), "sample": 1}))
    cache.put(key, Reply(text="Paris"))
    again = ResponseCache(root).get(key)
    print(json.dumps({
        "got": None if got is None else got.text,
        "corrupt": [[str(p), why] for p, why in cache.corrupt_entries()],
        "explained": explained,
        "unwritable": {str(p): why for p, why in cache.unwritable.items()},
        "again": None if again is None else again.text,
    }))
    """
)


def run_child(root: Path) -> dict[str, Any]:
    parts: dict[str, Any] = {
        "endpoint": "http://127.0.0.1:1/v1", "model": "m", "params": {},
        "messages": MESSAGES, "sample": 0,
    }  # fmt: skip
    assert CacheKey.of(**parts) == key()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(root), json.dumps(parts)],
        capture_output=True, text=True, timeout=HANG_GUARD,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def make_fifo(path: Path) -> None:
    os.mkfifo(path)


def make_zero_link(path: Path) -> None:
    path.symlink_to("/dev/zero")


def make_fifo_link(path: Path) -> None:
    os.mkfifo(path.parent / "pipe")
    path.symlink_to(path.parent / "pipe")


def make_dangling_link(path: Path) -> None:
    path.symlink_to(path.parent / "nowhere.json")


def make_oversize(path: Path) -> None:
    with path.open("wb") as handle:
        handle.truncate(MAX_ENTRY_BYTES + 1)  # sparse: no disk space taken


@posix_only
@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (make_zero_link, "cannot read it: a symbolic link to a character device ('/dev/zero')"),
        (make_fifo, "cannot read it: a FIFO (named pipe), not a regular file"),
        (make_fifo_link, "cannot read it: a symbolic link to a FIFO (named pipe)"),
        (make_dangling_link, "which does not exist"),
        (make_oversize, f"too large: 16.0 MiB, over the {MAX_ENTRY_BYTES >> 20} MiB"),
    ],
)
def test_a_special_or_oversize_entry_is_reported_asked_again_and_replaced(
    tmp_path: Path, make: Any, reason: str
) -> None:
    other = key(model="other")
    ResponseCache(tmp_path).put(other, Reply(text="Lyon"))  # something to explain a miss by
    path = entry_path(tmp_path, key())
    path.parent.mkdir(parents=True, exist_ok=True)
    make(path)

    result = run_child(tmp_path)

    assert result["got"] is None
    assert result["corrupt"] == [[str(path), result["corrupt"][0][1]]]
    assert reason in result["corrupt"][0][1]
    # Explaining a miss reads every entry, the damaged one included, and skips it.
    assert result["explained"].startswith("the closest cached entry differs in model")
    assert result["unwritable"] == {} and result["again"] == "Paris"
    # Recording replaced it by a regular file, with a mode of its own (not /dev/zero's).
    info = os.lstat(path)
    assert stat.S_ISREG(info.st_mode) and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    assert os.path.getsize(path) < 10_000


@posix_only
def test_a_directory_in_place_of_an_entry_is_reported_and_left_alone(tmp_path: Path) -> None:
    path = entry_path(tmp_path, key())
    path.mkdir(parents=True)
    (path / "notes.txt").write_text("someone's files", encoding="utf-8")

    result = run_child(tmp_path)

    assert result["got"] is None and result["again"] is None
    assert result["corrupt"] == [[str(path), "cannot read it: a directory, not a regular file"]]
    assert result["explained"] == f"the cache in {tmp_path} is empty"
    assert result["unwritable"] == {str(path): "a directory is where the entry goes"}
    assert (path / "notes.txt").read_text(encoding="utf-8") == "someone's files"


def test_a_link_to_a_whole_entry_is_followed(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "a")
    cache.put(key(), Reply(text="Paris"))
    path = entry_path(tmp_path / "b", key())
    path.parent.mkdir(parents=True)
    path.symlink_to(entry_path(tmp_path / "a", key()))
    linked = ResponseCache(tmp_path / "b")
    assert linked.get(key()) == Reply(text="Paris", cached=True)
    assert linked.corrupt_entries() == []


def test_an_entry_too_large_is_not_written(tmp_path: Path) -> None:
    # A reply is capped well below the entry cap (responders.MAX_REPLY_CHARS); a prompt, from
    # a large system prompt file, is not.
    huge = key(messages=[{"role": "system", "content": "x" * MAX_ENTRY_BYTES}, *MESSAGES])
    cache = ResponseCache(tmp_path)
    cache.put(huge, Reply(text="Paris"))
    path = entry_path(tmp_path, huge)
    assert not path.exists()
    assert cache.unwritable[path].startswith("too large: 16.0 MiB, over the 16 MiB")


# --- orphaned temporary files ------------------------------------------------------------

# A writer killed between write_atomic's two steps, as an xdist worker or controller is by
# SIGTERM: fsync is where the signal lands, so nothing after it runs (no `finally`).
KILLED_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from pytest_abstain.asking.cache import CacheKey, ResponseCache
    from pytest_abstain.records import Reply

    os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGTERM)
    key = CacheKey.of(None, "m", {}, [{"role": "user", "content": "Killed?"}], 0)
    ResponseCache(Path(sys.argv[1])).put(key, Reply(text="never whole"))
    """
)


def orphans(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("*/.*") if p.name.endswith(".tmp"))


def kill_a_writer(root: Path) -> Path:
    """Leave an orphaned temporary file the way a killed run does; return its path."""
    done = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, str(root)], capture_output=True, timeout=HANG_GUARD
    )
    assert done.returncode == -signal.SIGTERM
    (orphan,) = orphans(root)
    return orphan


def age(path: Path, seconds: float) -> None:
    info = path.stat()
    os.utime(path, (info.st_atime - seconds, info.st_mtime - seconds))


@posix_only
def test_a_recording_cache_removes_temporary_files_of_killed_writers(tmp_path: Path) -> None:
    orphan = kill_a_writer(tmp_path)
    assert not list(tmp_path.glob("*/*.json"))  # the killed writer stored nothing

    # A temporary file this young may be a concurrent writer's, about to be renamed.
    young = ResponseCache(tmp_path)
    young.put(key(sample=1), Reply(text="Paris"))
    assert orphans(tmp_path) == [orphan]

    age(orphan, ORPHAN_AGE_SECONDS + 60)
    live = orphan.with_name(orphan.name.replace(".json.", ".json.live", 1))
    live.write_text("{", encoding="utf-8")  # another writer's, just made
    mine = orphan.parent / ".notes.tmp"  # not write_atomic's: not the cache's to remove
    mine.write_text("mine", encoding="utf-8")
    age(mine, ORPHAN_AGE_SECONDS + 60)

    # Only reading (replay) never modifies the cache.
    reader = ResponseCache(tmp_path)
    assert reader.get(key(sample=1)) is not None
    assert "differs in sample" in reader.explain_miss(key())
    assert orphan.exists()

    ResponseCache(tmp_path).put(key(sample=2), Reply(text="Paris"))
    assert orphans(tmp_path) == sorted([live, mine])
    assert ResponseCache(tmp_path).remove_orphans(older_than=0) == [live]


@posix_only
def test_a_recording_run_cleans_up_after_a_killed_one(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(".yaml", abstain_c="questions:\n  - {id: q, question: 'Q?', idk: true}\n")
    orphan = kill_a_writer(pytester.path / "cache")
    age(orphan, ORPHAN_AGE_SECONDS + 60)
    result = pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", openai_server.base_url,
        "--abstain-cache", "cache",
    )  # fmt: skip
    assert result.ret == 0
    assert orphans(pytester.path / "cache") == []
    assert len(list((pytester.path / "cache").glob("*/*.json"))) == 1


# --- explaining misses: each entry read once, the same explanations ----------------------


def old_explain_miss(root: Path, wanted_key: CacheKey) -> str:
    """explain_miss before issue 13 (every entry read per miss), entries in the order the new
    one breaks ties by: last message, then path."""
    from pytest_abstain.asking.misses import _describe_change, _last_content, _shared_start

    stored_keys = []
    for path in root.glob("*/*.json"):
        stored = json.loads(path.read_text(encoding="utf-8"))["key"]
        stored_keys.append((_last_content(stored.get("messages")), str(path), stored))
    wanted = wanted_key.parts()
    prompt = wanted_key.messages[-1][1] if wanted_key.messages else ""
    names = ("endpoint", "model", "params", "messages", "sample")
    best: tuple[tuple[int, int], dict[str, Any]] | None = None
    for _, _, stored in sorted(stored_keys, key=lambda item: item[:2]):
        differing = sum(1 for name in names if stored.get(name) != wanted[name])
        shared = _shared_start(_last_content(stored.get("messages")), prompt)
        if best is None or (differing, -shared) < best[0]:
            best = ((differing, -shared), stored)
    if best is None:
        return f"the cache in {root} is empty"
    changes = [
        _describe_change(name, best[1].get(name), wanted[name])
        for name in names
        if best[1].get(name) != wanted[name]
    ]
    return "the closest cached entry differs in " + "; ".join(changes)


def question(i: int, threshold: int, system: str | None = None) -> list[dict[str, str]]:
    user = {"role": "user", "content": f"Question {i}? Answer if over {threshold}% sure."}
    return [{"role": "system", "content": system}, user] if system else [user]


def fill(root: Path) -> list[CacheKey]:
    """A cache as several runs leave it: models, samples, params, a system prompt."""
    cache = ResponseCache(root)
    stored = []
    for i in range(8):
        for model, sample in (("m", 0), ("m", 1), ("big", 0)):
            stored.append(key(model=model, sample=sample, messages=question(i, 75)))
        stored.append(key(params={"temperature": 0.5}, messages=question(i, 90, "Be brief.")))
    for stored_key in stored:
        cache.put(stored_key, Reply(text="I don't know."))
    return stored


MISSES = [
    key(messages=question(3, 90)),
    key(messages=question(3, 90, "Be brief.")),
    key(messages=question(3, 75, "Be brief.")),
    key(model="big", sample=1, messages=question(5, 75)),
    key(model="other", messages=question(12, 75)),
    key(endpoint="http://elsewhere/v1", messages=question(2, 75)),
    key(params={"temperature": 0.5}, messages=question(2, 75)),
    key(sample=3, messages=question(7, 75)),
    key(messages=[{"role": "user", "content": ""}]),
    key(messages=[{"role": "user", "content": "Something else entirely"}]),
    key(messages=[*question(1, 75), {"role": "assistant", "content": "A"}]),
]


def test_explaining_every_miss_reads_each_entry_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = fill(tmp_path)
    reads: list[Path] = []
    read = pytest_abstain.asking.cache._read_entry

    def counted(path: Path) -> str:
        reads.append(path)
        return read(path)

    monkeypatch.setattr(pytest_abstain.asking.cache, "_read_entry", counted)
    cache = ResponseCache(tmp_path)
    for miss in MISSES * 10:
        cache.explain_miss(miss)
    # Before: every entry for every miss, 32 x 110 reads.
    assert sorted(reads) == sorted(entry_path(tmp_path, k) for k in stored)


def test_explanations_are_those_of_the_old_ranking(tmp_path: Path) -> None:
    stored = fill(tmp_path)
    cache = ResponseCache(tmp_path)
    explained = [cache.explain_miss(miss) for miss in MISSES]
    assert explained == [old_explain_miss(tmp_path, miss) for miss in MISSES]
    assert explained[0] == (
        "the closest cached entry differs in messages (user message at character 27: "
        "'if over 75% sure.' → 'if over 90% sure.')"
    )
    # ... that of the same question at another threshold, not of another question.
    index = MissIndex((str(entry_path(tmp_path, k)), k.parts()) for k in stored)
    found = index.closest(MISSES[0].parts())
    same_question = key(messages=question(3, 75))
    assert found is not None and found[0] == str(entry_path(tmp_path, same_question))
    assert explained[1] == "the closest cached entry differs in params: {'temperature': 0.5} → {}"
    # A key stored by this cache after the index was built is found by the next miss.
    cache.put(stored[0], Reply(text="again"))
    cache.put(key(sample=9, messages=question(3, 90)), Reply(text="new"))
    assert cache.explain_miss(MISSES[0]) == "the closest cached entry differs in sample: 9 → 0"


def test_a_miss_on_an_unusable_entry_with_its_very_key_says_so(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    cache.put(key(), Reply(text="Paris"))
    path = entry_path(tmp_path, key())
    path.write_text(path.read_text(encoding="utf-8").replace('"Paris"', "null"), encoding="utf-8")
    assert cache.get(key()) is None
    assert cache.explain_miss(key()) == (
        "the entry stored with this very key is unusable: no reply text"
    )
    # Another process (an xdist worker) stores the entry between the look-up and the index.
    looking = ResponseCache(tmp_path)
    assert looking.get(key(sample=1)) is None
    ResponseCache(tmp_path).put(key(sample=1), Reply(text="Paris"))
    assert looking.explain_miss(key(sample=1)) == (
        "an entry with this very key was stored since (by another process?)"
    )


TEXT = st.text(alphabet="ab%7", max_size=4)
ROLES = ["system", "user"]
KEYS = st.builds(
    key,
    model=st.sampled_from(["m", "n"]),
    params=st.sampled_from([{}, {"temperature": 0.5}]),
    sample=st.integers(0, 1),
    messages=st.lists(
        st.builds(lambda role, text: {"role": role, "content": text}, st.sampled_from(ROLES), TEXT),
        min_size=1,
        max_size=2,
    ),
)


@settings(max_examples=150, deadline=None)
@given(stored=st.lists(KEYS, max_size=12), wanted=st.lists(KEYS, min_size=1, max_size=4))
def test_explanations_match_the_old_ranking_on_any_cache(
    stored: list[CacheKey], wanted: list[CacheKey]
) -> None:
    # Tiny alphabets, so that shared starts, ties and exact messages abound.
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        cache = ResponseCache(root)
        for stored_key in stored:
            cache.put(stored_key, Reply(text="x"))
        for miss in wanted:
            if miss not in stored:  # only misses are explained
                assert cache.explain_miss(miss) == old_explain_miss(root, miss)


@settings(max_examples=150, deadline=None)
@given(first=st.lists(KEYS, max_size=8), then=st.lists(KEYS, max_size=8), wanted=KEYS)
def test_an_index_grown_by_adds_is_the_index_built_at_once(
    first: list[CacheKey], then: list[CacheKey], wanted: CacheKey
) -> None:
    # Paths as the cache names them, one in three holding another key (copied in by hand).
    def path(i: int, k: CacheKey) -> str:
        return f"{k.digest}.json" if i % 3 else "shared.json"

    grown = MissIndex((path(i, k), k.parts()) for i, k in enumerate(first))
    final = {path(i, k): k.parts() for i, k in enumerate(first)}
    for i, k in enumerate(then, start=len(first)):
        grown.add(path(i, k), k.parts())
        final[path(i, k)] = k.parts()
    assert grown.closest(wanted.parts()) == MissIndex(final.items()).closest(wanted.parts())


# --- API keys ----------------------------------------------------------------------------

SECRET = "sk-proj-Abc123_secret-0123456789"


@pytest.mark.parametrize(
    ("where", "secret"),
    [
        ("system", SECRET),
        ("user", SECRET),
        ("reply", SECRET),
        ("system", 'sk-with"quote\\and-backslash'),  # stored escaped in the JSON text
    ],
)
def test_an_entry_holding_an_api_key_is_never_written(
    tmp_path: Path, where: str, secret: str
) -> None:
    cache = ResponseCache(tmp_path, secrets=["", " ", "EMPTY", f"{secret}\n"])
    text = f"Our key is {secret}. Be brief."
    messages = [{"role": "system", "content": "Be brief."}, *MESSAGES]
    if where == "system":
        messages[0]["content"] = text
    elif where == "user":
        messages[1]["content"] = text
    stored_key = key(messages=messages)
    cache.put(stored_key, Reply(text=text if where == "reply" else "Paris"))
    path = entry_path(tmp_path, stored_key)
    assert not path.exists() and not list(tmp_path.rglob("*.json"))
    assert cache.unwritable == {path: "it would store an API key in clear"}
    # Short placeholders ("EMPTY") are not secrets: an entry naming one is stored.
    cache.put(key(messages=[{"role": "user", "content": "EMPTY?"}]), Reply(text="EMPTY"))
    assert len(list(tmp_path.rglob("*.json"))) == 1


def test_a_system_prompt_file_holding_the_api_key_is_asked_not_stored(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.path.joinpath("prompt.txt").write_text(f"Internal: {api_key}\n", encoding="utf-8")
    pytester.makefile(
        ".yaml",
        # Sent on purpose (the suite loader refuses it otherwise), and still never stored.
        abstain_c="system_prompt_file: prompt.txt\nallow_secrets: [OPENAI_API_KEY]\n"
        "questions:\n  - {id: capital, question: 'Capital of France?', answer: Paris}\n",
    )
    openai_server.replies = {"France": "Paris."}
    result = pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", openai_server.base_url,
        "--abstain-cache", "cache",
    )  # fmt: skip
    assert result.ret == 0 and len(openai_server.requests) == 1
    result.stdout.fnmatch_lines(["*1 reply could not be stored*it would store an API key*"])
    assert api_key not in result.stdout.str()
    assert not [p for p in (pytester.path / "cache").rglob("*") if p.is_file()]
