"""Session-wide real servers: one Temporal dev server and one PostgreSQL for the whole run.

Set TEMPORAL_ADDRESS or DATABASE_URL to use servers you already run instead.
"""

pytest_plugins = [
    "tests.fixtures.servers",
    "tests.fixtures.emulators",
    "tests.fixtures.runtime",
]
