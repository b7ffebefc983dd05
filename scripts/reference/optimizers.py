"""Reference optimizer trajectories from optax (an independent implementation).

Six float32 parameters, gradient g(p) = c*p + d*p**3 (elementwise), 20 steps
of each optimizer; writes test/reference/optimizers.json, which
test/optimizers.test.ts replays through latentkit's kernels.

    python3 -m venv .venv && .venv/bin/pip install jax jaxlib optax
    .venv/bin/python scripts/reference/optimizers.py
"""
import json
import pathlib

import jax
import jax.numpy as jnp
import optax

jax.config.update("jax_enable_x64", False)

P0 = [0.5, -1.25, 2.0, -0.3, 0.05, 1.5]
C = [1.0, 0.5, -0.2, 2.0, 3.0, 0.1]
D = [0.1, 0.3, 0.05, -0.1, 0.0, 0.2]
STEPS = 20

CONFIGS = [
    ({"type": "sgd", "lr": 0.1}, optax.sgd(0.1)),
    ({"type": "sgd", "lr": 0.05, "momentum": 0.9}, optax.sgd(0.05, momentum=0.9)),
    ({"type": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True}, optax.sgd(0.05, momentum=0.9, nesterov=True)),
    ({"type": "adam", "lr": 0.01}, optax.adam(0.01, b1=0.9, b2=0.999, eps=1e-8)),
    ({"type": "adam", "lr": 0.0002, "beta1": 0.5}, optax.adam(0.0002, b1=0.5, b2=0.999, eps=1e-8)),
    ({"type": "adamw", "lr": 0.01, "weightDecay": 0.05}, optax.adamw(0.01, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.05)),
    ({"type": "rmsprop", "lr": 0.01, "decay": 0.9, "eps": 1e-8}, optax.rmsprop(0.01, decay=0.9, eps=1e-8)),
    ({"type": "adam", "lr": 0.05, "clipNorm": 0.5},
     optax.chain(optax.clip_by_global_norm(0.5), optax.adam(0.05, b1=0.9, b2=0.999, eps=1e-8))),
]


def grad(p):
    c = jnp.asarray(C, jnp.float32)
    d = jnp.asarray(D, jnp.float32)
    return c * p + d * p * p * p


def trajectory(opt):
    p = jnp.asarray(P0, jnp.float32)
    state = opt.init(p)
    out = []
    for _ in range(STEPS):
        updates, state = opt.update(grad(p), state, p)
        p = optax.apply_updates(p, updates)
        out.append([float(v) for v in p])
    return out


result = {
    "generator": "scripts/reference/optimizers.py",
    "jax": jax.__version__,
    "optax": optax.__version__,
    "p0": P0, "c": C, "d": D, "steps": STEPS,
    "cases": [{"config": cfg, "trajectory": trajectory(opt)} for cfg, opt in CONFIGS],
}
out = pathlib.Path(__file__).resolve().parents[2] / "test" / "reference" / "optimizers.json"
out.write_text(json.dumps(result, indent=1) + "\n")
print(f"wrote {out}")
