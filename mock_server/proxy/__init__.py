"""`audjust-mock proxy`: a client's real traffic to the live API (or any mock), forwarded
unchanged and checked against the contract, webhooks and result files included.

`exchanges` holds what one request led to, `recording` and `reports` write it down, `observed`
notes what the upstream chose where the reference is silent (a profile), `app` is the HTTP side
and `command` the flags. It is an entry point: it may use the web layer's helpers, and nothing
in the mock imports it.
"""
