"""What a finished run leaves behind: the JSON report, the Markdown summary (also appended
to GitHub's step summary), the HTML report and the baseline. Each output is rendered, then
written, on its own: one that fails becomes a named problem of the run and the rest still
come."""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from .files import json_text, unwritable, write_atomic
from .records import JudgeCase, OrphanEntry
from .render.html import render_html
from .render.json_report import build_report
from .render.markdown import render_markdown
from .render.wording import Line, update_lines
from .results.assessment import Assessment
from .results.baseline import Baseline, BaselineError, read_baseline, update_baseline
from .results.suites import SuiteResult, overall_metrics
from .results.sweep import Sweep
from .results.verdict import Verdict
from .shown import counted
from .untrusted import plain

T = TypeVar("T")


@dataclass(frozen=True)
class BaselineUse:
    """The baseline read at the start (None: none yet), and whether to update it."""

    baseline: Baseline | None = None
    update: bool = False
    allow_errors: bool = False
    #: Start each suite's pool afresh from this run instead of pooling it.
    restart: bool = False


def checked_baseline(paths: OutputPaths, update: bool) -> Baseline | None:
    """Before anything is asked (a run that cannot save its results wastes money): every
    output can be written, and the baseline, if any, read. Raises ValueError saying why."""
    named = (
        ("JSON report", paths.report),
        ("Markdown summary", paths.markdown),
        ("HTML report", paths.html),
        ("baseline", paths.baseline),
    )
    for what, path in named:
        if path is not None and (problem := unwritable(path)):
            raise ValueError(f"cannot write the {what} to {path}: {problem}")
    if update and paths.baseline is None:
        raise ValueError(
            "--abstain-update-baseline needs a file: pass --abstain-baseline PATH "
            "(or set abstain_baseline in the ini file)"
        )
    if paths.baseline is None:
        return None
    try:
        return read_baseline(paths.baseline, shown_path(paths.baseline))
    except BaselineError as exc:
        raise ValueError(str(exc)) from None


@dataclass(frozen=True)
class OutputPaths:
    report: Path | None = None
    markdown: Path | None = None
    html: Path | None = None
    baseline: Path | None = None
    #: GitHub's step summary file ($GITHUB_STEP_SUMMARY), appended to, never replaced.
    step_summary: str | None = None


