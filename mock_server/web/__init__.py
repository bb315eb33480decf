"""The HTTP layer: the app factory, the API handlers, the middlewares, fault injection and the
control routes. Nothing outside this package and the entry points imports aiohttp's web layer."""
