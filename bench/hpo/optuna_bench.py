"""Optuna 3.1 side of `pnpm bench hpo` (run with Debian's /usr/bin/python3, python3-optuna).

Subcommands print one JSON object on stdout:
  overhead  --sizes 100,500,1500 --window 20 --storage memory|sqlite --mode real|prefill --seed S
  quality   --fn branin --seeds 0,1,... --trials 200 --checkpoints 50,100,200 [--multivariate]
  values    --points points.json                        (functions at fixed parameters: {fn: [params, ...]})
  create    --path study.db --n 1500 --seed S     (a 1,500-trial SQLite study, filled with add_trials)
  reopen    --path study.db                        (load_study + ask, timed inside this process)
"""
import argparse
import json
import math
import os
import sys
import time
import warnings

t_import = time.perf_counter()
import optuna  # noqa: E402
from optuna.distributions import FloatDistribution  # noqa: E402

IMPORT_MS = (time.perf_counter() - t_import) * 1000
optuna.logging.set_verbosity(optuna.logging.ERROR)
warnings.filterwarnings("ignore")

# ---------------------------------------------------------------------------- test functions


def branin(t):
    x1 = t.suggest_float("x1", -5, 10)
    x2 = t.suggest_float("x2", 0, 15)
    b = 5.1 / (4 * math.pi**2)
    c = 5 / math.pi
    tt = 1 / (8 * math.pi)
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - tt) * math.cos(x1) + 10


H_ALPHA = [1.0, 1.2, 3.0, 3.2]
H_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
H_P = [
    [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
    [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
    [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
    [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
]


def hartmann6(t):
    x = [t.suggest_float(f"x{i}", 0, 1) for i in range(6)]
    s = 0.0
    for i in range(4):
        s += H_ALPHA[i] * math.exp(-sum(H_A[i][j] * (x[j] - H_P[i][j]) ** 2 for j in range(6)))
    return -s


def rosenbrock5(t):
    x = [t.suggest_float(f"x{i}", -5, 10) for i in range(5)]
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(4))


MIX_T = {"a": (-3, 3, -3, 3), "b": (2, 2, -2, -2), "c": (1, -2, 0.5, 3), "d": (-1, -1, 4, 0)}
MIX_OFFSET = {"a": 1, "b": 0.5, "c": 0, "d": 0.25}


def mixed(t):
    x = [t.suggest_float(f"x{i}", -5, 5) for i in range(4)]
    c = t.suggest_categorical("c", ["a", "b", "c", "d"])
    return sum((x[i] - MIX_T[c][i]) ** 2 for i in range(4)) + MIX_OFFSET[c]


FUNCTIONS = {"branin": branin, "hartmann6": hartmann6, "rosenbrock5": rosenbrock5, "mixed": mixed}
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from optuna_functions import HELDOUT  # noqa: E402

FUNCTIONS.update(HELDOUT)

# ---------------------------------------------------------------------------- commands


def trivial(t):
    return sum(t.suggest_float(f"p{i}", -5, 5) ** 2 for i in range(5))


def storage_for(kind, tag):
    if kind == "memory":
        return None
    path = f"/tmp/optuna-bench-{os.getpid()}-{tag}.db"
    if os.path.exists(path):
        os.remove(path)
    return f"sqlite:///{path}"


def overhead(a):
    sizes = [int(s) for s in a.sizes.split(",")]
    out = {}
    if a.mode == "real":
        study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=a.seed), storage=storage_for(a.storage, "real"))
        stamps = []
        t0 = time.perf_counter()
        for _ in range(max(sizes)):
            tr = study.ask()
            study.tell(tr, trivial(tr))
            stamps.append(time.perf_counter() - t0)
        for n in sizes:
            w = min(a.window, n - 1)
            out[str(n)] = (stamps[n - 1] - stamps[n - 1 - w]) / w * 1000
        out["total_s"] = stamps[-1]
    else:
        # Prefill: the study gets n - window finished trials at once (add_trials), then `window`
        # trials are asked and told and timed: the cost of a trial once the study has n trials.
        rng = __import__("random").Random(a.seed)
        dists = {f"p{i}": FloatDistribution(-5, 5) for i in range(5)}
        for n in sizes:
            study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=a.seed), storage=storage_for(a.storage, f"pre{n}"))
            trials = []
            for _ in range(n - a.window):
                params = {k: rng.uniform(-5, 5) for k in dists}
                trials.append(optuna.trial.create_trial(params=params, distributions=dists, value=sum(v * v for v in params.values())))
            study.add_trials(trials)
            t0 = time.perf_counter()
            for _ in range(a.window):
                tr = study.ask()
                study.tell(tr, trivial(tr))
            out[str(n)] = (time.perf_counter() - t0) / a.window * 1000
    print(json.dumps({"ms_per_trial": out, "mode": a.mode, "storage": a.storage, "import_ms": IMPORT_MS}))


