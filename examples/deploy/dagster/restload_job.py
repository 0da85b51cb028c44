"""Dagster job: shares of the analytics pipeline's resources, run as parallel
ops into one PostgreSQL dataset.

restload keeps state, schema versions and load records in the destination and
queues the shares' commits on the dataset's lock; the ops share nothing but
the destination and the token-store volume.

Exit codes: 0 success (the summary becomes the op's metadata); 1 failed (API,
network or destination: RetryRequested, and the package a failed load left
in the work dir is loaded first by the retry); 2 bad usage or invalid
pipeline file (Failure, no retry); 130 interrupted (nothing of it was loaded:
retried).
"""

import json
import os
import subprocess
import tempfile

from dagster import (
    Definitions,
    Failure,
    MetadataValue,
    OpExecutionContext,
    RetryRequested,
    ScheduleDefinition,
    job,
    op,
)

RESTLOAD = os.environ.get("RESTLOAD_BIN", "restload")
PIPELINE = "/opt/restload/pipeline.yaml"
STATE = "/mnt/restload"  # token store and work dirs, on a volume every run mounts


def run_share(context: OpExecutionContext, share: str, resources: list) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        summary_path = os.path.join(tmp, "summary.json")
        args = [
            RESTLOAD,
            "run",
            PIPELINE,
            "--dest=" + os.environ["RESTLOAD_DEST"],
            "--work-dir=" + os.path.join(STATE, "work", share),
            "--token-store=" + os.path.join(STATE, "tokens"),
            "--lock-timeout=15m",
            "--progress=none",
            "--summary-json=" + summary_path,
        ] + ["--resource=" + r for r in resources]
        proc = subprocess.run(args)
        summary = {}
        if os.path.exists(summary_path):
            with open(summary_path) as f:
                summary = json.load(f)
    if proc.returncode == 2:
        raise Failure(description="restload: bad usage or invalid pipeline file (exit 2)")
    if proc.returncode != 0:
        raise RetryRequested(max_retries=3, seconds_to_wait=120)
    context.add_output_metadata(
        {
            "load_id": summary.get("load_id", ""),
            "schema_version": summary.get("schema_version", 0),
            "records": sum(r.get("records", 0) for r in summary.get("resources", [])),
            "summary": MetadataValue.json(summary),
        }
    )
    return summary


@op
def files_share(context: OpExecutionContext) -> dict:
    return run_share(context, "files-share", ["files", "connections", "datasets", "members"])


@op
def workbooks_share(context: OpExecutionContext) -> dict:
    return run_share(context, "workbooks-share", ["teams", "templates", "workspaces", "workbooks"])


@job(tags={"dagster/max_runtime": 3600})
def restload_analytics():
    files_share()
    workbooks_share()


defs = Definitions(
    jobs=[restload_analytics],
    schedules=[ScheduleDefinition(job=restload_analytics, cron_schedule="0 * * * *")],
)
