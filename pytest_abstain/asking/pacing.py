"""Client-side rate budgets: at most `rpm` requests and `tpm` tokens in any 60 s (pure).

An account limit the team knows (`--abstain-rpm`, `--abstain-tpm`) is cheaper kept than
discovered: a 429 costs a round trip and, without a Retry-After, a guess at how long to wait.
The pacer keeps a log of what went out in the last window and lets a request go only when it
fits. A sliding log, unlike a token bucket that starts full, never puts more than the budget
into any one window, whichever way the endpoint aligns its windows (fixed, as LiteLLM's, or
sliding).

Tokens are known only once the reply reports its usage: a request reserves an estimate
(the prompt's characters / 4, plus the mean completion seen so far) and the reply corrects it.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable
from dataclasses import dataclass

#: The window of a per-minute limit, plus a margin for the request's trip to the endpoint:
#: two requests sent 60.0 s apart may arrive 59.9 s apart.
WINDOW = 61.0
#: The completion a request is assumed to take before any reply has said.
FIRST_COMPLETION_GUESS = 64


@dataclass
class Sent:
    """One request in the log: when it went out and the tokens it counts for."""

    at: float
    tokens: int


def estimate_prompt_tokens(chars: int) -> int:
    """About four characters a token (English, OpenAI's tokenisers), plus message framing."""
    return chars // 4 + 8


class Pacer:
    """Lets a request go when the last `window` seconds leave room for it in both budgets."""

    def __init__(
        self,
        rpm: int | None,
        tpm: int | None,
        *,
        window: float = WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rpm = rpm
        self.tpm = tpm
        self.window = window
        self._clock = clock
        self._log: collections.deque[Sent] = collections.deque()
        self._completions = 0
        self._completion_tokens = 0
        #: How many requests had to wait for room, and for how long in all (seconds).
        self.waits = 0
        self.waited = 0.0

    @property
    def active(self) -> bool:
        return self.rpm is not None or self.tpm is not None

    def estimate(self, prompt_chars: int) -> int:
        """The tokens a request is assumed to take until its reply says."""
        done = self._completions
        completion = self._completion_tokens // done if done else FIRST_COMPLETION_GUESS
        return estimate_prompt_tokens(prompt_chars) + completion

    def wait_for(self, tokens: int) -> float:
        """Seconds until a request of `tokens` fits (0: it fits now)."""
        now = self._clock()
        while self._log and self._log[0].at <= now - self.window:
            self._log.popleft()
        waits = [0.0]
        if self.rpm is not None and len(self._log) >= self.rpm:
            # The oldest request that must leave the window before one more fits.
            waits.append(self._log[len(self._log) - self.rpm].at + self.window - now)
        if self.tpm is not None and self._log:
            # A request bigger than the whole budget goes alone, or it would never go.
            excess = sum(sent.tokens for sent in self._log) + min(tokens, self.tpm) - self.tpm
            for sent in self._log:
                if excess <= 0:
                    break
                excess -= sent.tokens
                waits.append(sent.at + self.window - now)
        return max(waits)

    def take(self, tokens: int) -> Sent:
        """Log a request going out now; `settle` corrects its tokens when the reply says."""
        sent = Sent(self._clock(), tokens)
        self._log.append(sent)
        return sent

    async def admit(self, tokens: int) -> Sent:
        """Wait until a request of `tokens` fits, then log it as sent."""
        # One event loop runs every request: nothing runs between the check and the take.
        first = True
        while (wait := self.wait_for(tokens)) > 0:
            if first:
                self.waits += 1
                first = False
            self.waited += wait
            await asyncio.sleep(wait)
        return self.take(tokens)

    def settle(self, sent: Sent, prompt_tokens: int | None, completion_tokens: int | None) -> None:
        """The reply's own count replaces the estimate (kept when it reports none)."""
        if completion_tokens is not None:
            self._completions += 1
            self._completion_tokens += completion_tokens
        if prompt_tokens is not None and completion_tokens is not None:
            sent.tokens = prompt_tokens + completion_tokens
