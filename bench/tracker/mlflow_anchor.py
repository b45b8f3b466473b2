#!/usr/bin/python3
# bench/tracker/mlflow_anchor.py — the anchor of the tracker benchmark: MLflow's SQLite tracking store,
# emulated with Python's sqlite3 module because the mlflow package is not installed (and nothing may be
# downloaded). It uses MLflow's table definitions (mlflow/store/tracking/dbmodels/models.py, as SQLAlchemy
# emits them for SQLite) and the statements MLflow's SqlAlchemyStore issues:
#   log_metric: one transaction per point: load the run and check it is active, insert the metric row, look up
#               and insert/update the latest_metrics row, commit (SqlAlchemyStore.log_metric -> _log_metrics).
#   log_batch:  the same for up to 1000 metrics in one transaction (MLflow's MAX_METRICS_PER_BATCH).
#   compare:    get_run per run (run row, then tags, params and latest_metrics) and get_metric_history per key,
#               the calls behind MLflow's run comparison; builds Python objects as the store does.
#   search:     search_runs with a metric and a param filter, max_results 1000, as MLflow's SQL (joins on
#               filtered sub-queries) followed by loading the runs' params/tags/latest metrics.
# SQLAlchemy, the REST layer and entity validation are left out, so these times are a lower bound for real
# MLflow. The journal mode is SQLite's default (DELETE), which SQLAlchemy keeps; --wal measures WAL instead.
#
# Usage: mlflow_anchor.py log DB POINTS [--batch] [--max-seconds S] [--wal]
#        mlflow_anchor.py build DB RUNS POINTS_PER_RUN
#        mlflow_anchor.py compare DB RUN_ID... [--repeat N]
#        mlflow_anchor.py search DB [--repeat N]
# Each prints one JSON object on stdout.
import hashlib
import json
import os
import sqlite3
import statistics
import sys
import time
import uuid

DDL = """
CREATE TABLE experiments (
	experiment_id INTEGER NOT NULL,
	name VARCHAR(256) NOT NULL,
	artifact_location VARCHAR(256),
	lifecycle_stage VARCHAR(32),
	creation_time BIGINT,
	last_update_time BIGINT,
	CONSTRAINT experiment_pk PRIMARY KEY (experiment_id),
	UNIQUE (name),
	CONSTRAINT experiments_lifecycle_stage CHECK (lifecycle_stage IN ('active', 'deleted'))
);
CREATE TABLE experiment_tags (
	key VARCHAR(250) NOT NULL,
	value VARCHAR(5000),
	experiment_id INTEGER NOT NULL,
	CONSTRAINT experiment_tag_pk PRIMARY KEY (key, experiment_id),
	FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id)
);
CREATE TABLE runs (
	run_uuid VARCHAR(32) NOT NULL,
	name VARCHAR(250),
	source_type VARCHAR(20),
	source_name VARCHAR(500),
	entry_point_name VARCHAR(50),
	user_id VARCHAR(256),
	status VARCHAR(9),
	start_time BIGINT,
	end_time BIGINT,
	deleted_time BIGINT,
	source_version VARCHAR(50),
	lifecycle_stage VARCHAR(20),
	artifact_uri VARCHAR(200),
	experiment_id INTEGER,
	CONSTRAINT run_pk PRIMARY KEY (run_uuid),
	CONSTRAINT source_type CHECK (source_type IN ('NOTEBOOK', 'JOB', 'LOCAL', 'UNKNOWN', 'PROJECT')),
	CONSTRAINT status CHECK (status IN ('SCHEDULED', 'FAILED', 'FINISHED', 'RUNNING', 'KILLED')),
	CONSTRAINT runs_lifecycle_stage CHECK (lifecycle_stage IN ('active', 'deleted')),
	FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id)
);
CREATE TABLE tags (
	key VARCHAR(250) NOT NULL,
	value VARCHAR(5000),
	run_uuid VARCHAR(32) NOT NULL,
	CONSTRAINT tag_pk PRIMARY KEY (key, run_uuid),
	FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid)
);
CREATE INDEX index_tags_run_uuid ON tags (run_uuid);
CREATE TABLE metrics (
	key VARCHAR(250) NOT NULL,
	value FLOAT NOT NULL,
	timestamp BIGINT NOT NULL,
	step BIGINT DEFAULT '0' NOT NULL,
	is_nan BOOLEAN DEFAULT '0' NOT NULL,
	run_uuid VARCHAR(32) NOT NULL,
	CONSTRAINT metric_pk PRIMARY KEY (key, timestamp, step, run_uuid, value, is_nan),
	FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid),
	CHECK (is_nan IN (0, 1))
);
CREATE INDEX index_metrics_run_uuid ON metrics (run_uuid);
CREATE TABLE latest_metrics (
	key VARCHAR(250) NOT NULL,
	value FLOAT NOT NULL,
	timestamp BIGINT,
	step BIGINT NOT NULL,
	is_nan BOOLEAN NOT NULL,
	run_uuid VARCHAR(32) NOT NULL,
	CONSTRAINT latest_metric_pk PRIMARY KEY (key, run_uuid),
	FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid),
	CHECK (is_nan IN (0, 1))
);
CREATE INDEX index_latest_metrics_run_uuid ON latest_metrics (run_uuid);
CREATE TABLE params (
	key VARCHAR(250) NOT NULL,
	value VARCHAR(8000) NOT NULL,
	run_uuid VARCHAR(32) NOT NULL,
	CONSTRAINT param_pk PRIMARY KEY (key, run_uuid),
	FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid)
);
CREATE INDEX index_params_run_uuid ON params (run_uuid);
"""

