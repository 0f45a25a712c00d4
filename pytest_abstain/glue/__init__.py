"""The pytest glue: the only modules that import pytest. They read options, collect suites
and tests into items, run the pipeline for each item, and turn records into reports, gate
cases and the exit status."""
