from __future__ import annotations

# Fixture modules, one per concern; each is owned by the tests that need it.
pytest_plugins = [
    "tests.support.gitrepo",
    "tests.support.containers",
    "tests.support.github_fake",
]
