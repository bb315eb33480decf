"""Jobs: the runner every request's work goes through, the operations it runs, their payloads
and stored results, the analysis cache, replayed recordings."""
