"""The held-out test functions of bench/hpo (heldout-functions.mjs, heldout-new-functions.mjs,
heldout-conditional-functions.mjs) and the tuning functions (tuning-functions.mjs), written for
Optuna's trial API: the same names, parameters, order of suggestions and values as the JavaScript
versions (a test of the benchmark compares them at fixed points: `optuna_bench.py values`)."""
import math

PI = math.pi


def floats(t, d, lo, hi):
    return [t.suggest_float(f"x{i}", lo, hi) for i in range(d)]


def ackley5(t):
    x = floats(t, 5, -32.768, 32.768)
    n = len(x)
    return -20 * math.exp(-0.2 * math.sqrt(sum(v * v for v in x) / n)) - math.exp(sum(math.cos(2 * PI * v) for v in x) / n) + 20 + math.e


def styblinskiTang4(t):
    x = floats(t, 4, -5, 5)
    return 0.5 * sum(v**4 - 16 * v * v + 5 * v for v in x)


def levy5(t):
    x = floats(t, 5, -10, 10)
    w = [1 + (v - 1) / 4 for v in x]
    d = len(w)
    s = math.sin(PI * w[0]) ** 2
    for i in range(d - 1):
        s += (w[i] - 1) ** 2 * (1 + 10 * math.sin(PI * w[i] + 1) ** 2)
    return s + (w[d - 1] - 1) ** 2 * (1 + math.sin(2 * PI * w[d - 1]) ** 2)


def griewank5(t):
    x = floats(t, 5, -600, 600)
    p = 1.0
    for i, v in enumerate(x):
        p *= math.cos(v / math.sqrt(i + 1))
    return sum(v * v for v in x) / 4000 - p + 1


SHEKEL_B = [0.1, 0.2, 0.2, 0.4, 0.4, 0.6, 0.3, 0.7, 0.5, 0.5]
SHEKEL_C = [[4, 1, 8, 6, 3, 2, 5, 8, 6, 7], [4, 1, 8, 6, 7, 9, 3, 1, 2, 3.6], [4, 1, 8, 6, 3, 2, 5, 8, 6, 7], [4, 1, 8, 6, 7, 9, 3, 1, 2, 3.6]]


def shekel4(t):
    x = floats(t, 4, 0, 10)
    s = 0.0
    for i in range(10):
        s -= 1 / (SHEKEL_B[i] + sum((v - SHEKEL_C[j][i]) ** 2 for j, v in enumerate(x)))
    return s


def dixonPrice5(t):
    x = floats(t, 5, -10, 10)
    s = (x[0] - 1) ** 2
    for i in range(1, len(x)):
        s += (i + 1) * (2 * x[i] ** 2 - x[i - 1]) ** 2
    return s


def sixHumpCamel(t):
    x = t.suggest_float("x0", -3, 3)
    y = t.suggest_float("x1", -2, 2)
    return (4 - 2.1 * x * x + x**4 / 3) * x * x + x * y + (-4 + 4 * y * y) * y * y


def michalewicz5(t):
    x = floats(t, 5, 0, PI)
    return -sum(math.sin(v) * math.sin(((i + 1) * v * v) / PI) ** 20 for i, v in enumerate(x))


def rastrigin4(t):
    x = floats(t, 4, -5.12, 5.12)
    return 10 * len(x) + sum(v * v - 10 * math.cos(2 * PI * v) for v in x)


def goldsteinPrice(t):
    x = t.suggest_float("x0", -2, 2)
    y = t.suggest_float("x1", -2, 2)
    a = 1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x * x - 14 * y + 6 * x * y + 3 * y * y)
    b = 30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x * x + 48 * y - 36 * x * y + 27 * y * y)
    return a * b


