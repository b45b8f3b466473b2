# bench/tracker/mlflow_real.py — the anchor of the tracker benchmark with the real MLflow package (3.18,
# installed into the project's venv by `scripts/venv.sh --bench`): its Python client (mlflow.MlflowClient) over
# its SQLAlchemy tracking store on a `sqlite:///` file, the setup `mlflow.set_tracking_uri("sqlite:///...")`
# gives a user. Same command line and JSON as mlflow_anchor.py (the emulation used where MLflow is absent):
#   log:     MlflowClient.log_metric per point, or log_batch with 1000 Metric objects per call (MLflow's limit).
#   build:   the 10k runs / 1M points fixture. The store and its schema are made by MLflow itself (its alembic
#            migrations run when the store opens); the rows are then bulk-inserted with sqlite3 into MLflow's
#            own tables, because building 1M points through the API would take longer than the whole bench.
#            Building is not timed; everything timed goes through the client.
#   compare: get_run per run and get_metric_history per key, the calls behind MLflow's run comparison.
#   search:  search_runs with a metric and a param filter, max_results 1000.
#
# Usage: mlflow_real.py log DB POINTS [--batch] [--max-seconds S]
#        mlflow_real.py build DB RUNS POINTS_PER_RUN
#        mlflow_real.py compare DB RUN_ID... [--repeat N]
#        mlflow_real.py search DB [--repeat N]
# Each prints one JSON object on stdout (MLflow's own log lines go to stderr).
import json
import logging
import os
import sqlite3
import statistics
import sys
import time

import mlflow
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mlflow_anchor import KEYS, bench_params, bench_tags, metric_value, run_id_of  # noqa: E402 (same fixture)

logging.getLogger("mlflow").setLevel(logging.WARNING)
logging.getLogger("alembic").setLevel(logging.WARNING)


def client_for(path, fresh):
    if fresh:
        for suffix in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    uri = "sqlite:///" + os.path.abspath(path)
    mlflow.set_tracking_uri(uri)
    return MlflowClient(tracking_uri=uri)


def now_ms():
    return int(time.time() * 1000)


def cmd_log(args):
    path, points = args[0], int(args[1])
    batch = "--batch" in args
    max_seconds = float(args[args.index("--max-seconds") + 1]) if "--max-seconds" in args else 1e9
    client = client_for(path, True)
    run_id = client.create_run("0").info.run_id
    start = time.perf_counter()
    done = 0
    if batch:
        while done < points:
            n = min(1000, points - done)
            ts = now_ms()
            client.log_batch(run_id, metrics=[Metric("train/loss", 1.0 / (done + i + 1), ts, done + i)
                                              for i in range(n)])
            done += n
    else:
        while done < points:
            client.log_metric(run_id, "train/loss", 1.0 / (done + 1), timestamp=now_ms(), step=done)
            done += 1
            if done % 500 == 0 and time.perf_counter() - start > max_seconds:
                break
    seconds = time.perf_counter() - start
    stored = len(client.get_metric_history(run_id, "train/loss"))
    print(json.dumps({"mode": "batch" if batch else "per_call", "requested": points, "logged": done,
                      "stored": stored, "seconds": seconds, "extrapolated_seconds": seconds * points / done,
                      "mlflow": mlflow.__version__}))


def cmd_build(args):
    path, runs, per_run = args[0], int(args[1]), int(args[2])
    client = client_for(path, True)
    client.search_experiments()  # opening the store runs MLflow's migrations: its schema, its Default experiment
    steps = per_run // len(KEYS)
    t0 = 1735725600000
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    for i in range(runs):
        rid = run_id_of(i)
        conn.execute(
            "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, "
            "start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id) "
            "VALUES (?, ?, 'LOCAL', 'bench.mhr', '', 'bench', 'FINISHED', ?, ?, '', 'active', '', 0)",
            (rid, "run-%d" % i, t0 + i * 1000, t0 + i * 1000 + 60000))
        group = i // 2
        conn.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)",
                         [(k, v, rid) for k, v in bench_params(group)])
        conn.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)",
                         [(k, v, rid) for k, v in bench_tags(group, i)])
        rows = []
        for k, key in enumerate(KEYS):
            for s in range(steps):
                rows.append((key, metric_value(group, k, s), t0 + i * 1000 + s, s, 0, rid))
        conn.executemany("INSERT INTO metrics (key, value, timestamp, step, is_nan, run_uuid) "
                         "VALUES (?, ?, ?, ?, ?, ?)", rows)
        conn.executemany("INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) "
                         "VALUES (?, ?, ?, ?, ?, ?)",
                         [(key, metric_value(group, k, steps - 1), t0 + i * 1000 + steps - 1, steps - 1, 0, rid)
                          for k, key in enumerate(KEYS)])
    conn.execute("COMMIT")
    points = conn.execute("SELECT count(*) FROM metrics").fetchone()[0]
    # What the client sees: the fixture must read back through MLflow as written.
    run = client.get_run(run_id_of(0))
    assert run.data.params["arch"] == bench_params(0)[2][1], run.data.params
    print(json.dumps({"runs": runs, "points": points, "mlflow": mlflow.__version__}))


def repeat_arg(rest, default=5):
    if "--repeat" in rest:
        at = rest.index("--repeat")
        n = int(rest[at + 1])
        del rest[at:at + 2]
        return n
    return default


def cmd_compare(args):
    path, rest = args[0], list(args[1:])
    repeat = repeat_arg(rest)
    ids = rest
    client = client_for(path, False)
    times = []
    differing, agree = set(), False
    for _ in range(repeat):
        start = time.perf_counter()
        runs = [client.get_run(rid) for rid in ids]
        histories = []
        for run in runs:
            histories.append({key: [(m.step, m.value, m.timestamp)
                                    for m in client.get_metric_history(run.info.run_id, key)]
                              for key in run.data.metrics})
        differing = {k for r in runs for k in r.data.params
                     if len({x.data.params.get(k) for x in runs}) > 1}
        agree = all(histories[0] == h for h in histories[1:])
        times.append(time.perf_counter() - start)
    print(json.dumps({"runs": len(ids), "median_seconds": statistics.median(times),
                      "differing_params": len(differing), "histories_agree": agree}))


def cmd_search(args):
    path, rest = args[0], list(args[1:])
    repeat = repeat_arg(rest)
    client = client_for(path, False)
    times = []
    found = 0
    for _ in range(repeat):
        start = time.perf_counter()
        runs = client.search_runs(["0"], filter_string="metrics.`evaluate/auc` > 0.9 and params.arch = 'resnet18'",
                                  max_results=1000)
        found = len(runs)
        times.append(time.perf_counter() - start)
    print(json.dumps({"found": found, "median_seconds": statistics.median(times)}))


def main():
    if len(sys.argv) < 3:
        print("usage: mlflow_real.py log|build|compare|search DB ...", file=sys.stderr)
        return 2
    cmd, args = sys.argv[1], sys.argv[2:]
    {"log": cmd_log, "build": cmd_build, "compare": cmd_compare, "search": cmd_search}[cmd](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