def quality(a):
    fn = FUNCTIONS[a.fn]
    checkpoints = [int(c) for c in a.checkpoints.split(",")]
    res = {}
    t0 = time.perf_counter()
    for seed in [int(s) for s in a.seeds.split(",")]:
        study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed, multivariate=a.multivariate))
        best = math.inf
        at = {}
        for i in range(1, a.trials + 1):
            tr = study.ask()
            v = fn(tr)
            study.tell(tr, v)
            best = min(best, v)
            if i in checkpoints:
                at[str(i)] = best
        res[str(seed)] = at
    print(json.dumps({"fn": a.fn, "best": res, "seconds": time.perf_counter() - t0}))


def values(a):
    """Each function's value at given parameter sets ({fn: [params, ...]} in a JSON file), for checking the ports."""
    with open(a.points) as f:
        points = json.load(f)
    print(json.dumps({fn: [FUNCTIONS[fn](optuna.trial.FixedTrial(p)) for p in ps] for fn, ps in points.items()}))


def create(a):
    if os.path.exists(a.path):
        os.remove(a.path)
    rng = __import__("random").Random(a.seed)
    dists = {f"p{i}": FloatDistribution(-5, 5) for i in range(5)}
    study = optuna.create_study(study_name="reopen", sampler=optuna.samplers.TPESampler(seed=a.seed), storage=f"sqlite:///{a.path}")
    trials = []
    for _ in range(a.n):
        params = {k: rng.uniform(-5, 5) for k in dists}
        trials.append(optuna.trial.create_trial(params=params, distributions=dists, value=sum(v * v for v in params.values())))
    study.add_trials(trials)
    print(json.dumps({"trials": len(study.trials)}))


def reopen(a):
    t0 = time.perf_counter()
    study = optuna.load_study(study_name="reopen", storage=f"sqlite:///{a.path}", sampler=optuna.samplers.TPESampler(seed=1))
    t1 = time.perf_counter()
    tr = study.ask()
    for i in range(5):
        tr.suggest_float(f"p{i}", -5, 5)
    t2 = time.perf_counter()
    print(json.dumps({"open_ms": (t1 - t0) * 1000, "ask_ms": (t2 - t1) * 1000, "total_ms": (t2 - t0) * 1000, "import_ms": IMPORT_MS}))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    o = sub.add_parser("overhead")
    o.add_argument("--sizes", default="100,500,1500")
    o.add_argument("--window", type=int, default=20)
    o.add_argument("--storage", default="memory")
    o.add_argument("--mode", default="prefill")
    o.add_argument("--seed", type=int, default=0)
    q = sub.add_parser("quality")
    q.add_argument("--fn", required=True)
    q.add_argument("--seeds", default="0,1,2,3,4,5,6,7,8,9")
    q.add_argument("--trials", type=int, default=200)
    q.add_argument("--checkpoints", default="50,100,200")
    q.add_argument("--multivariate", action="store_true")
    v = sub.add_parser("values")
    v.add_argument("--points", required=True)
    c = sub.add_parser("create")
    c.add_argument("--path", required=True)
    c.add_argument("--n", type=int, default=1500)
    c.add_argument("--seed", type=int, default=0)
    r = sub.add_parser("reopen")
    r.add_argument("--path", required=True)
    a = p.parse_args()
    {"overhead": overhead, "quality": quality, "create": create, "reopen": reopen, "values": values}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
