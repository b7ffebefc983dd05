"""Opens a latentkit model file with the Python `safetensors` package and checks that
a numpy forward pass (PyTorch nn.Linear layout: y = x @ W.T + b) matches latentkit's
predictions to 1e-5.

    python scripts/check-safetensors.py model.safetensors x.f32 y.f32
x.f32 and y.f32 are raw little-endian float32 inputs and latentkit's outputs.
"""
import json
import sys

import numpy as np
from safetensors import safe_open

path, xpath, ypath = sys.argv[1:4]
with safe_open(path, framework="np") as f:
    meta = f.metadata()
    arch = json.loads(meta["architecture"])
    module = arch["modules"]["layers"]
    version = meta["version"]
    tensors = {k: f.get_tensor(k) for k in f.keys()}

acts = {
    "linear": lambda v: v,
    "tanh": np.tanh,
    "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
    "relu": lambda v: np.maximum(v, 0),
}


def act(spec):
    if isinstance(spec, dict):
        return lambda v: np.where(v > 0, v, spec["alpha"] * v)
    return acts[spec]


sizes = module["sizes"]
x = np.fromfile(xpath, dtype="<f4").reshape(-1, sizes[0]).astype(np.float64)
want = np.fromfile(ypath, dtype="<f4").reshape(-1, sizes[-1])
n_layers = len(sizes) - 1


def sequential_index(i):
    """Linear i's index in the stack's nn.Sequential (Linear, activation unless linear, Dropout)."""
    index = 0
    for j in range(i):
        hidden = j < n_layers - 1
        index += 1 + ((module["activation"] if hidden else module["outputActivation"]) != "linear")
        index += hidden and module.get("dropout", 0) > 0
    return index


for i in range(n_layers):
    name = f"layers.{i}" if version == "1" else str(sequential_index(i))
    w = tensors[f"{name}.weight"].astype(np.float64)
    b = tensors[f"{name}.bias"].astype(np.float64)
    assert w.shape == (sizes[i + 1], sizes[i]), (w.shape, sizes)
    x = x @ w.T + b
    x = act(module["outputActivation"] if i == n_layers - 1 else module["activation"])(x)
diff = float(np.max(np.abs(x - want)))
print(f"max abs difference {diff:.3g} <= 1e-05" if diff <= 1e-5 else f"max abs difference {diff:.3g} > 1e-05")
sys.exit(0 if diff <= 1e-5 else 1)
