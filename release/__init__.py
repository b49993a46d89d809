# Before anything of ours imports dataclasses: it is imported without `inspect`.
from release.core import fast_dataclasses  # noqa: F401
