"""GitHub Actions' step outputs and job summary for a publish run."""

from __future__ import annotations

import os

from release.apps.publish.context import Context
from release.apps.publish.execute import Outcome
from release.errors import DojoError
from release.shell.files import append_text


def render_outputs(outcome: Outcome, delimiter: str) -> str:
    """`GITHUB_OUTPUT` lines: image, digest, tags (one full reference a line), release_url."""
    ref = outcome.plan.context.image_reference
    tags = "\n".join(f"{ref}:{p.tag}" for p in outcome.pushes)
    url = outcome.release.url if outcome.release else ""
    return (
        f"image={ref}\n"
        f"digest={outcome.digest}\n"
        f"tags<<{delimiter}\n{tags}\n{delimiter}\n"
        f"release_url={url}\n"
    )


def render_summary(outcome: Outcome) -> str:
    """A Markdown report for `GITHUB_STEP_SUMMARY`."""
    plan = outcome.plan
    ctx = plan.context
    lines = [
        f"### Published `{ctx.image_reference}`",
        "",
        f"Image `{plan.archive.image_id}` from commit `{ctx.sha}`.",
        "",
        "| Tag | Digest | Status |",
        "| --- | --- | --- |",
    ]
    lines += [f"| `{p.tag}` | `{p.digest}` | {p.status} |" for p in outcome.pushes]
    if plan.latest_reason:
        lines += ["", f"`latest`: {plan.latest_reason}."]
    if outcome.release is not None and plan.release is not None:
        lines += [
            "",
            f"GitHub Release [{plan.release.tag}]({outcome.release.url}): "
            f"{outcome.release.status.value}.",
        ]
    return "\n".join(lines) + "\n"


def write_reports(ctx: Context, outcome: Outcome) -> None:
    """GitHub Actions' step outputs and job summary (appended, as GitHub expects).

    Everything is published by now: a file that cannot be written is one error that says so.
    """
    published = f"published {ctx.image_reference}@{outcome.digest}"
    try:
        if ctx.output_file is not None:
            delimiter = f"EOF_{os.urandom(16).hex()}"  # what uuid4 is made of
            append_text(ctx.output_file, render_outputs(outcome, delimiter), label="GITHUB_OUTPUT")
        if ctx.summary_file is not None:
            append_text(ctx.summary_file, render_summary(outcome), label="GITHUB_STEP_SUMMARY")
    except DojoError as exc:
        raise DojoError(
            f"{published}, but {exc}: later steps will not see the outputs; re-running publish "
            "changes nothing in the registry and writes them again"
        ) from None