KEYS = ["train/loss", "train/lr", "evaluate/auc", "evaluate/accuracy"]


def now_ms():
    return int(time.time() * 1000)


def connect(path, wal=False):
    conn = sqlite3.connect(path, isolation_level=None)
    if wal:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def create(path, wal=False):
    for suffix in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    conn = connect(path, wal)
    conn.executescript(DDL)
    conn.execute("INSERT INTO experiments VALUES (0, 'Default', './mlruns/0', 'active', ?, ?)", (now_ms(), now_ms()))
    return conn


def create_run(conn, run_id, experiment_id=0, start=None):
    conn.execute("BEGIN")
    conn.execute(
        "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, "
        "end_time, deleted_time, source_version, lifecycle_stage, artifact_uri, experiment_id) "
        "VALUES (?, ?, 'LOCAL', '', '', 'bench', 'RUNNING', ?, NULL, NULL, '', 'active', ?, ?)",
        (run_id, "run-" + run_id[:8], start or now_ms(), "./mlruns/0/" + run_id + "/artifacts", experiment_id))
    conn.execute("COMMIT")


def get_active_run(conn, run_id):
    row = conn.execute("SELECT run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, "
                       "end_time, deleted_time, source_version, lifecycle_stage, artifact_uri, experiment_id "
                       "FROM runs WHERE run_uuid = ?", (run_id,)).fetchone()
    if row is None or row[11] != "active":
        raise RuntimeError("run not active")
    return row


def log_metrics(conn, run_id, metrics):
    """SqlAlchemyStore._log_metrics: one transaction for the given (key, value, timestamp, step) list."""
    conn.execute("BEGIN")
    get_active_run(conn, run_id)
    rows = []
    seen = set()
    for key, value, ts, step in metrics:
        if (key, value, ts, step) in seen:
            continue
        seen.add((key, value, ts, step))
        rows.append((key, value, ts, step, 0, run_id))
    conn.executemany("INSERT INTO metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?, ?, ?, ?, ?, ?)", rows)
    # _update_latest_metrics_if_necessary
    keys = sorted({r[0] for r in rows})
    marks = ",".join("?" * len(keys))
    present = [r[0] for r in conn.execute(
        "SELECT key FROM latest_metrics WHERE run_uuid = ? AND key IN (%s)" % marks, [run_id] + keys)]
    latest = {}
    if present:
        pm = ",".join("?" * len(present))
        for r in conn.execute("SELECT key, value, timestamp, step, is_nan FROM latest_metrics WHERE run_uuid = ? "
                              "AND key IN (%s) ORDER BY run_uuid, key" % pm, [run_id] + present):
            latest[r[0]] = r
    new_latest = {}
    for key, value, ts, step, is_nan, _ in rows:
        old = latest.get(key) or new_latest.get(key)
        if old is None or (step, ts, value) > (old[3], old[2], old[1]):
            if key in latest:
                conn.execute("UPDATE latest_metrics SET value = ?, timestamp = ?, step = ?, is_nan = ? "
                             "WHERE key = ? AND run_uuid = ?", (value, ts, step, is_nan, key, run_id))
                latest[key] = (key, value, ts, step, is_nan)
            else:
                new_latest[key] = (key, value, ts, step, is_nan)
    conn.executemany("INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?, ?, ?, ?, ?, ?)",
                     [v + (run_id,) for v in new_latest.values()])
    conn.execute("COMMIT")