def himmelblau(t):
    x = t.suggest_float("x0", -5, 5)
    y = t.suggest_float("x1", -5, 5)
    return (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2


def beale(t):
    x = t.suggest_float("x0", -4.5, 4.5)
    y = t.suggest_float("x1", -4.5, 4.5)
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2 + (2.625 - x + x * y**3) ** 2


SHIFT_T = {"p": [0.2, 0.8, 0.5], "q": [0.7, 0.3, 0.1], "r": [0.5, 0.5, 0.9], "s": [0.1, 0.1, 0.3], "u": [0.9, 0.6, 0.6]}
SHIFT_OFFSET = {"p": 0.4, "q": 0, "r": 0.2, "s": 0.1, "u": 0.3}


def catShift(t):
    x = floats(t, 3, 0, 1)
    c = t.suggest_categorical("c", ["p", "q", "r", "s", "u"])
    return 4 * sum((v - SHIFT_T[c][i]) ** 2 for i, v in enumerate(x)) + SHIFT_OFFSET[c]


LR_BEST = {"sgd": -1.5, "adam": -3.3, "rmsprop": -2.8}
OPT_OFFSET = {"sgd": 0.3, "adam": 0, "rmsprop": 0.1}


def hpoMixed(t):
    lr = t.suggest_float("lr", 1e-5, 1, log=True)
    units = t.suggest_int("units", 16, 512, step=16)
    layers = t.suggest_int("layers", 1, 8)
    dropout = t.suggest_float("dropout", 0, 0.6)
    batch = t.suggest_int("batch", 8, 1024, log=True)
    opt = t.suggest_categorical("optimizer", ["sgd", "adam", "rmsprop"])
    u = math.log2(units) - 7.5
    l = layers - 3
    return (
        0.5 * (math.log10(lr) - LR_BEST[opt] - 0.15 * (math.log2(batch) - 6)) ** 2
        + 0.3 * u * u + 0.2 * l * l + 0.1 * u * l
        + 2 * (dropout - 0.05 * layers - 0.1) ** 2
        + 0.1 * (math.log2(batch) - 6) ** 2
        + OPT_OFFSET[opt]
    )


SCALE = {"tight": 8, "mid": 1, "flat": 0.15}
SCALE_T = {"tight": [1.5, -2, 0.5], "mid": [-1, 1, -3], "flat": [3, 0, 2]}
SCALE_OFFSET = {"tight": 0, "mid": 0.3, "flat": 0.6}


def catScale(t):
    c = t.suggest_categorical("c", ["tight", "mid", "flat"])
    x = floats(t, 3, -4, 4)
    return SCALE[c] * sum((v - SCALE_T[c][i]) ** 2 for i, v in enumerate(x)) + SCALE_OFFSET[c]


PHI = (math.sqrt(5) - 1) / 2


def frac(v):
    return v - math.floor(v)


C8 = [
    {"t": [frac(0.13 + (k + 1) * PHI), frac(0.71 + (k + 1) * PHI * PHI), frac(0.37 + (k + 1) * math.sqrt(2))], "off": [0.2, 0.05, 0.35, 0, 0.15, 0.3, 0.1, 0.25][k]}
    for k in range(8)
]


def cat8(t):
    x = floats(t, 3, 0, 1)
    k = t.suggest_categorical("level", [0, 1, 2, 3, 4, 5, 6, 7])
    return 3 * sum(abs(v - C8[k]["t"][i]) ** 1.5 for i, v in enumerate(x)) + C8[k]["off"]


def conditionalModel(t):
    model = t.suggest_categorical("model", ["svm", "forest", "mlp"])
    s = t.suggest_float("subsample", 0.1, 1)
    shared = 2 * (s - 0.8) ** 2
    if model == "svm":
        C = t.suggest_float("svm_c", 1e-3, 1e3, log=True)
        g = t.suggest_float("svm_gamma", 1e-4, 1, log=True)
        a = math.log10(C) - 1.5
        b = math.log10(g) + 2.2
        return 0.15 + shared + 0.3 * a * a + 0.3 * b * b + 0.2 * a * b
    if model == "forest":
        depth = t.suggest_int("forest_depth", 2, 32)
        feat = t.suggest_float("forest_features", 0.05, 1)
        return 0.05 + shared + 0.004 * (depth - 11) ** 2 + 3 * (feat - 0.35) ** 2
    lr = t.suggest_float("mlp_lr", 1e-5, 1e-1, log=True)
    width = t.suggest_int("mlp_width", 16, 1024, log=True)
    drop = t.suggest_float("mlp_dropout", 0, 0.5)
    l = math.log10(lr) + 3.2
    w = math.log2(width) - 8
    return shared + 0.5 * l * l + 0.05 * w * w + 4 * (drop - 0.2 - 0.02 * w) ** 2


ACT_T = {"relu": [0.5, -1, 1, 0], "tanh": [-1, 0.5, 0, 1.2], "gelu": [1, 1, -0.5, -1]}
ACT_OFF = {"relu": 0.1, "tanh": 0.3, "gelu": 0}
NORM_SHIFT = {"none": 0, "batch": 0.6}
NORM_OFF = {"none": 0.15, "batch": 0}


def twoCats(t):
    act = t.suggest_categorical("act", ["relu", "tanh", "gelu"])
    x = floats(t, 4, -2, 2)
    norm = t.suggest_categorical("norm", ["none", "batch"])
    off = ACT_OFF[act] + NORM_OFF[norm] + (0.2 if act == "gelu" and norm == "none" else 0)
    s = 0.0
    for i, v in enumerate(x):
        d = v - ACT_T[act][i] + (-1 if i % 2 else 1) * NORM_SHIFT[norm] * 0.5
        s += d * d + 0.2 * (1 - math.cos(3 * PI * d))
    return s + off


ACK_T = {"p": [2, -1, 3, -3], "q": [-2, 2, -1, 1], "r": [0.5, 3, 2, -2]}
ACK_OFF = {"p": 0.5, "q": 0, "r": 0.25}


def catAckley(t):
    a = floats(t, 2, -5, 5)
    c = t.suggest_categorical("c", ["p", "q", "r"])
    b = [t.suggest_float("x2", -5, 5), t.suggest_float("x3", -5, 5)]
    z = [v - ACK_T[c][i] for i, v in enumerate(a + b)]
    n = len(z)
    return 0.5 * (-20 * math.exp(-0.2 * math.sqrt(sum(v * v for v in z) / n)) - math.exp(sum(math.cos(2 * PI * v) for v in z) / n) + 20 + math.e) + ACK_OFF[c]


def catIrrelevant(t):
    x = floats(t, 4, -3, 3)
    c = t.suggest_categorical("c", ["a", "b", "c", "d", "e", "f"])
    u = (x[0] + x[1]) / math.sqrt(2) - 1
    v = (x[0] - x[1]) / math.sqrt(2)
    return 10 * u * u + v * v + 4 * (x[2] - x[3] - 0.5) ** 2 + 0.5 * (x[2] + x[3]) ** 2 + {"a": 0.03, "b": 0, "c": 0.05, "d": 0.01, "e": 0.04, "f": 0.02}[c]


# ---- heldout-new-functions.mjs

CNN_OPT = {"sgd": [-1.5, 1.2, 0.12], "adamw": [-3.0, 0.5, 0], "nadam": [-2.6, 0.55, 0.05]}
CNN_ACT = {"relu": 0, "gelu": -0.03, "elu": 0.02}


def cnnLike(t):
    opt = t.suggest_categorical("optimizer", ["sgd", "adamw", "nadam"])
    lr = math.log10(t.suggest_float("lr", 1e-5, 1, log=True))
    act = t.suggest_categorical("activation", ["relu", "gelu", "elu"])
    batch = math.log2(t.suggest_int("batch", 8, 512, log=True)) - 6
    depth = t.suggest_int("depth", 2, 12)
    width = math.log2(t.suggest_int("width", 16, 512, log=True)) - 6
    wd = math.log10(t.suggest_float("weight_decay", 1e-6, 1e-1, log=True))
    dropout = t.suggest_float("dropout", 0, 0.5)
    c, w, off = CNN_OPT[opt]
    z = (lr - c - 0.3 * batch) / w
    return off + 0.03 + CNN_ACT[act] + 0.9 * (1 - math.exp(-0.5 * z * z)) + 0.004 * (depth - 7) ** 2 + 0.02 * (width - 0.1 * depth) ** 2 + 0.01 * (wd + 4) ** 2 + 0.4 * (dropout - 0.2) ** 2 + 0.005 * batch * batch


GBM_BOOST = {"gbdt": [-1.3, 0.8, 0.02], "dart": [-0.9, 1.2, 0.1], "goss": [-1.1, 0.35, 0]}


def gbmLike(t):
    boost = t.suggest_categorical("boosting", ["gbdt", "dart", "goss"])
    lr = math.log10(t.suggest_float("learning_rate", 1e-3, 1, log=True))
    leaves = math.log2(t.suggest_int("num_leaves", 4, 256, log=True))
    depth = t.suggest_int("max_depth", 2, 12)
    sub = t.suggest_float("subsample", 0.4, 1)
    lam = math.log10(t.suggest_float("lambda", 1e-4, 10, log=True))
    c, w, off = GBM_BOOST[boost]
    z = (lr - c) / w
    return off + (1 - math.exp(-0.5 * z * z)) + 0.02 * (leaves - depth + 1 - 3) ** 2 + 0.3 * (sub - 0.8) ** 2 + 0.01 * (lam + 1) ** 2


def levyIrrelevant(t):
    x = floats(t, 5, -10, 10)
    w = [1 + (v - 1) / 4 for v in x[:4]]
    s = math.sin(PI * w[0]) ** 2
    for i in range(3):
        s += (w[i] - 1) ** 2 * (1 + 10 * math.sin(PI * w[i] + 1) ** 2)
    s += (w[3] - 1) ** 2 * (1 + math.sin(2 * PI * w[3]) ** 2)
    return s + 0.02 * ((x[4] + 4) / 20) ** 2


def stIrrelevant(t):
    x = floats(t, 4, -5, 5)
    return 0.5 * sum(v**4 - 16 * v * v + 5 * v for v in x[:3]) + 3 * 39.16616570377142 + 0.05 * ((x[3] - 2) / 10) ** 2


def bowlIrrelevant(t):
    x = floats(t, 5, -3, 3)
    u = (x[0] + x[1] + x[2]) / math.sqrt(3) - 0.5
    v = (x[0] - x[1]) / math.sqrt(2) + 0.3
    w = (x[0] + x[1] - 2 * x[2]) / math.sqrt(6)
    return 20 * u * u + 2 * v * v + w * w + 0.005 * (((x[3] - 1) / 6) ** 2 + ((x[4] + 2) / 6) ** 2)


HEAVY_OFF = {"a": 0.2, "b": 0, "c": 0.1, "d": 0.3}


def catHeavy(t):
    opt = t.suggest_categorical("opt", ["a", "b", "c", "d"])
    x = t.suggest_float("x", 0, 1)
    norm = t.suggest_categorical("norm", ["none", "batch", "layer"])
    act = t.suggest_categorical("act", ["relu", "tanh", "gelu", "silu", "elu"])
    y = t.suggest_float("y", -2, 2)
    init = t.suggest_categorical("init", ["he", "glorot", "normal"])
    target = {"a": 0.2, "b": 0.75, "c": 0.5, "d": 0.9}[opt]
    return (
        HEAVY_OFF[opt] + 3 * (x - target) ** 2 + 0.3 * (y - (0.5 if norm == "batch" else -0.5)) ** 2
        + (0.15 if norm == "none" else 0.05 if norm == "layer" else 0)
        + {"relu": 0.05, "tanh": 0.12, "gelu": 0, "silu": 0.02, "elu": 0.08}[act]
        + (0 if init == "he" else 0.04) + (-0.03 if act == "gelu" and init == "glorot" else 0) + 0.03
    )


# ---- tuning-functions.mjs

NET_OPT = {"sgd": [-1.2, 1.4, 0.18], "adam": [-3.3, 0.45, 0], "rmsprop": [-2.9, 0.6, 0.07], "adagrad": [-1.6, 1.0, 0.25]}


def netTune(t):
    lr = math.log10(t.suggest_float("lr", 1e-5, 1, log=True))
    opt = t.suggest_categorical("optimizer", ["sgd", "adam", "rmsprop", "adagrad"])
    batch = t.suggest_categorical("batch", [16, 32, 64, 128, 256])
    layers = t.suggest_int("layers", 1, 6)
    units = t.suggest_int("units", 8, 1024, log=True)
    dropout = t.suggest_float("dropout", 0, 0.6)
    c, w, off = NET_OPT[opt]
    b = math.log2(batch) - 6
    z = (lr - c - 0.25 * b) / w
    u = math.log2(units) - 7 - 0.3 * (layers - 3)
    return off + (1 - math.exp(-0.5 * z * z)) + 0.03 * u * u + 0.02 * (layers - 3) ** 2 + 0.5 * (dropout - 0.1 - 0.04 * layers) ** 2 + 0.01 * b * b


def irrelevantTune(t):
    x = floats(t, 4, 0, 1)
    return 4 * (x[0] - 0.3) ** 2 + (x[1] - 0.6 + 0.5 * (x[0] - 0.3)) ** 2 + 0.5 * (x[2] - 0.15) ** 2 + 0.01 * ((x[3] - 0.8) / 0.8) ** 2


# ---- heldout-conditional-functions.mjs


def sq(v):
    return v * v


def basin(v, centre, width, depth):
    return depth * (1 - math.exp(-0.5 * sq((v - centre) / width)))


OPTIMIZER = {"sgd": [-1.3, 1.3, 0.22, -1], "momentum": [-0.8, 0.8, 0.07, 0], "adam": [-3.1, 0.4, 0, 1], "rmsprop": [-2.7, 0.55, 0.04, 0.5]}


def optimizerTune(t):
    opt = t.suggest_categorical("optimizer", ["sgd", "momentum", "adam", "rmsprop"])
    lr = math.log10(t.suggest_float("lr", 1e-5, 1, log=True))
    centre, width, floor, batch_best = OPTIMIZER[opt]
    extra = 0
    shift = 0
    if opt == "momentum":
        m = t.suggest_float("momentum", 0.5, 0.99)
        lr -= math.log10(1 - m)
        extra = 2 * sq(m - 0.9)
    elif opt == "adam":
        beta1 = t.suggest_float("beta1", 0.5, 0.99)
        eps = math.log10(t.suggest_float("eps", 1e-10, 1e-4, log=True))
        shift = 0.8 * (beta1 - 0.88)
        extra = 1.5 * sq(beta1 - 0.88) + 0.004 * sq(eps + 8.2)
    elif opt == "rmsprop":
        rho = t.suggest_float("rho", 0.8, 0.999)
        extra = 3 * sq(rho - 0.93)
    b = math.log2(t.suggest_int("batch", 16, 1024, log=True)) - 6
    dropout = t.suggest_float("dropout", 0, 0.6)
    return floor + basin(lr, centre + shift + 0.25 * b, width, 0.9) + extra + 0.02 * sq(b - batch_best) + 0.5 * sq(dropout - 0.15)


LINEAR_SCALER = {"none": [1, 0.3], "standard": [-1.8, 0.06], "quantile": [-2.5, 0]}


def pipelineTune(t):
    scaler = t.suggest_categorical("scaler", ["none", "standard", "quantile"])
    q = math.log10(t.suggest_int("n_quantiles", 10, 1000, log=True) / 200) if scaler == "quantile" else 0
    model = t.suggest_categorical("model", ["linear", "tree"])
    feat = t.suggest_float("feature_frac", 0.1, 1)
    if model == "linear":
        alpha = math.log10(t.suggest_float("alpha", 1e-6, 100, log=True))
        best, floor = LINEAR_SCALER[scaler]
        a = alpha - best - 0.5 * q
        return floor + 0.2 * sq(q) + basin(a, 0, 1.2, 0.6) + 1.5 * sq(feat - 0.65 - 0.05 * a)
    depth = t.suggest_int("depth", 2, 16)
    leaf = math.log2(t.suggest_int("min_leaf", 1, 100, log=True))
    return (
        0.05 + (0.05 * sq(min(0, q + 0.3)) if scaler == "quantile" else 0)
        + 0.008 * sq(depth - 5.6 - 0.8 * leaf) + 0.03 * sq(leaf - 3) + 1.2 * sq(feat - 0.35 - 0.01 * depth)
    )


SCHEDULE = {"constant": [-3.2, 0.5, 0.08], "cosine": [-2.7, 0.45, 0], "step": [-2.9, 0.5, 0.03]}


def nestedTune(t):
    model = t.suggest_categorical("model", ["gbm", "nn"])
    l2 = math.log10(t.suggest_float("l2", 1e-6, 1, log=True))
    if model == "gbm":
        lr = math.log10(t.suggest_float("learning_rate", 1e-3, 1, log=True))
        n = math.log10(t.suggest_int("n_estimators", 20, 2000, log=True))
        depth = t.suggest_int("max_depth", 2, 12)
        return 0.05 + basin(lr + n, math.log10(20), 0.6, 0.5) + 0.03 * sq(n - math.log10(600)) + 0.004 * sq(depth - 6) + 0.02 * sq(l2 + 1)
    lr = math.log10(t.suggest_float("nn_lr", 1e-5, 1e-1, log=True))
    width = math.log2(t.suggest_int("width", 32, 1024, log=True)) - 8
    schedule = t.suggest_categorical("schedule", ["constant", "cosine", "step"])
    centre, w, floor = SCHEDULE[schedule]
    if schedule == "cosine":
        warmup = t.suggest_int("warmup", 0, 10)
        centre += 0.06 * (warmup - 3)
        floor += 0.006 * sq(warmup - 3)
    elif schedule == "step":
        gamma = t.suggest_float("gamma", 0.1, 0.9)
        centre -= 0.3 * (gamma - 0.3)
        floor += 0.4 * sq(gamma - 0.3)
    return floor + basin(lr, centre, w, 0.8) + 0.02 * sq(width) + 0.03 * sq(l2 + 4)


HELDOUT = {f.__name__: f for f in [
    ackley5, styblinskiTang4, levy5, griewank5, shekel4, dixonPrice5, sixHumpCamel, goldsteinPrice, himmelblau, beale, michalewicz5, rastrigin4,
    hpoMixed, catShift, catScale, cat8, conditionalModel, twoCats, catAckley, catIrrelevant,
    cnnLike, gbmLike, levyIrrelevant, stIrrelevant, bowlIrrelevant, catHeavy, netTune, irrelevantTune,
    optimizerTune, pipelineTune, nestedTune,
]}
