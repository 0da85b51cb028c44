"""Airflow DAG: shares of the analytics pipeline's resources, run in parallel
into one PostgreSQL dataset.

Each share is one task running the restload binary (installed on the
workers, or swap in KubernetesPodOperator with the same arguments). restload
keeps its state, schema versions and load records in the destination and
queues the shares' commits on the dataset's lock, so the tasks share nothing
but the destination and the token store.

Exit codes: 0 success; 1 failed (API, network or destination: Airflow
retries it, and the package a failed load left in the work dir is loaded first
by the retry); 2 bad usage or invalid pipeline file (retrying cannot help:
AirflowFailException fails the task without retries); 130 interrupted (nothing
of it was loaded: retried). The run summary (--summary-json) is the task's
return value, so it lands in XCom: per resource its status, records, pages,
retries and rows per table.
"""

import json
import os
import subprocess
import tempfile
from datetime import datetime, timedelta

from airflow.decorators import dag, task
from airflow.exceptions import AirflowFailException

RESTLOAD = os.environ.get("RESTLOAD_BIN", "restload")
PIPELINE = "/opt/restload/pipeline.yaml"
# A volume every worker mounts: the OAuth2 token store (a rotated refresh
# token is saved here before it is used) and one work dir per share.
STATE = "/mnt/restload"

SHARES = {
    "files_share": ["files", "connections", "datasets", "members"],
    "workbooks_share": ["teams", "templates", "workspaces", "workbooks"],
}


def restload_args(share, resources, summary_path):
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
        "--log-format=json",
    ]
    args += ["--resource=" + r for r in resources]
    return args


@dag(
    schedule="@hourly",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,  # one run per pipeline and work dir
    default_args={"retries": 3, "retry_delay": timedelta(minutes=2)},
)
def restload_analytics():
    @task(execution_timeout=timedelta(hours=1))
    def share(name, resources):
        with tempfile.TemporaryDirectory() as tmp:
            summary_path = os.path.join(tmp, "summary.json")
            proc = subprocess.run(restload_args(name, resources, summary_path))
            summary = None
            if os.path.exists(summary_path):
                with open(summary_path) as f:
                    summary = json.load(f)
        if proc.returncode == 2:
            raise AirflowFailException("restload: bad usage or invalid pipeline file (exit 2); see the log")
        if proc.returncode != 0:
            failed = [r["name"] for r in (summary or {}).get("resources", []) if r.get("status") != "loaded"]
            raise RuntimeError("restload exited %d; failed resources: %s" % (proc.returncode, failed))
        return summary

    for name, resources in SHARES.items():
        share.override(task_id=name)(name, resources)


restload_analytics()