def cmd_log(args):
    path, points = args[0], int(args[1])
    batch = "--batch" in args
    wal = "--wal" in args
    max_seconds = float(args[args.index("--max-seconds") + 1]) if "--max-seconds" in args else 1e9
    conn = create(path, wal)
    run_id = uuid.uuid4().hex
    create_run(conn, run_id)
    start = time.perf_counter()
    done = 0
    if batch:
        step = 0
        while done < points:
            n = min(1000, points - done)
            log_metrics(conn, run_id, [("train/loss", 1.0 / (step + i + 1), now_ms(), step + i) for i in range(n)])
            done += n
            step += n
    else:
        while done < points:
            log_metrics(conn, run_id, [("train/loss", 1.0 / (done + 1), now_ms(), done)])
            done += 1
            if done % 500 == 0 and time.perf_counter() - start > max_seconds:
                break
    seconds = time.perf_counter() - start
    stored = conn.execute("SELECT count(*) FROM metrics").fetchone()[0]
    print(json.dumps({"mode": "batch" if batch else "per_call", "requested": points, "logged": done,
                      "stored": stored, "seconds": seconds, "extrapolated_seconds": seconds * points / done}))


def run_id_of(i):
    return hashlib.sha256(b"run-%d" % i).hexdigest()[:32]


def cmd_build(args):
    """The 10k runs / 1M points fixture, with the same data tracker_bench writes into mhr's store."""
    path, runs, per_run = args[0], int(args[1]), int(args[2])
    conn = create(path)
    steps = per_run // len(KEYS)
    conn.execute("BEGIN")
    t0 = 1735725600000
    for i in range(runs):
        rid = run_id_of(i)
        conn.execute(
            "INSERT INTO runs VALUES (?, ?, 'LOCAL', 'bench.mhr', '', 'bench', 'FINISHED', ?, ?, NULL, '', 'active', '', 0)",
            (rid, "run-%d" % i, t0 + i * 1000, t0 + i * 1000 + 60000))
        group = i // 2  # pairs of runs share everything (semantic hash, metrics)
        conn.executemany("INSERT INTO params VALUES (?, ?, ?)", [(k, v, rid) for k, v in bench_params(group)])
        conn.executemany("INSERT INTO tags VALUES (?, ?, ?)", [(k, v, rid) for k, v in bench_tags(group, i)])
        rows = []
        for k, key in enumerate(KEYS):
            for s in range(steps):
                rows.append((key, metric_value(group, k, s), t0 + i * 1000 + s, s, 0, rid))
        conn.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?)", rows)
        conn.executemany("INSERT INTO latest_metrics VALUES (?, ?, ?, ?, ?, ?)",
                         [(key, metric_value(group, k, steps - 1), t0 + i * 1000 + steps - 1, steps - 1, 0, rid)
                          for k, key in enumerate(KEYS)])
    conn.execute("COMMIT")
    print(json.dumps({"runs": runs, "points": conn.execute("SELECT count(*) FROM metrics").fetchone()[0]}))


def bench_params(group):
    lr = [0.1, 0.03, 0.01, 0.003, 0.001, 0.0003][group % 6]
    return [("lr", repr(lr)), ("batch", str([8, 16, 32, 64][group % 4])), ("arch", ["resnet18", "resnet50", "densenet121"][group % 3]),
            ("epochs", str(10 + group % 5)), ("weight_decay", "0.0001"), ("optimizer", "sgd"), ("momentum", "0.9"),
            ("resolution", "512x416"), ("seed", str(group % 97)), ("pretrained", "true" if group % 2 else "false")]


