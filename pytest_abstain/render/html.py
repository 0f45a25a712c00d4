"""The HTML report: one self-contained file, no network fetches, readable at any width (pure).
Its layout is CSS only (report.css, inlined): bars are flex boxes and the sweep chart an SVG
with a viewBox, so they scale with the window; a script (report.js) only adds a filter box."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from functools import cache
from importlib import resources
from typing import Any

from ..records import GRADES, METRIC_NAMES, MetricComparison
from ..results.suites import SuiteResult, leaderboard
from ..results.sweep import Sweep
from ..results.verdict import Verdict
from ..shown import format_number, format_percent, format_rate
from .wording import (
    UNTESTABLE,
    auto_samples_line,
    curve_shown,
    expiry_groups,
    judge_line,
    served_warning,
    stated_line,
    tag_cost_line,
    undecided_line,
    verdict_reason,
)

#: Each grade's colour: white text on each has a contrast of at least 4.5 (WCAG AA).
COLOURS = {"correct": "#2e7d32", "wrong": "#c62828", "abstained": "#1565c0", "error": "#757575"}
SCORE_COLOUR = "#6a1b9a"
#: A change since the baseline is coloured as the grade it moved to.
_KINDS = ("newly wrong", "newly abstaining", "newly correct")
_CHANGE_GRADE = dict(zip(_KINDS, ("wrong", "abstained", "correct"), strict=True))


@cache
def _inlined(name: str) -> str:
    """report.css or report.js, shipped beside this module, to inline in the page."""
    return resources.files("pytest_abstain.render").joinpath(name).read_text("utf-8")


def _style() -> str:
    colours = "".join(f"--{grade}:{colour};" for grade, colour in COLOURS.items())
    return f":root{{{colours}}}\n{_inlined('report.css')}"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _grade(grade: str, text: str | None = None) -> str:
    """A grade as a coloured label: the colour and the word, never the colour alone."""
    return f'<span class="grade {_e(grade)}">{_e(text or grade)}</span>'


def _verdict_word(verdict: str) -> str:
    css = {"passed": "pass", "failed": "fail"}.get(verdict, "")
    return f'<span class="{css}">{_e(verdict)}</span>'


def _table(head: Sequence[str], rows: Iterable[Sequence[object]], attrs: str = "") -> str:
    """A table: `head` (text) as its header, each row's cells as given (already HTML)."""
    top = "".join(f"<th>{_e(name)}</th>" for name in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table{attrs}><thead><tr>{top}</tr></thead><tbody>{body}</tbody></table>"


def _responder(results: Sequence[SuiteResult], run: Mapping[str, Any]) -> str:
    """The model(s) asked, or the team's own responder (its name) when no model was."""
    models = [str(m) for m in run.get("models") or ([run["model"]] if run.get("model") else [])]
    if models:
        return ", ".join(models)
    names = sorted({result.info.responder for result in results})
    return f"the team's own responder ({', '.join(names)})" if names else "none"


def _header(
    results: Sequence[SuiteResult],
    verdict: Verdict,
    run: Mapping[str, Any],
    created: datetime,
    problems: Sequence[str],
) -> str:
    status = verdict.status(run_failed=bool(problems))
    when = created.astimezone(timezone.utc)
    # The JSON report's run description: its endpoint is already without credentials.
    endpoint = run.get("endpoint")
    where = f"<code>{_e(endpoint)}</code>" if endpoint else "— (answered in-process)"
    questions = sum(len(result.questions) for result in results)
    return (
        f'<section class="card verdict {status}" id="verdict">'
        f'<p class="status">{"✔" if status == "passed" else "✘"} {_e(status.upper())}</p>'
        f'<p class="why">{_e(verdict_reason(verdict, results, problems))}</p><dl class="run">'
        f'<dt>run</dt><dd><time datetime="{when.isoformat(timespec="seconds")}">'
        f"{when:%Y-%m-%d %H:%M:%S} UTC</time></dd>"
        f"<dt>responder</dt><dd>{_e(_responder(results, run))}</dd>"
        f"<dt>endpoint</dt><dd>{where}</dd>"
        f"<dt>asked</dt><dd>{len(results)} suites, {questions} questions</dd>"
        + (f"<dt>tests</dt><dd>{_e(verdict.family.describe())}</dd>" if verdict.family.size else "")
        + "</dl></section>"
    )


def outcome_bars(results: Sequence[SuiteResult]) -> str:
    """One bar per suite: the shares of correct, wrong, abstained and error, as flex boxes
    sized by their counts, so the proportions hold at any width."""
    rows = []
    for result in results:
        counts = result.counts
        shares = [(grade, getattr(counts, grade)) for grade in GRADES]
        spoken = ", ".join(f"{n} {grade}" for grade, n in shares if n)
        segments = "".join(
            f'<span class="seg {grade}" style="flex-grow:{n}" '
            f'title="{grade}: {n} of {counts.total}">{n}</span>'
            for grade, n in shares
            if n
        )
        rows.append(
            f'<div class="row"><div class="label">{_e(result.info.key)}</div>'
            f'<div class="bar" role="img" aria-label="{_e(result.info.key)}: {spoken}">'
            f'{segments}</div><div class="suite-verdict">{_verdict_word(result.verdict)}'
            "</div></div>"
        )
    return f'<div id="outcomes">{"".join(rows)}</div>'


def sweep_chart(sweep: Sweep) -> str:
    """Score and error rate over t, each point with its interval (score: ±, rate: Wilson)."""
    width, height, left, bottom, top = 560, 260, 50, 30, 22
    plot_w, plot_h = width - left - 20, height - bottom - top
    ts = [row.threshold for row in sweep.rows]
    scores = [row.metrics.score for row in sweep.rows]
    low_t, high_t = min(ts), max(ts)
    finite = [s for s in scores if s is not None] + [0.0, 1.0]
    finite += [end for row in sweep.rows if row.score for end in (row.score.low, row.score.high)]
    low_y, high_y = min(finite), max(finite)

    def px(t: float) -> float:
        span = (high_t - low_t) or 1.0
        return left + plot_w * (t - low_t) / span

    def py(value: float) -> float:
        return top + plot_h * (high_y - value) / ((high_y - low_y) or 1.0)

    parts = [
        f'<svg class="sweep" viewBox="0 0 {width} {height}" width="100%" role="img" '
        'aria-label="Score and error rate over t">',
        f'<line x1="{left}" y1="{py(0):.1f}" x2="{left + plot_w}" y2="{py(0):.1f}" '
        f'stroke="#999" stroke-dasharray="4 3"><title>abstaining on everything scores 0'
        f"</title></line>",
    ]
    rates = [row.metrics.error_rate for row in sweep.rows]
    for name, colour, values, intervals in (
        ("score", SCORE_COLOUR, scores, [row.score for row in sweep.rows]),
        ("error rate", COLOURS["wrong"], rates, [row.error_rate for row in sweep.rows]),
    ):
        points = [(px(t), py(v)) for t, v in zip(ts, values, strict=True) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(
                f'<polyline class="curve" points="{path}" fill="none" stroke="{colour}" '
                f'stroke-width="2"><title>{name}</title></polyline>'
            )
        for t, value, interval in zip(ts, values, intervals, strict=True):
            if value is None:
                continue
            if interval is not None:
                parts.append(
                    f'<line x1="{px(t):.1f}" y1="{py(interval.low):.1f}" x2="{px(t):.1f}" '
                    f'y2="{py(interval.high):.1f}" stroke="{colour}" stroke-width="1"/>'
                )
            parts.append(
                f'<circle cx="{px(t):.1f}" cy="{py(value):.1f}" r="4" fill="{colour}">'
                f"<title>{name} at t={format_number(t)}: {value:.3f}</title></circle>"
            )
    for t in ts:
        parts.append(
            f'<text x="{px(t):.1f}" y="{height - 8}" font-size="11" text-anchor="middle">'
            f"t={format_number(t)}</text>"
        )
    parts.append(
        f'<text x="{left + plot_w}" y="12" font-size="11" text-anchor="end">'
        f'<tspan fill="{SCORE_COLOUR}">● score</tspan>  <tspan fill="{COLOURS["wrong"]}">'
        "● error rate</tspan>  (bars: 95% intervals; dashed: abstain on all = 0)</text>"
    )
    for value in (low_y, 0.0, high_y):
        parts.append(
            f'<text x="{left - 6}" y="{py(value) + 4:.1f}" font-size="11" '
            f'text-anchor="end">{value:.2f}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _delta(mc: MetricComparison) -> str:
    """Baseline → now, and whether the difference is significant."""
    word, css = "not significant", "notsig"
    if mc.regressed:
        word, css = "regressed", "regressed"
    elif mc.improved:
        word, css = "improved", "improved"
    return (
        f"{mc.baseline:.3f} → {mc.now:.3f} (Δ {mc.delta:+.3f}, p={mc.p_value:.2g}) "
        f'<span class="{css}">{word}</span>'
    )


def _stated_section(result: SuiteResult) -> str:
    stated = result.stated_confidence()
    if stated is None:
        return ""
    threshold = result.info.threshold
    points = [
        (
            format_number(p.threshold) + (" (this suite’s t)" if p.threshold == threshold else ""),
            format_percent(p.coverage), format_rate(p.error_rate), format_rate(p.score),
        )
        for p in curve_shown(stated, threshold)
    ]  # fmt: skip
    head = ("abstaining below the stated confidence at t", "answered", "error rate", "score")
    return f"<p>Stated {_e(stated_line(stated)).removeprefix('stated ')}.</p>" + _table(
        head, points, " class='curve'"
    )


def _suite_section(result: SuiteResult) -> str:
    info, m, counts = result.info, result.metrics, result.counts
    names = ("score", "error rate", "accuracy", "abstention", "accuracy when answering")
    values = (m.score, m.error_rate, m.accuracy, m.abstention_rate, m.accuracy_given_attempted)
    deltas: dict[str, str] = {}
    comparison = result.comparison
    if comparison is not None and comparison.status == "compared":
        for mc in comparison.metrics:
            if mc.scope == "suite":
                deltas[METRIC_NAMES[mc.metric]] = _delta(mc)
    shown = list(zip(names, values, strict=True))
    if comparison is not None and comparison.status == "compared":
        shown += [
            (METRIC_NAMES[mc.metric], mc.now)
            for mc in comparison.metrics
            if mc.scope == "suite" and mc.metric == "answerable_abstention"
        ]
    body = [(f"<b>{name}</b>", format_rate(v), deltas.get(name, "")) for name, v in shown]
    extra = f"<p>LLM {_e(judge_line(result))}.</p>" if info.judge_when is not None else ""
    served = served_warning(result)
    if served is not None:
        extra += f"<p class='undecided'><b>Another model answered:</b> {_e(served)}.</p>"
    auto = auto_samples_line(result)
    if auto is not None:
        extra += f"<p class='samples'>{_e(auto)}.</p>"
    undecided = undecided_line(result)
    if undecided is not None:
        extra += f"<p class='undecided'>{_e(undecided)}.</p>"
    pushback = result.pushback()
    if pushback is not None:
        extra += f"<p class='pushback'>{_e(pushback.describe())}.</p>"
    extra += _stated_section(result)
    if comparison is not None and comparison.status != "compared" and comparison.message:
        extra += f"<p>Baseline: {_e(comparison.message)}</p>"
    elif comparison is not None and comparison.untestable:
        extra += "<p>Baseline: too few paired questions for any change to be significant.</p>"
    if comparison is not None and (cost := tag_cost_line(comparison)) is not None:
        extra += f"<p>{_e(cost)}.</p>"
    reasons = result.failures if result.verdict == "failed" else []
    if reasons:
        extra += "<ul class='reasons fail'>" + "".join(f"<li>{_e(r)}</li>" for r in reasons)
        extra += "</ul>"
    held = [c.describe() for c in result.floor_checks() if c.status != "failed"]
    if held:
        # Floors that held, or (an interval floor) could not tell: each with its interval.
        extra += "<ul class='reasons'>" + "".join(f"<li>{_e(text)}</li>" for text in held)
        extra += "</ul>"
    return (
        f'<section class="card suite"><h3>{_e(info.key)} {_verdict_word(result.verdict)}</h3>'
        f"<p>{_e(info.name)}: responder <code>{_e(info.responder)}</code>, "
        f"t = {format_number(info.threshold)}, {counts.total} replies: {counts.correct} correct, "
        f"{counts.wrong} wrong, {counts.abstained} abstained, {counts.error} without a reply.</p>"
        f"{_table(('metric', 'now', 'against the baseline'), body)}{extra}</section>"
    )


def _sweep_section(sweep: Sweep) -> str:
    rows = [
        (format_number(r.threshold), format_rate(r.answered_rate),
         *(format_rate(v) for v in (r.metrics.accuracy_given_attempted, r.metrics.error_rate,
                                    r.metrics.abstention_rate, r.metrics.score)))
        for r in sweep.rows
    ]  # fmt: skip
    head = ("t", "answered", "accuracy when answering", "error rate", "abstention", "score")
    problems = [f for f in sweep.findings if f.failed]
    if problems:
        items = "".join(f"<li>{_e(f.check)}: {_e(f.message)}</li>" for f in problems)
        audit = f"<ul class='fail'>{items}</ul>"
    elif not sweep.testable:
        audit = f"<p>Calibration audit: {_e(UNTESTABLE)}.</p>"
    else:
        audit = "<p class='pass'>Calibration audit: the model follows the stated t.</p>"
    return (
        f'<section class="card sweep-section"><h3>{_e(sweep.key)}: threshold sweep</h3>'
        f"<div class='pair'>{sweep_chart(sweep)}{_table(head, rows)}</div>{audit}</section>"
    )


def _change_rows(result: SuiteResult) -> list[str]:
    """A suite's questions whose grade changed since the baseline, newly wrong first, each
    with the baseline's reply and this run's when they are known (the baseline may not say)."""
    if result.comparison is None or result.comparison.status != "compared":
        return []
    questions = {record.id: record.question for record in result.questions}
    rows = []
    for change in (c for kind in _KINDS for c in result.comparison.changed(kind)):
        replies = "".join(
            f'<div class="reply"><span class="was">{label}</span>{_e(text)}</div>'
            for label, text in (("baseline", change.before_reply), ("now", change.after_reply))
            if text is not None
        )
        rows.append(
            f'<tr class="{_CHANGE_GRADE[change.kind]}"><td><span class="key">'
            f"{_e(result.info.key)}</span> {_e(change.id)}<br>{_e(questions.get(change.id, ''))}"
            f"</td><td>{_grade(_CHANGE_GRADE[change.kind], change.kind)}<br>"
            f"{_e(change.describe().split(': ', 1)[1])}</td><td>{replies}</td></tr>"
        )
    return rows


def _changes_section(results: Sequence[SuiteResult]) -> str:
    """The questions that changed since the baseline, from every suite compared with it."""
    if not any(r.comparison and r.comparison.status == "compared" for r in results):
        return ""
    rows = [row for result in results for row in _change_rows(result)]
    if not rows:
        return "<h2>Changed since the baseline</h2><p>No question changed its grade.</p>"
    return (
        f"<h2>Changed since the baseline ({len(rows)})</h2><div class='wide'>"
        "<table class='fixed' id='changes'><colgroup><col style='width:34%'>"
        "<col style='width:22%'><col></colgroup><thead><tr><th>question</th><th>change</th>"
        "<th>replies: baseline → now</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _question_rows(results: Sequence[SuiteResult]) -> str:
    out = []
    for result in results:
        for record in result.questions:
            expected = "I don't know" if record.idk else ", ".join(map(str, record.expected))
            if record.regex:
                expected = f"{expected} /{record.regex}/".strip(", ")
            replies = "".join(
                f'<div class="reply">{_grade(g)}{_e(reply if reply is not None else error)}</div>'
                for g, reply, error in zip(
                    record.grades, record.replies, record.errors, strict=True
                )
            )
            out.append(
                f'<tr class="{record.verdict}"><td><span class="key">{_e(result.info.key)}'
                f"</span> {_e(record.id)}<br>{_e(record.question)}</td><td>{_e(expected)}</td>"
                f"<td>{_grade(record.verdict)}</td><td>{replies}</td></tr>"
            )
    return "".join(out)


def _models_section(results: Sequence[SuiteResult]) -> str:
    board = leaderboard(results)
    if not board:
        return ""
    rows = [
        (_e(name), format_rate(m.score), by_score, format_rate(m.accuracy), by_accuracy,
         format_rate(m.error_rate), format_rate(m.abstention_rate))
        for name, m, by_score, by_accuracy in board
    ]  # fmt: skip
    head = ("model", "score", "rank", "accuracy", "rank", "error rate", "abstention")
    return (
        "<h2>Models side by side</h2><p>Best penalised score first; plain accuracy may rank "
        f"them differently.</p><div class='wide'>{_table(head, rows, ' id=models')}</div>"
    )


def _expiry_section(suites: Mapping[str, list[dict[str, Any]]]) -> str:
    """Facts that expire: per suite, its stale questions and those expiring soon."""
    if not suites:
        return ""
    cards = []
    for suite, groups in expiry_groups(suites).items():
        body = "".join(
            f"<p{' class=regressed' if stale else ''}>{_e(heading)}</p><ul>"
            + "".join(f"<li>{_e(text)}</li>" for text in texts)
            + "</ul>"
            for (heading, stale), texts in groups
        )
        cards.append(f"<div class='card'><h3>{_e(suite)}</h3>{body}</div>")
    return f"<h2>Facts that expire (valid_until)</h2><div class='grid'>{''.join(cards)}</div>"


def render_html(
    results: Sequence[SuiteResult],
    sweeps: Sequence[Sweep],
    title: str,
    *,
    verdict: Verdict,
    run: Mapping[str, Any],
    created: datetime,
    problems: Sequence[str] = (),
    expiry: Mapping[str, list[dict[str, Any]]] | None = None,
) -> str:
    """The whole report as one HTML document; `run` is the JSON report's run description
    (model, endpoint), `problems` what went wrong in the run itself so far, `expiry` the
    facts that expire (the JSON report's)."""
    legend = "".join(_grade(grade) for grade in COLOURS)
    total = sum(len(r.questions) for r in results)
    swept = "".join(_sweep_section(s) for s in sweeps)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{_e(title)}</title><style>{_style()}</style></head><body><main>"
        f"<h1>{_e(title)}</h1>{_header(results, verdict, run, created, problems)}"
        f"<h2>Outcomes per suite</h2><div class='card'><div class='legend'>{legend}</div>"
        f"{outcome_bars(results)}</div>{_changes_section(results)}{_models_section(results)}"
        "<h2>Suites</h2><div class='grid suites'>"
        + "".join(_suite_section(r) for r in results)
        + "</div>"
        + (f"<h2>Threshold sweeps</h2><div class='grid sweeps'>{swept}</div>" if swept else "")
        + _expiry_section(expiry or {})
        + "<h2>Questions</h2><input id='filter' type='search' hidden "
        "placeholder='Filter: suite, id, question, grade or reply'> "
        f"<span id='shown'>{total} of {total}</span><div class='wide'>"
        "<table id='questions' class='fixed'><colgroup><col style='width:32%'>"
        "<col style='width:16%'><col style='width:8.5em'><col></colgroup><thead><tr>"
        "<th>question</th><th>expected</th><th>grade</th><th>replies</th></tr></thead>"
        f"<tbody>{_question_rows(results)}</tbody></table></div>"
        f"<script>{_inlined('report.js')}</script></main></body></html>\n"
    )
