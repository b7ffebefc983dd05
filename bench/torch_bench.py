"""PyTorch (CPU, eager) side of the benchmark suite; prints one JSON object.

    torch_bench.py THREADS      torch.set_num_threads(THREADS)

Same workloads as bench/latentkit.mjs and bench/jax_bench.py: ae (64-16-64, tanh code, MSE,
Adam, batch 256), gan64/gan256 (one k = 1 iteration: a discriminator step on m real rows and m
noise vectors, then a non-saturating generator step, Adam(2e-4, 0.5)), ae784
(784-512-128-32-128-512-784 ReLU, sigmoid output, MSE, Adam, batch 128), dcgan (the DCGAN of
bench/workloads.mjs, one such iteration on batches of 64). Written as a PyTorch user would write
them.
"""
import json
import sys

import torch
from torch import nn

from timing import measure

torch.set_num_threads(int(sys.argv[1]))
torch.manual_seed(0)


def mlp(sizes, act, out=None):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
        elif out is not None:
            layers.append(out())
    return nn.Sequential(*layers)


out = {"workloads": {}, "torch": torch.__version__, "threads": torch.get_num_threads()}


def autoencoder_step(model, x, opt):
    def step():
        opt.zero_grad(set_to_none=True)
        loss = ((model(x) - x) ** 2).mean()
        loss.backward()
        opt.step()
        loss.item()
    return step


ae = nn.Sequential(nn.Linear(64, 16), nn.Tanh(), nn.Linear(16, 64))
x = torch.rand(256, 64) * 2 - 1
out["workloads"]["ae"] = measure(autoencoder_step(ae, x, torch.optim.Adam(ae.parameters(), lr=1e-3)), inner=200)

leaky = lambda: nn.LeakyReLU(0.2)  # noqa: E731
bce = nn.BCEWithLogitsLoss()


def gan_iteration(G, D, real, m, noise_dim=100):
    """One k = 1 iteration of Algorithm 1 with Adam(2e-4, 0.5), non-saturating generator loss."""
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    ones, zeros = torch.ones(m, 1), torch.zeros(m, 1)

    def iteration():
        opt_d.zero_grad(set_to_none=True)
        with torch.no_grad():
            fake = G(torch.randn(m, noise_dim))
        loss_d = bce(D(real), ones) + bce(D(fake), zeros)
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad(set_to_none=True)
        loss_g = bce(D(G(torch.randn(m, noise_dim))), ones)
        loss_g.backward()
        opt_g.step()
        loss_d.item(), loss_g.item()
    return iteration


for m in (64, 256):
    G = mlp([100, 256, 512, 784], leaky, nn.Tanh)
    D = mlp([784, 512, 256, 1], leaky)
    out["workloads"][f"gan{m}"] = measure(gan_iteration(G, D, torch.rand(m, 784) * 2 - 1, m), inner=10 if m == 64 else 4)

# dcgan: the same DCGAN as bench/workloads.mjs (dcganStep), one k = 1 iteration on batches of 64.
G = nn.Sequential(
    nn.Linear(100, 128 * 7 * 7), nn.Unflatten(1, (128, 7, 7)), nn.BatchNorm2d(128), nn.ReLU(),
    nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
    nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh(),
)
D = nn.Sequential(
    nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
    nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
    nn.Flatten(), nn.Linear(128 * 7 * 7, 1),
)
out["workloads"]["dcgan"] = measure(gan_iteration(G, D, torch.rand(64, 1, 28, 28) * 2 - 1, 64), inner=3)

ae784 = nn.Sequential(mlp([784, 512, 128, 32], nn.ReLU), nn.Sequential(*mlp([32, 128, 512, 784], nn.ReLU, nn.Sigmoid)))
x784 = torch.rand(128, 784)
out["workloads"]["ae784"] = measure(autoencoder_step(ae784, x784, torch.optim.Adam(ae784.parameters(), lr=1e-3)), inner=10)
print(json.dumps(out))
