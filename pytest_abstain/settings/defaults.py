"""The built-in value of each run setting nobody gave, and the limits on the ones given."""

from __future__ import annotations

DEFAULT_THRESHOLD = 0.75
DEFAULT_SAMPLES = 1
#: Between promptfoo's 4 and DeepEval's 20: 1,000 one-second replies take about a minute,
#: and a new account's rate limit is not hit on the first burst.
DEFAULT_CONCURRENCY = 16
DEFAULT_TIMEOUT = 60.0
#: Five attempts: a request that meets a fault one time in five still gets through 99.97%
#: of the time, and a dead endpoint costs about 15 s of back-off, not minutes.
DEFAULT_RETRIES = 4
DEFAULT_BACKOFF = 1.0
#: Seconds one request may wait out rate limits: ten per-minute windows. A rate-limited run
#: is slower, never lossy, unless the account is out of budget for longer than this.
DEFAULT_RATE_LIMIT_WAIT = 600.0
MAX_CONCURRENCY = 1000
MAX_RETRIES = 20
DEFAULT_TOLERANCE = 0.0
DEFAULT_SIGNIFICANCE = 0.05
#: A tag with fewer questions is reported but not gated: too few to test on its own.
DEFAULT_TAG_MIN_QUESTIONS = 20