class Outputs:
    """Renders and writes a run's outputs, keeping what went wrong as `problems`."""

    def __init__(self, paths: OutputPaths) -> None:
        self.paths = paths
        #: What went wrong in the run itself: each fails the run and keeps the baseline.
        self.problems: list[str] = []
        #: The outputs written, in order, to name at the end of the summary.
        self.written: list[tuple[str, Path]] = []
        #: Why the step summary could not be appended to (a warning, not a problem).
        self.step_summary_problem: str | None = None
        #: What became of the baseline (updated, refused, missing), for the summary.
        self.baseline_note: Line | None = None
        #: Entries an update removed or moved, one line each, after the note.
        self.baseline_changes: list[Line] = []
        #: Top-level sections of the JSON report that the controller adds (expiry).
        self.report_extras: dict[str, Any] = {}

    def publish(
        self,
        assessment: Assessment,
        judge_cases: Sequence[JudgeCase],
        run: dict[str, Any],
        title: str,
        on_report: Callable[[list[SuiteResult], dict[str, Any]], None],
        baseline: BaselineUse,
    ) -> None:
        """Every output of a finished run; `on_report` gets the JSON report (the team's
        pytest_abstain_results hook): if it raises, the run fails and the rest still come."""
        results, found, verdict = assessment.results, assessment.sweeps, assessment.verdict
        markdown, html = self.documents(results, found, verdict, title, run, assessment.orphans)
        report = self.report(results, found, judge_cases, run, verdict, orphans=assessment.orphans)
        if report is not None:
            try:
                on_report(list(results), report)
            except Exception as exc:
                self.problem("a pytest_abstain_results hook raised", exc)
        self.write_documents(markdown, html)
        if verdict.stopped and baseline.update:
            self.baseline_note = (
                "baseline NOT updated: the run stopped early, so most questions were not asked",
                {"red": True},
            )
        else:
            self.baseline_note = self.baseline_step(baseline, results, assessment.gone)

    def notes(self) -> list[Line]:
        """The summary's last lines: what was written, what could not be, the baseline."""
        lines: list[Line] = [(f"{what}: {path}", {}) for what, path in self.written]
        if self.step_summary_problem is not None:
            lines.append((self.step_summary_problem, {"yellow": True}))
        if self.baseline_note is not None:
            lines.append(self.baseline_note)
        lines.extend(self.baseline_changes)
        return lines

    def problem(self, what: str, exc: BaseException) -> None:
        """Something failed inside the run itself: the run fails, saying what and why."""
        reason = getattr(exc, "strerror", None) if isinstance(exc, OSError) else None
        detail = reason or "".join(traceback.format_exception_only(exc)).strip()
        if not isinstance(exc, OSError):
            # A bug of ours: where it happened, for the bug report.
            frame = traceback.extract_tb(exc.__traceback__)[-1:]
            detail += "".join(f" (at {f.filename}:{f.lineno})" for f in frame)
        self.problems.append(plain(f"{what}: {detail}"))

    def rendered(self, what: str, wanted: bool, render: Callable[[], T]) -> T | None:
        if not wanted:
            return None
        try:
            return render()
        except Exception as exc:
            self.problem(f"the {what} could not be rendered", exc)
            return None

    def write(self, what: str, path: Path | None, content: Callable[[], str | None]) -> None:
        """Write what `content` makes (None: its rendering failed, and said so) to `path`."""
        if path is None:
            return
        try:
            text = content()
            if text is None:
                return
            write_atomic(path, text)
        except Exception as exc:
            self.problem(f"the {what} could not be written to {path}", exc)
        else:
            self.written.append((what, path))

    def report(
        self,
        results: Sequence[SuiteResult],
        sweeps: Sequence[Sweep],
        judge_cases: Sequence[JudgeCase],
        run: dict[str, Any],
        verdict: Verdict,
        wanted: bool = True,
        orphans: Sequence[OrphanEntry] = (),
    ) -> dict[str, Any] | None:
        """The JSON report (written when a path was given); None when it failed to render."""
        report = self.rendered(
            "JSON report",
            wanted,
            lambda: (
                build_report(
                    results,
                    overall_metrics(results),
                    run,
                    verdict,
                    sweeps,
                    judge_cases,
                    self.problems,
                    orphans,
                )
                | self.report_extras
            ),
        )
        if report is not None:
            self.write("JSON report", self.paths.report, lambda: json_text(report))
        return report

    def documents(
        self,
        results: Sequence[SuiteResult],
        sweeps: Sequence[Sweep],
        verdict: Verdict,
        title: str,
        run: Mapping[str, Any] | None = None,
        orphans: Sequence[OrphanEntry] = (),
    ) -> tuple[str | None, str | None]:
        """The Markdown summary and the HTML report, rendered (None: not wanted, or failed);
        `run` says what produced them, as in the JSON report. Rendered before the JSON report,
        so that it knows whether every output could be made."""
        wants_markdown = self.paths.markdown is not None or bool(self.paths.step_summary)
        markdown = self.rendered(
            "Markdown summary",
            wants_markdown,
            lambda: render_markdown(
                results,
                sweeps,
                verdict,
                bool(self.problems),
                orphans,
                self.report_extras.get("expiry"),
            ),
        )
        html = self.rendered(
            "HTML report",
            self.paths.html is not None,
            lambda: render_html(
                results,
                sweeps,
                title,
                verdict=verdict,
                run=run or {},
                created=datetime.now(timezone.utc),
                problems=self.problems,
                expiry=self.report_extras.get("expiry"),
            ),
        )
        return markdown, html

    def write_documents(self, markdown: str | None, html: str | None) -> None:
        self.write("Markdown summary", self.paths.markdown, lambda: markdown)
        self._append_step_summary(markdown)
        self.write("HTML report", self.paths.html, lambda: html)

    def _append_step_summary(self, markdown: str | None) -> None:
        """GitHub's step summary file is shared by every step of the job: append, never
        replace. Not the run's own output, so failing to append only warns."""
        github = self.paths.step_summary
        if not github or markdown is None:
            return
        try:
            with open(github, "a", encoding="utf-8") as summary:
                summary.write(markdown)
        except OSError as exc:
            self.step_summary_problem = f"cannot append to $GITHUB_STEP_SUMMARY {github}: {exc}"

    def baseline_step(
        self,
        use: BaselineUse,
        results: Sequence[SuiteResult],
        gone: Sequence[OrphanEntry] = (),
    ) -> Line | None:
        """Update the baseline when asked (never with errors unless allowed); else a note.
        An update drops the entries of suites `gone` from the run, and says which."""
        path = self.paths.baseline
        if path is None:
            return None
        if not use.update:
            if use.baseline is None:
                return (
                    f"no baseline at {path} yet: nothing compared. Create it from a good run "
                    f"with --abstain-baseline {path} --abstain-update-baseline",
                    {"yellow": True},
                )
            return None
        if self.problems:
            return (
                "baseline NOT updated: the run itself failed (see the problems below), so "
                "its results are not a reference",
                {"red": True},
            )
        errors = sum(result.counts.error for result in results)
        if errors and not use.allow_errors:
            return (
                f"baseline NOT updated: {counted(errors, 'reply', 'replies')} could not be "
                "obtained, and a baseline "
                "with holes compares badly. Fix them, or pass --abstain-baseline-allow-errors",
                {"red": True},
            )
        try:
            update = update_baseline(
                path, list(results), [orphan.key for orphan in gone], restart=use.restart
            )
        except BaselineError as exc:
            return (f"baseline NOT updated: {exc}", {"red": True})
        except OSError as exc:
            self.problem(f"the baseline could not be written to {path}", exc)
            return None
        self.baseline_changes = [
            (f"  {line}", {"yellow": True}) for line in update_lines(update, gone)
        ]
        return (f"baseline updated: {path} ({len(results)} suites)", {"green": True})


def shown_path(path: Path) -> str:
    """`path` as a command typed here would name it: relative when it is below here."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def step_summary_path() -> str | None:
    return os.environ.get("GITHUB_STEP_SUMMARY") or None
