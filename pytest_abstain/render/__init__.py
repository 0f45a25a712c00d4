"""The outputs of a run, side by side, each reading the same suite results: `terminal`
(summary lines), `json_report`, `junit` (properties and gate-case messages), `markdown` and
`html`. None imports another; what several say alike lives in `wording`."""
