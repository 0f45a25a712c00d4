"""Getting the replies: who answers (the team's callable or an OpenAI-compatible endpoint),
asking concurrently with retries, and the response cache."""