def bench_tags(group, i):
    return [("sweep", "sweep-%d" % (group // 50)), ("semantic_hash", "sem-%d" % group), ("host", "node%d" % (i % 8)),
            ("dataset", "synthetic-mammo"), ("note", "bench")]


def metric_value(group, k, s):
    # Deterministic and identical to tracker_bench.cpp's metricValue().
    base = ((group * 7919 + k * 104729) % 1000) / 1000.0
    return base + 1.0 / (s + 1 + k)


def load_run(conn, run_id):
    row = conn.execute("SELECT * FROM runs WHERE run_uuid = ?", (run_id,)).fetchone()
    tags = conn.execute("SELECT key, value FROM tags WHERE run_uuid = ?", (run_id,)).fetchall()
    params = conn.execute("SELECT key, value FROM params WHERE run_uuid = ?", (run_id,)).fetchall()
    latest = conn.execute("SELECT key, value, timestamp, step, is_nan FROM latest_metrics WHERE run_uuid = ?",
                          (run_id,)).fetchall()
    return {"info": row, "tags": dict(tags), "params": dict(params),
            "metrics": {k: (float("nan") if nan else v, ts, step) for k, v, ts, step, nan in latest}}


def cmd_compare(args):
    path = args[0]
    rest = args[1:]
    repeat = 5
    if "--repeat" in rest:
        at = rest.index("--repeat")
        repeat = int(rest[at + 1])
        del rest[at:at + 2]
    ids = rest
    conn = connect(path)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        runs = [load_run(conn, rid) for rid in ids]
        histories = []
        for rid, run in zip(ids, runs):
            h = {}
            for key in run["metrics"]:
                h[key] = [(step, float("nan") if nan else value, ts) for value, ts, step, nan in conn.execute(
                    "SELECT value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ? AND key = ?", (rid, key))]
            histories.append(h)
        differing = {k for r in runs for k in r["params"] if len({x["params"].get(k) for x in runs}) > 1}
        agree = all(histories[0] == h for h in histories[1:])
        times.append(time.perf_counter() - start)
    print(json.dumps({"runs": len(ids), "median_seconds": statistics.median(times), "differing_params": len(differing),
                      "histories_agree": agree}))


def cmd_search(args):
    path = args[0]
    repeat = int(args[args.index("--repeat") + 1]) if "--repeat" in args else 5
    conn = connect(path)
    times = []
    found = 0
    for _ in range(repeat):
        start = time.perf_counter()
        rows = conn.execute(
            "SELECT runs.run_uuid FROM runs "
            "JOIN (SELECT latest_metrics.run_uuid AS run_uuid FROM latest_metrics "
            "      WHERE latest_metrics.key = ? AND latest_metrics.value > ?) AS anon_1 ON runs.run_uuid = anon_1.run_uuid "
            "JOIN (SELECT params.run_uuid AS run_uuid FROM params WHERE params.key = ? AND params.value = ?) AS anon_2 "
            "  ON runs.run_uuid = anon_2.run_uuid "
            "WHERE runs.experiment_id IN (?) AND runs.lifecycle_stage IN ('active') "
            "ORDER BY runs.start_time DESC, runs.run_uuid LIMIT 1000",
            ("evaluate/auc", 0.9, "arch", "resnet18", 0)).fetchall()
        loaded = [load_run(conn, r[0]) for r in rows]
        found = len(loaded)
        times.append(time.perf_counter() - start)
    print(json.dumps({"found": found, "median_seconds": statistics.median(times)}))


def main():
    if len(sys.argv) < 3:
        print(__doc__ or "usage: mlflow_anchor.py log|build|compare|search DB ...", file=sys.stderr)
        return 2
    cmd, args = sys.argv[1], sys.argv[2:]
    {"log": cmd_log, "build": cmd_build, "compare": cmd_compare, "search": cmd_search}[cmd](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
