"""Sync-by-default wrappers over the SDK's async core, with an `.aio` form for async code."""
