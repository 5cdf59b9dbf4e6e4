"""Scraping a Prometheus text endpoint: the Temporal SDK's own exporter on loopback.

The worker's ``/metrics`` appends the SDK's runtime metrics to ours; a scrape that fails
must not fail ours, so this answers ``None`` instead of raising.
"""

from __future__ import annotations

import httpx


async def scrape(url: str, *, timeout_seconds: float) -> bytes | None:
    """The exposition text at ``url``, or ``None`` when it does not answer 200."""
    try:
        async with httpx.AsyncClient(timeout=timeout_seconds, trust_env=False) as client:
            response = await client.get(url)
    except httpx.HTTPError:
        return None
    return response.content if response.status_code == 200 else None
