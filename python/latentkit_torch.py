"""latentkit files as idiomatic PyTorch modules, both ways.

A latentkit file (``save``/``checkpoint`` in TypeScript, or the CLI's ``--out``) is safetensors:
each stack an ``nn.Sequential`` of ``Linear`` and activation modules, inside a ``ModuleDict`` of
``encoder``/``decoder``, ``generator``/``discriminator``, ``body0``…/``head``, or a semi-supervised
model's ``generator``/``features``/``classes`` (SemiSupervisedGAN) or ``encoder``/``decoder``/``classifier``
(SemiSupervisedVAE); the architecture is in the file's metadata. Needs only ``torch`` and ``safetensors``.

    import latentkit_torch as lt
    ae = lt.load("ae.safetensors")           # lt.Autoencoder: ae.encoder, ae.decoder are nn.Sequential
    codes = ae.encode(x)
    ae.load_state_dict(torch_trained_state)  # plain PyTorch from here on (Adam, DDP, …)
    lt.save(ae, "ae-from-torch.safetensors") # latentkit's load() reads it

    net = nn.Sequential(nn.Linear(20, 12), nn.Tanh(), nn.Linear(12, 4))
    lt.save(net, "net.safetensors")          # a latentkit stack (mlp)

Checkpoints travel with their optimizers, both ways (see load_checkpoint and save_checkpoint):

    model, opt = lt.load_checkpoint("ae.ckpt")   # opt: torch.optim.Adam holding latentkit's moments and step
    loss = model.training_loss(x); opt.zero_grad(); loss.backward(); opt.step()
    lt.save_checkpoint(model, opt, "ae-torch.ckpt")  # latentkit's load() resumes it

Nothing here unpickles: files are safetensors, read with safetensors' own parser.
"""

from __future__ import annotations

import json
from typing import Any

import torch
from safetensors.torch import load as _load_bytes
from safetensors.torch import save as _save_bytes
from torch import nn

__all__ = ["io_sizes", "Autoencoder", "GAN", "Classifier", "VAE", "SemiSupervisedGAN", "SemiSupervisedVAE", "RMSprop", "Stack", "GaussianNoise", "load", "save", "sequential", "weights", "load_checkpoint", "save_checkpoint", "train_step"]

FORMAT = "latentkit"
VERSION = "2"
SUPPORTED = "Linear, Tanh, Sigmoid, ReLU, LeakyReLU, Softplus (beta 1) and Dropout (and, in a latentkit_torch.Stack, Conv2d, ConvTranspose2d, BatchNorm1d/2d, GaussianNoise, Dropout, Flatten, Unflatten and weight_norm)"


def _join_labels(x: torch.Tensor, labels: torch.Tensor | None, conditions: int, what: str) -> torch.Tensor:
    """x with each row's one-hot label appended (a conditional model), or x alone."""
    if conditions == 0:
        if labels is not None:
            raise ValueError(f"labels are for a conditional {what}; this one is unconditional")
        return x
    if labels is None:
        raise ValueError(f"this {what} is conditioned on {conditions} classes: pass labels, one per row")
    labels = torch.as_tensor(labels, dtype=torch.long)
    if labels.shape != (x.shape[0],):
        raise ValueError(f"labels have shape {tuple(labels.shape)}, expected ({x.shape[0]},)")
    return torch.cat([x, nn.functional.one_hot(labels, conditions).to(x.dtype)], dim=1)


class Autoencoder(nn.ModuleDict):
    """``decoder(encoder(x))``. With latentkit's ``bce-with-logits`` loss the decoder outputs logits."""

    def __init__(self, encoder: nn.Sequential, decoder: nn.Sequential, options: dict | None = None):
        super().__init__({"encoder": encoder, "decoder": decoder})
        self.latentkit_options = dict(options or {})

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self["encoder"](x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self["decoder"](z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def training_loss(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """latentkit's training objective on a minibatch: the mean loss (``mse`` or
        ``bce-with-logits``) of the reconstruction of x (corrupted first for a denoising
        autoencoder, with torch's random numbers), plus ``sparsity`` · mean_rows Σ|code|."""
        o = self.latentkit_options
        inp = x
        corruption = o.get("denoising")
        if corruption:
            if corruption["type"] == "gaussian":
                inp = x + corruption["std"] * torch.randn(x.shape, generator=generator, dtype=x.dtype)
            else:
                inp = x * (torch.rand(x.shape, generator=generator, dtype=x.dtype) >= corruption["rate"]).to(x.dtype)
        code = self.encode(inp)
        out = self.decode(code)
        if o.get("loss", "mse") == "bce-with-logits":
            loss = nn.functional.binary_cross_entropy_with_logits(out, x)
        else:
            loss = nn.functional.mse_loss(out, x)
        sparsity = float(o.get("sparsity", 0) or 0)
        if sparsity > 0:
            loss = loss + sparsity * code.abs().sum(dim=1).mean()
        return loss


class GAN(nn.ModuleDict):
    """``generator(z)``; ``discriminator(x)`` returns the logit of P(real). A GAN trained with
    latentkit's ``ema`` option also has ``generatorEma``, the generator's moving average
    (what latentkit's ``sample`` draws from). A conditional GAN (latentkit's ``conditions: n``)
    takes one-hot labels after z and after x: ``model(z, labels)``, ``model.discriminate(x, labels)``."""

    def __init__(self, generator: nn.Sequential, discriminator: nn.Sequential, options: dict | None = None, generator_ema: nn.Sequential | None = None):
        modules = {"generator": generator, "discriminator": discriminator}
        if generator_ema is not None:
            modules["generatorEma"] = generator_ema
        super().__init__(modules)
        self.latentkit_options = dict(options or {})
        self.conditions = int(self.latentkit_options.get("conditions", 0))
        self.latentkit_options.setdefault("noise", {"dim": io_sizes(generator)[0] - self.conditions, "distribution": "normal"})

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Noise as the GAN was trained on: N(0, 1), or U(-1, 1) for ``distribution: 'uniform'``."""
        spec = self.latentkit_options["noise"]
        if spec.get("distribution", "normal") == "uniform":
            return torch.rand(n, spec["dim"], generator=generator) * 2 - 1
        return torch.randn(n, spec["dim"], generator=generator)

    def _with_labels(self, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        return _join_labels(x, labels, self.conditions, "GAN")

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self["generator"](self._with_labels(z, labels))

    def discriminate(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """The discriminator's logit for x (and its labels, when conditional)."""
        return self["discriminator"](self._with_labels(x, labels))

    def discriminator_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        """latentkit's discriminator objective: −log D(x) (against 1 − labelSmoothing) plus −log(1 − D(G(z))), each a mean."""
        bce = nn.functional.binary_cross_entropy_with_logits
        smoothing = float(self.latentkit_options.get("labelSmoothing", 0) or 0)
        return bce(real_logits, torch.full_like(real_logits, 1 - smoothing)) + bce(fake_logits, torch.zeros_like(fake_logits))

    def generator_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        """latentkit's generator objective: −log D(G(z)) (non-saturating) or log(1 − D(G(z))) (minimax), a mean."""
        bce = nn.functional.binary_cross_entropy_with_logits
        if self.latentkit_options.get("generatorLoss", "non-saturating") == "minimax":
            return -bce(fake_logits, torch.zeros_like(fake_logits))
        return bce(fake_logits, torch.ones_like(fake_logits))

    @torch.no_grad()
    def update_average(self) -> None:
        """generatorEma ← decay·generatorEma + (1 − decay)·generator, as latentkit does after each generator step."""
        if "generatorEma" not in self:
            return
        _move_average(self["generatorEma"], self["generator"], float(self.latentkit_options["ema"]["decay"]))


@torch.no_grad()
def _move_average(average: nn.Module, trained: nn.Module, keep: float) -> None:
    """average ← keep·average + (1 − keep)·trained; running statistics (batch norm) are copied, not averaged."""
    for avg, p in zip(average.parameters(), trained.parameters()):
        avg.mul_(keep).add_(p, alpha=1 - keep)
    for avg, b in zip(average.buffers(), trained.buffers()):
        avg.copy_(b)


def _corrected_keep(decay: float, step: int) -> float:
    """The weight latentkit's semi-supervised models keep at update ``step`` (1, 2, …): the
    zero-started average divided by 1 − decay^step, as one recursion (update 1 copies)."""
    if step < 1:
        raise ValueError(f"update_average: step counts from 1, got {step}")
    before = decay ** (step - 1)
    return decay * (1 - before) / (1 - before * decay)


def _classifier_average(model: nn.ModuleDict, names: list[str], step: int) -> None:
    """Moves each ``<name>Ema`` towards ``<name>``, as latentkit does after each iteration with ``ema``."""
    if f"{names[0]}Ema" not in model:
        return
    keep = _corrected_keep(float(model.latentkit_options["ema"]["decay"]), step)
    for name in names:
        _move_average(model[f"{name}Ema"], model[name], keep)


def _with_averages(modules: dict, averages: dict, kind: str) -> dict:
    """modules plus the given moving averages (all of them or none)."""
    given = {name: m for name, m in averages.items() if m is not None}
    if given and len(given) != len(averages):
        raise ValueError(f"{kind}: give all of {sorted(averages)} or none, got {sorted(given)}")
    return {**modules, **given}


def _kernel_exp(t: torch.Tensor) -> torch.Tensor:
    """e^t as latentkit's kernels take it, t clamped to [−87, 88]; its gradient is that value, as
    the kernels' gradient formulas use it, not the clamp's 0."""
    return torch.exp(t + (t.clamp(-87.0, 88.0) - t).detach())


def _likelihood_nll(lik: Any, features: int, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """−log p(x|out) per row, summed over features, under a latentkit likelihood spec."""
    if lik == "bernoulli":
        return nn.functional.binary_cross_entropy_with_logits(out, x, reduction="none").sum(dim=1)
    ln2pi = torch.log(torch.tensor(2 * torch.pi, dtype=x.dtype))
    if lik["variance"] == "learned":
        mean, lv = out[:, :features], out[:, features:]
    else:
        mean, lv = out, torch.full_like(out, float(torch.log(torch.tensor(float(lik["variance"])))))
    return (0.5 * ((x - mean) ** 2 * _kernel_exp(-lv) + lv + ln2pi)).sum(dim=1)


class VAE(nn.ModuleDict):
    """A variational autoencoder: ``encoder(x)`` gives q(z|x)'s means then log-variances, and
    ``decoder(z)`` p(x|z)'s parameters (Bernoulli logits, Gaussian means, or means then
    log-variances when learned). A conditional VAE (latentkit's ``conditions: n``) takes one-hot
    labels after x and after z: ``model.encode(x, labels)``, ``model.decode(z, labels)``."""

    def __init__(self, encoder: nn.Sequential, decoder: nn.Sequential, options: dict | None = None):
        super().__init__({"encoder": encoder, "decoder": decoder})
        self.latentkit_options = dict(options or {})
        self.latentkit_options.setdefault("likelihood", "bernoulli")
        self.conditions = int(self.latentkit_options.get("conditions", 0) or 0)
        self.latent = io_sizes(encoder)[1] // 2
        self.features = io_sizes(encoder)[0] - self.conditions

    def _with_labels(self, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        return _join_labels(x, labels, self.conditions, "VAE")

    def _stats(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        stats = self["encoder"](self._with_labels(x, labels))
        return stats[:, : self.latent], stats[:, self.latent :]

    def encode(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """The means of q(z|x)."""
        return self._stats(x, labels)[0]

    def _expectation(self, out: torch.Tensor) -> torch.Tensor:
        lik = self.latentkit_options["likelihood"]
        if lik == "bernoulli":
            return torch.sigmoid(out)
        return out[:, : self.features]

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """E[x|z]: Bernoulli probabilities or the Gaussian's means."""
        return self._expectation(self["decoder"](self._with_labels(z, labels)))

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """The reconstruction through the posterior mean, decode(encode(x))."""
        return self.decode(self.encode(x, labels), labels)

    def sample(self, n: int, labels: torch.Tensor | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.decode(torch.randn(n, self.latent, generator=generator), labels)

    def _nll(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """−log p(x|out) per row, summed over features."""
        return _likelihood_nll(self.latentkit_options["likelihood"], self.features, x, out)

    def training_loss(self, x: torch.Tensor, labels: torch.Tensor | None = None, generator: torch.Generator | None = None, weight: float | None = None) -> torch.Tensor:
        """latentkit's objective on a minibatch: mean over rows of −log p(x|z) + weight·KL(q ‖ N(0, I)),
        z = μ + σ·ε with torch's ε; weight defaults to β (latentkit's warm-up is the caller's)."""
        mu, logvar = self._stats(x, labels)
        z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
        out = self["decoder"](self._with_labels(z, labels))
        kl = 0.5 * (mu**2 + torch.exp(logvar) - 1 - logvar).sum(dim=1)
        w = float(self.latentkit_options.get("beta", 1)) if weight is None else weight
        return (self._nll(x, out) + w * kl).mean()


class SemiSupervisedGAN(nn.ModuleDict):
    """Salimans et al. (2016)'s semi-supervised GAN as latentkit trains it: ``generator(z)``; the
    discriminator is ``classes(features(x))``, K class logits with the generated class's fixed at 0.
    ``model(x)`` returns the K logits (a classifier); the losses are latentkit's. A model trained
    with latentkit's ``ema`` option also has ``featuresEma`` and ``classesEma``, the discriminator's
    moving average, which ``logits`` and ``classify`` read as latentkit's do (``raw=True``: the trained
    weights); ``model(x)`` is always the trained discriminator, as the losses need."""

    def __init__(self, generator: nn.Sequential, features: nn.Sequential, classes: nn.Sequential, options: dict | None = None,
                 features_ema: nn.Sequential | None = None, classes_ema: nn.Sequential | None = None):
        super().__init__(_with_averages({"generator": generator, "features": features, "classes": classes}, {"featuresEma": features_ema, "classesEma": classes_ema}, "SemiSupervisedGAN"))
        self.latentkit_options = dict(options or {})
        self.latentkit_options.setdefault("noise", {"dim": io_sizes(generator)[0], "distribution": "uniform"})
        self.latentkit_options.setdefault("batchSize", 100)
        self.latentkit_options.setdefault("unlabelledWeight", 1)

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        spec = self.latentkit_options["noise"]
        if spec.get("distribution", "uniform") == "uniform":
            return torch.rand(n, spec["dim"], generator=generator) * 2 - 1
        return torch.randn(n, spec["dim"], generator=generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The trained discriminator's K logits (what the losses train)."""
        return self["classes"](self["features"](x))

    def logits(self, x: torch.Tensor, raw: bool = False) -> torch.Tensor:
        """The K logits latentkit's ``logits`` gives: from the moving average when the model keeps one, unless ``raw``."""
        if not raw and "featuresEma" in self:
            return self["classesEma"](self["featuresEma"](x))
        return self(x)

    def classify(self, x: torch.Tensor, raw: bool = False) -> torch.Tensor:
        return self.logits(x, raw).argmax(dim=1)

    def update_average(self, step: int) -> None:
        """After training iteration ``step`` (1, 2, …): the discriminator's moving average, as latentkit's ``ema``."""
        _classifier_average(self, ["features", "classes"], step)

    def discriminator_loss(self, labelled_logits: torch.Tensor, labels: torch.Tensor, unlabelled_logits: torch.Tensor, generated_logits: torch.Tensor) -> torch.Tensor:
        """The labelled rows' cross-entropy plus unlabelledWeight·(½·softplus(−lse) on unlabelled rows + ½·softplus(lse) on generated ones), each a mean."""
        w = float(self.latentkit_options.get("unlabelledWeight", 1))
        lse_u, lse_g = torch.logsumexp(unlabelled_logits, dim=1), torch.logsumexp(generated_logits, dim=1)
        unlabelled = 0.5 * nn.functional.softplus(-lse_u).mean() + 0.5 * nn.functional.softplus(lse_g).mean()
        return nn.functional.cross_entropy(labelled_logits, labels) + w * unlabelled

    @staticmethod
    def feature_matching_loss(real_features: torch.Tensor, generated_features: torch.Tensor) -> torch.Tensor:
        """The mean over features of (mean real feature − mean generated feature)²; the real side carries no gradient."""
        return ((real_features.detach().mean(dim=0) - generated_features.mean(dim=0)) ** 2).mean()


class SemiSupervisedVAE(nn.ModuleDict):
    """Kingma et al. (2014)'s M2 as latentkit trains it: ``classifier(x)`` gives q(y|x)'s logits,
    ``encoder([x, one-hot y])`` q(z|x,y)'s means then log-variances, ``decoder([z, one-hot y])``
    p(x|y,z)'s parameters. ``model(x)`` returns the class logits; ``loss`` is latentkit's objective.
    A model trained with latentkit's ``ema`` option also has ``classifierEma``, q(y|x)'s moving
    average, which ``logits`` and ``classify`` read as latentkit's do (``raw=True``: the trained
    weights); ``model(x)`` is always the trained q(y|x), as the loss needs."""

    def __init__(self, encoder: nn.Sequential, decoder: nn.Sequential, classifier: nn.Sequential, options: dict | None = None,
                 classifier_ema: nn.Sequential | None = None):
        super().__init__(_with_averages({"encoder": encoder, "decoder": decoder, "classifier": classifier}, {"classifierEma": classifier_ema}, "SemiSupervisedVAE"))
        self.latentkit_options = dict(options or {})
        self.latentkit_options.setdefault("likelihood", "bernoulli")
        self.latentkit_options.setdefault("alpha", 0.1)
        self.latentkit_options.setdefault("batchSize", 100)
        self.classes = io_sizes(classifier)[1]
        self.features = io_sizes(classifier)[0]
        self.latent = io_sizes(encoder)[1] // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The trained q(y|x)'s logits (what the loss trains)."""
        return self["classifier"](x)

    def logits(self, x: torch.Tensor, raw: bool = False) -> torch.Tensor:
        """The logits latentkit's ``logits`` gives: from the moving average when the model keeps one, unless ``raw``."""
        return self["classifier" if raw or "classifierEma" not in self else "classifierEma"](x)

    def classify(self, x: torch.Tensor, raw: bool = False) -> torch.Tensor:
        return self.logits(x, raw).argmax(dim=1)

    def update_average(self, step: int) -> None:
        """After training step ``step`` (1, 2, …): q(y|x)'s moving average, as latentkit's ``ema``."""
        _classifier_average(self, ["classifier"], step)

    def _bound(self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """ℓ(x, y) = −log p(x|y,z) + KL(q(z|x,y) ‖ N(0, I)) per row, one z from torch's ε."""
        onehot = nn.functional.one_hot(y, self.classes).to(x.dtype)
        stats = self["encoder"](torch.cat([x, onehot], dim=1))
        mu, logvar = stats[:, : self.latent], stats[:, self.latent :]
        z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
        out = self["decoder"](torch.cat([z, onehot], dim=1))
        # In f64, as latentkit sums the bound: a pair q(y|x) all but rules out can have a bound
        # beyond f32 whose product with q, and that product's gradient, are not.
        nll = _likelihood_nll(self.latentkit_options["likelihood"], self.features, x.double(), out.double())
        return nll + 0.5 * (mu**2 + torch.exp(logvar) - 1 - logvar).sum(dim=1)

    def loss(self, labelled: torch.Tensor, labels: torch.Tensor, unlabelled: torch.Tensor, labelled_rows: int, unlabelled_rows: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """latentkit's step loss, an estimate of J^alpha / N_u from a batch of labelled and of
        unlabelled rows, N_l = labelled_rows and N_u = unlabelled_rows the data set's counts:
        N_l/N_u · mean ℓ(x, y) over the labelled rows + alpha·N/N_u · their mean cross-entropy + mean
        over the unlabelled rows of Σ_y q(y|x)·ℓ(x, y) − H(q(·|x))."""
        if labelled_rows < 1 or unlabelled_rows < 1:
            raise ValueError(f"SemiSupervisedVAE.loss: needs labelled and unlabelled rows, got {labelled_rows} and {unlabelled_rows}")
        k, m = self.classes, unlabelled.shape[0]
        labelled_part = self._bound(labelled, labels, generator).mean()
        logits = self(labelled)
        log_q = nn.functional.log_softmax(self(unlabelled).double(), dim=1)
        q = log_q.exp()
        ys = torch.arange(k).repeat(m)
        xs = unlabelled.repeat_interleave(k, dim=0)
        # As in latentkit, a (row, class) pair that q rules out exactly (q = 0) adds nothing: its
        # bound is not computed, since 0 · an overflowed bound is NaN in the loss and its gradient.
        keep = (q > 0).flatten()
        bounds = torch.zeros(m * k, dtype=torch.float64).index_put((keep,), self._bound(xs[keep], ys[keep], generator))
        unlabelled_part = (q * (bounds.view(m, k) + log_q)).sum(dim=1).mean()
        class_weight = float(self.latentkit_options["alpha"]) * (labelled_rows + unlabelled_rows) / unlabelled_rows
        return labelled_rows / unlabelled_rows * labelled_part + class_weight * nn.functional.cross_entropy(logits, labels) + unlabelled_part


class Classifier(nn.ModuleDict):
    """``head(body_k(…body_0(x)))``, returning logits."""

    def __init__(self, bodies: list[nn.Sequential], head: nn.Sequential, options: dict | None = None):
        super().__init__({**{f"body{i}": b for i, b in enumerate(bodies)}, "head": head})
        self.latentkit_options = dict(options or {})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for name, module in self.items():
            x = module(x)
        return x


# --- latentkit architecture -> nn.Sequential ---------------------------------------------------

def _activation(spec: Any) -> nn.Module | None:
    if spec == "linear":
        return None
    if spec == "tanh":
        return nn.Tanh()
    if spec == "sigmoid":
        return nn.Sigmoid()
    if spec == "relu":
        return nn.ReLU()
    if spec == "softplus":
        return nn.Softplus()
    if spec == "leaky-relu":
        return nn.LeakyReLU(0.01)
    if isinstance(spec, dict) and spec.get("type") == "leaky-relu":
        return nn.LeakyReLU(float(spec["alpha"]))
    raise ValueError(f"latentkit_torch: unknown activation {spec!r}")


class GaussianNoise(nn.Module):
    """latentkit's ``gaussianNoise(std)``: x + N(0, std²) in training mode, x in evaluation."""

    def __init__(self, std: float):
        super().__init__()
        self.std = float(std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.std * torch.randn_like(x) if self.training and self.std > 0 else x


class Stack(nn.Sequential):
    """A latentkit stack of layers: an nn.Sequential whose rows come in flat, as latentkit's do,
    and are seen as ``input_shape`` (an image [C, H, W], NCHW) by its first layer; its output is
    flattened back to rows. Its modules and state-dict names are the plain nn.Sequential's."""

    def __init__(self, input_shape: list[int], *modules: nn.Module):
        super().__init__(*modules)
        self.input_shape = list(input_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.reshape(x.shape[0], *self.input_shape)).flatten(1)


def _pair(v: Any) -> tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, (int, float)) else (int(v[0]), int(v[1]))


def _layer_module(spec: dict, shape: list[int], where: str) -> tuple[nn.Module, list[int]]:
    """The PyTorch module of one latentkit layer spec on input ``shape``, and its output shape."""
    t = spec["type"]
    if t == "dense":
        if len(shape) != 1:
            raise ValueError(f"latentkit_torch: {where} (dense) takes vectors, not {shape}")
        m: nn.Module = nn.Linear(shape[0], spec["units"])
        out = [spec["units"]]
    elif t in ("conv2d", "conv-transpose2d"):
        c, h, w = shape
        k, st, pd = _pair(spec["kernel"]), _pair(spec.get("stride", 1)), _pair(spec.get("padding", 0))
        if t == "conv2d":
            m = nn.Conv2d(c, spec["channels"], k, st, pd, bias=spec.get("bias", True))
            out = [spec["channels"], (h + 2 * pd[0] - k[0]) // st[0] + 1, (w + 2 * pd[1] - k[1]) // st[1] + 1]
        else:
            op = _pair(spec.get("outputPadding", 0))
            m = nn.ConvTranspose2d(c, spec["channels"], k, st, pd, op, bias=spec.get("bias", True))
            out = [spec["channels"], (h - 1) * st[0] - 2 * pd[0] + k[0] + op[0], (w - 1) * st[1] - 2 * pd[1] + k[1] + op[1]]
    elif t == "batch-norm":
        cls = nn.BatchNorm1d if len(shape) == 1 else nn.BatchNorm2d
        m = cls(shape[0], eps=spec.get("eps", 1e-5), momentum=spec.get("momentum", 0.1))
        out = shape
    elif t == "gaussian-noise":
        m, out = GaussianNoise(spec["std"]), shape
    elif t == "dropout":
        m, out = nn.Dropout(spec["rate"]), shape
    elif t == "flatten" or (t == "reshape" and len(spec["shape"]) == 1):
        m, out = nn.Flatten(), [int(torch.tensor(shape).prod())]
    elif t == "reshape":
        m, out = nn.Unflatten(1, tuple(spec["shape"])), list(spec["shape"])
    else:
        raise ValueError(f"latentkit_torch: {where} has an unknown layer type {t!r}")
    if spec.get("weightNorm"):
        m = torch.nn.utils.parametrizations.weight_norm(m, dim=0)
    return m, out


def sequential(stack: dict) -> nn.Sequential:
    """The nn.Sequential of a latentkit stack description: ``sizes``, ``activation``,
    ``outputActivation``, ``dropout`` (dense layers), or ``input`` and ``layers`` (a Stack)."""
    if "layers" in stack:
        shape = [stack["input"]] if isinstance(stack["input"], int) else list(stack["input"])
        modules: list[nn.Module] = []
        for i, spec in enumerate(stack["layers"]):
            m, shape = _layer_module(spec, shape, f"layer {i}")
            modules.append(m)
            act = _activation(spec.get("activation", "linear"))
            if act is not None:
                modules.append(act)
        return Stack([stack["input"]] if isinstance(stack["input"], int) else stack["input"], *modules)
    sizes = stack["sizes"]
    modules = []
    for i in range(len(sizes) - 1):
        hidden = i < len(sizes) - 2
        modules.append(nn.Linear(sizes[i], sizes[i + 1]))
        act = _activation(stack["activation"] if hidden else stack["outputActivation"])
        if act is not None:
            modules.append(act)
        if hidden and stack.get("dropout", 0) > 0:
            modules.append(nn.Dropout(stack["dropout"]))
    return nn.Sequential(*modules)


def io_sizes(seq: nn.Sequential) -> tuple[int, int]:
    """Values per input row and per output row of a stack."""
    if isinstance(seq, Stack):
        size = int(torch.tensor(seq.input_shape).prod())
        with torch.no_grad():
            was = seq.training
            seq.eval()
            out = seq(torch.zeros(1, size)).shape[1]
            seq.train(was)
        return size, out
    lin = _linears(seq)
    return lin[0].in_features, lin[-1].out_features


def _linears(seq: nn.Sequential) -> list[nn.Linear]:
    return [m for m in seq if isinstance(m, nn.Linear)]


def _read(source: str | bytes) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    data = source if isinstance(source, (bytes, bytearray)) else open(source, "rb").read()
    header_len = int.from_bytes(data[:8], "little")
    metadata = json.loads(data[8 : 8 + header_len]).get("__metadata__", {})
    if metadata.get("format") != FORMAT:
        raise ValueError(f"latentkit_torch: not a latentkit file (__metadata__.format is {metadata.get('format')!r})")
    if metadata.get("version") not in ("1", "2"):
        raise ValueError(f"latentkit_torch: unsupported latentkit file version {metadata.get('version')!r}")
    return _load_bytes(bytes(data)), metadata


def weights(source: str | bytes) -> tuple[dict[str, torch.Tensor], dict]:
    """The file's state dict in version-2 (nn.Sequential) names, and its architecture.

    Checkpoint state (optimizer moments, RNG, data order) is left out; a tied decoder's weights
    are materialised as the encoder's, transposed, in reverse order.
    """
    tensors, metadata = _read(source)
    arch = json.loads(metadata["architecture"])
    kind = arch["kind"]
    state: dict[str, torch.Tensor] = {}
    for name, stack in arch["modules"].items():
        seq = sequential(stack)
        if "layers" in stack:
            prefix = "" if kind == "stack" else f"{name}."
            for key in seq.state_dict():
                if f"{prefix}{key}" not in tensors:
                    raise ValueError(f"latentkit_torch: the file has no tensor {prefix}{key}")
                state[f"{prefix}{key}"] = tensors[f"{prefix}{key}"]
            continue
        indices = [i for i, m in enumerate(seq) if isinstance(m, nn.Linear)]
        prefix = "" if kind == "stack" else f"{name}."
        for layer, index in enumerate(indices):
            old = f"{name}.{layer}" if metadata["version"] == "1" else f"{prefix}{index}"
            new = f"{prefix}{index}"
            state[f"{new}.bias"] = tensors[f"{old}.bias"]
            if stack.get("tiedTo"):
                continue
            state[f"{new}.weight"] = tensors[f"{old}.weight"]
    for name, stack in arch["modules"].items():
        if not stack.get("tiedTo"):
            continue
        enc_prefix = f"{stack['tiedTo']}."
        enc_weights = [state[k] for k in sorted((k for k in state if k.startswith(enc_prefix) and k.endswith(".weight")), key=lambda k: int(k.split(".")[1]))]
        indices = [i for i, m in enumerate(sequential(stack)) if isinstance(m, nn.Linear)]
        for layer, index in enumerate(indices):
            state[f"{name}.{index}.weight"] = enc_weights[len(enc_weights) - 1 - layer].t().contiguous()
    return state, arch


def load(source: str | bytes) -> nn.Module:
    """The PyTorch module of a latentkit file (path or bytes), its weights loaded with ``strict=True``."""
    state, arch = weights(source)
    mods = {name: sequential(stack) for name, stack in arch["modules"].items()}
    kind, options = arch["kind"], arch.get("options", {})
    if kind == "stack":
        model: nn.Module = mods["layers"]
    elif kind == "autoencoder":
        model = Autoencoder(mods["encoder"], mods["decoder"], options)
    elif kind == "gan":
        model = GAN(mods["generator"], mods["discriminator"], options, mods.get("generatorEma"))
    elif kind == "classifier":
        bodies = [mods[k] for k in sorted((k for k in mods if k.startswith("body")), key=lambda k: int(k[4:]))]
        model = Classifier(bodies, mods["head"], options)
    elif kind == "vae":
        model = VAE(mods["encoder"], mods["decoder"], options)
    elif kind == "semi-supervised-gan":
        model = SemiSupervisedGAN(mods["generator"], mods["features"], mods["classes"], options, mods.get("featuresEma"), mods.get("classesEma"))
    elif kind == "semi-supervised-vae":
        model = SemiSupervisedVAE(mods["encoder"], mods["decoder"], mods["classifier"], options, mods.get("classifierEma"))
    else:
        raise ValueError(f"latentkit_torch: unknown model kind {kind!r}")
    model.load_state_dict(state, strict=True)
    return model


# --- nn.Module -> latentkit file ---------------------------------------------------------------

def _spec(module: nn.Module, where: str) -> Any:
    if isinstance(module, nn.Tanh):
        return "tanh"
    if isinstance(module, nn.Sigmoid):
        return "sigmoid"
    if isinstance(module, nn.ReLU):
        return "relu"
    if isinstance(module, nn.LeakyReLU):
        return {"type": "leaky-relu", "alpha": float(module.negative_slope)}
    if isinstance(module, nn.Softplus):
        # latentkit's softplus is ln(1 + e^x) everywhere: torch's beta 1 and a threshold past which
        # its value equals x in float32 (20 does: ln(1 + e^-20) is below half an ulp of 20).
        if module.beta != 1 or module.threshold < 20:
            raise ValueError(f"latentkit_torch.save: {where} is Softplus(beta={module.beta}, threshold={module.threshold}); latentkit's softplus is beta 1 with a threshold of at least 20")
        return "softplus"
    raise ValueError(f"latentkit_torch.save: {where} is {type(module).__name__}; latentkit stacks are made of {SUPPORTED}")


def _describe(seq: nn.Sequential, where: str) -> tuple[dict, list[tuple[torch.Tensor, torch.Tensor]]]:
    """A stack description and its (weight [out, in], bias) pairs, from Linear [activation] [Dropout] groups."""
    if not isinstance(seq, nn.Sequential):
        raise ValueError(f"latentkit_torch.save: {where} must be an nn.Sequential, got {type(seq).__name__}")
    groups: list[dict] = []
    for i, m in enumerate(seq):
        at = f"{where}[{i}]" if where else f"module {i}"
        if isinstance(m, nn.Identity):
            continue
        if isinstance(m, nn.Linear):
            groups.append({"linear": m, "act": "linear", "dropout": 0.0})
        elif not groups:
            raise ValueError(f"latentkit_torch.save: {at} ({type(m).__name__}) comes before any Linear")
        elif isinstance(m, nn.Dropout):
            groups[-1]["dropout"] = float(m.p)
        elif groups[-1]["act"] != "linear":
            raise ValueError(f"latentkit_torch.save: {at} is a second activation after one Linear")
        else:
            groups[-1]["act"] = _spec(m, at)
    if not groups:
        raise ValueError(f"latentkit_torch.save: {where or 'the model'} has no Linear layer")
    sizes = [groups[0]["linear"].in_features]
    for g in groups:
        if g["linear"].in_features != sizes[-1]:
            raise ValueError(f"latentkit_torch.save: {where} has a Linear of {g['linear'].in_features} inputs after one of {sizes[-1]} outputs")
        sizes.append(g["linear"].out_features)
    hidden = groups[:-1]
    acts = {json.dumps(g["act"]) for g in hidden}
    drops = {g["dropout"] for g in hidden}
    if len(acts) > 1:
        raise ValueError(f"latentkit_torch.save: {where} mixes hidden activations {sorted(acts)}; a latentkit stack has one")
    if len(drops) > 1:
        raise ValueError(f"latentkit_torch.save: {where} has different dropout rates {sorted(drops)}; a latentkit stack has one")
    if groups[-1]["dropout"] > 0:
        raise ValueError(f"latentkit_torch.save: {where} has Dropout after its output layer; latentkit drops hidden outputs only")
    stack: dict = {"sizes": sizes, "activation": json.loads(acts.pop()) if hidden else "relu", "outputActivation": groups[-1]["act"]}
    if hidden and drops.pop() > 0:
        stack["dropout"] = hidden[0]["dropout"]
    params = []
    for g in groups:
        lin = g["linear"]
        bias = lin.bias if lin.bias is not None else torch.zeros(lin.out_features)
        params.append((lin.weight.detach(), bias.detach()))
    return stack, params


def _describe_layers(seq: Stack, where: str) -> dict:
    """The latentkit description of a Stack: its input shape and one layer spec per module, each
    activation module folded into the layer before it."""
    layers: list[dict] = []
    for i, m in enumerate(seq):
        at = f"{where}[{i}]"
        normed = hasattr(m, "parametrizations") and "weight" in m.parametrizations
        if normed and m.parametrizations.weight[0].dim != 0:
            raise ValueError(f"latentkit_torch.save: {at} normalises its weight over dim {m.parametrizations.weight[0].dim}; latentkit's weight norm is weight_norm(dim=0)")
        spec: dict
        if isinstance(m, nn.Linear):
            spec = {"type": "dense", "units": m.out_features}
        elif isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            if m.dilation != (1, 1) or m.groups != 1 or m.padding_mode != "zeros" or isinstance(m.padding, str):
                raise ValueError(f"latentkit_torch.save: {at} uses dilation, groups or padding modes, which latentkit's convolutions have not")
            spec = {"type": "conv2d" if isinstance(m, nn.Conv2d) else "conv-transpose2d", "channels": m.out_channels, "kernel": list(m.kernel_size), "stride": list(m.stride), "padding": list(m.padding)}
            if isinstance(m, nn.ConvTranspose2d) and tuple(m.output_padding) != (0, 0):
                spec["outputPadding"] = list(m.output_padding)
            if m.bias is None:
                spec["bias"] = False
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            if not (m.affine and m.track_running_stats) or m.momentum is None:
                raise ValueError(f"latentkit_torch.save: {at} needs affine=True, track_running_stats=True and a momentum")
            spec = {"type": "batch-norm"}
            if m.momentum != 0.1:
                spec["momentum"] = m.momentum
            if m.eps != 1e-5:
                spec["eps"] = m.eps
        elif isinstance(m, GaussianNoise):
            spec = {"type": "gaussian-noise", "std": m.std}
        elif isinstance(m, nn.Dropout):
            spec = {"type": "dropout", "rate": float(m.p)}
        elif isinstance(m, nn.Flatten):
            spec = {"type": "flatten"}
        elif isinstance(m, nn.Unflatten):
            spec = {"type": "reshape", "shape": list(m.unflattened_size)}
        elif layers and "activation" not in layers[-1] and layers[-1]["type"] not in ("flatten", "reshape", "gaussian-noise", "dropout"):
            layers[-1]["activation"] = _spec(m, at)
            continue
        else:
            raise ValueError(f"latentkit_torch.save: {at} ({type(m).__name__}) is not a latentkit layer, nor an activation after one")
        if normed:
            spec["weightNorm"] = True
        layers.append(spec)
    return {"input": seq.input_shape, "layers": layers}


def save(model: nn.Module, path: str | None = None) -> bytes:
    """Writes ``model`` as a latentkit file (returns its bytes; also writes ``path`` if given).

    ``model``: an nn.Sequential (a latentkit stack), or an Autoencoder, GAN, VAE, Classifier,
    SemiSupervisedGAN or SemiSupervisedVAE of this module, or any ModuleDict with encoder/decoder, generator/discriminator or body0…/head.
    """
    if isinstance(model, nn.Sequential):  # a Stack is one too
        kind, named = "stack", {"layers": model}
    elif isinstance(model, VAE):
        kind, named = "vae", dict(model.items())
    elif isinstance(model, SemiSupervisedGAN):
        kind, named = "semi-supervised-gan", dict(model.items())
    elif isinstance(model, SemiSupervisedVAE):
        kind, named = "semi-supervised-vae", dict(model.items())
    elif isinstance(model, nn.ModuleDict):
        keys = set(model.keys())
        if keys == {"encoder", "decoder"}:
            kind = "autoencoder"
        elif keys in ({"generator", "discriminator"}, {"generator", "discriminator", "generatorEma"}):
            kind = "gan"
        elif "head" in keys and all(k == "head" or (k.startswith("body") and k[4:].isdigit()) for k in keys):
            kind = "classifier"
        else:
            raise ValueError(f"latentkit_torch.save: a ModuleDict needs encoder/decoder, generator/discriminator or body0…/head, got {sorted(keys)}")
        named = dict(model.items())
    else:
        raise ValueError(f"latentkit_torch.save: expected an nn.Sequential or a ModuleDict, got {type(model).__name__}")
    modules, tensors = {}, {}
    for name, seq in named.items():
        if isinstance(seq, Stack):
            prefix = "" if kind == "stack" else f"{name}."
            modules[name] = _describe_layers(seq, name)
            for key, value in seq.state_dict().items():
                tensors[f"{prefix}{key}"] = value.detach().contiguous() if value.dtype == torch.int64 else value.detach().to(torch.float32).contiguous()
            continue
        stack, params = _describe(seq, "" if kind == "stack" else name)
        modules[name] = stack
        prefix = "" if kind == "stack" else f"{name}."
        indices = [i for i, m in enumerate(sequential(stack)) if isinstance(m, nn.Linear)]
        for index, (w, b) in zip(indices, params):
            tensors[f"{prefix}{index}.weight"] = w.to(torch.float32).contiguous()
            tensors[f"{prefix}{index}.bias"] = b.to(torch.float32).contiguous()
    options = dict(getattr(model, "latentkit_options", {}))
    if kind == "gan":
        options.setdefault("noise", {"dim": io_sizes(named["generator"])[0] - int(options.get("conditions", 0)), "distribution": "normal"})
        if "generatorEma" in modules and "ema" not in options:
            raise ValueError("latentkit_torch.save: a GAN with generatorEma needs its decay: set model.latentkit_options['ema'] = {'decay': ...}")
    if kind.startswith("semi-supervised") and any(name.endswith("Ema") for name in modules) and "ema" not in options:
        raise ValueError(f"latentkit_torch.save: a {kind} model with moving averages needs their decay: set model.latentkit_options['ema'] = {{'decay': ...}}")
    arch = {"kind": kind, "modules": modules, "options": options}
    data = _save_bytes(tensors, metadata={"format": FORMAT, "version": VERSION, "kind": kind, "architecture": json.dumps(arch)})
    if path is not None:
        with open(path, "wb") as f:
            f.write(data)
    return data


# --- checkpoints with their optimizers ---------------------------------------------------------
#
# A latentkit checkpoint holds, beside the weights, each optimizer's state as one flat tensor per
# module and slot (``optimizer.encoder.state0``), laid out as latentkit's parameter buffer: per
# layer, the weight as [in, out] row-major, then the bias. The JSON under ``__metadata__.checkpoint``
# has each optimizer's step count, the RNG states and the data cursor.
#
# The update rules are optax's; torch.optim's match them as follows:
#   adam    -> torch.optim.Adam(lr, betas=(beta1, beta2), eps): the same update (eps outside the root,
#              bias corrections 1 − βᵗ); m and v are exp_avg and exp_avg_sq, the step count is `step`.
#   adamw   -> torch.optim.AdamW(..., weight_decay): the same decoupled decay, p ← p − lr·λ·p.
#   sgd     -> torch.optim.SGD(lr, momentum, nesterov, dampening=0): v ← g + μ·v is the momentum
#              buffer (momentum 0 has no state).
#   rmsprop -> latentkit_torch.RMSprop (below): optax puts eps inside the root, p ← p − lr·g/√(ν + ε),
#              torch.optim.RMSprop outside it, p ← p − lr·g/(√ν + ε). No eps makes the two agree for
#              every ν, so the checkpoint loads into this subclass of torch.optim.Optimizer; save_checkpoint
#              refuses torch.optim.RMSprop rather than change the update silently.
#   clipNorm -> no torch.optim equivalent: call torch.nn.utils.clip_grad_norm_(params, clip_norm)
#              before step(); load_checkpoint records it as optimizer.latentkit_clip_norm.

_OPTIMIZED = {
    "stack": {},
    "autoencoder": {"optimizer": ["encoder", "decoder"]},
    "gan": {"optimizerD": ["discriminator"], "optimizerG": ["generator"]},
    "vae": {"optimizer": ["encoder", "decoder"]},
    "semi-supervised-gan": {"optimizerD": ["features", "classes"], "optimizerG": ["generator"]},
    "semi-supervised-vae": {"optimizer": ["encoder", "decoder", "classifier"]},
}


class RMSprop(torch.optim.Optimizer):
    """RMSprop as optax and latentkit define it: ν ← ρ·ν + (1 − ρ)·g²; p ← p − lr·g/√(ν + ε)."""

    def __init__(self, params, lr: float = 1e-3, decay: float = 0.9, eps: float = 1e-8):
        if not (lr > 0 and 0 <= decay < 1 and eps > 0):
            raise ValueError(f"latentkit_torch.RMSprop: lr {lr} must be > 0, decay {decay} in [0, 1), eps {eps} > 0")
        super().__init__(params, {"lr": lr, "decay": decay, "eps": eps})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = torch.tensor(0.0)
                    state["square_avg"] = torch.zeros_like(p)
                state["step"] += 1
                nu = state["square_avg"]
                nu.mul_(group["decay"]).addcmul_(p.grad, p.grad, value=1 - group["decay"])
                p.addcdiv_(p.grad, (nu + group["eps"]).sqrt(), value=-group["lr"])
        return loss


def _modules_of(kind: str, names: list[str]) -> dict[str, list[str]]:
    if kind == "classifier":
        return {"optimizer": sorted((n for n in names if n.startswith("body")), key=lambda n: int(n[4:])) + ["head"]}
    if kind not in _OPTIMIZED:
        raise ValueError(f"latentkit_torch: unknown model kind {kind!r}")
    return _OPTIMIZED[kind]


def _flat_layout(seq: nn.Sequential) -> list[tuple[nn.Parameter, int, bool]]:
    """Each trained parameter's (tensor, offset, stored as [in, out]) in latentkit's flat parameter
    buffer of this stack: per layer, the weight (a Linear's transposed, to [in, out]; with weight
    norm, v), the bias, then g with weight norm; batch norm's weight then bias."""
    out, offset = [], 0
    for m in seq:
        normed = hasattr(m, "parametrizations") and "weight" in m.parametrizations
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            w = m.parametrizations.weight.original1 if normed else m.weight
            order = [(w, isinstance(m, nn.Linear))] + ([(m.bias, False)] if m.bias is not None else []) + ([(m.parametrizations.weight.original0, False)] if normed else [])
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            order = [(m.weight, False), (m.bias, False)]
        else:
            continue
        for p, transposed in order:
            out.append((p, offset, transposed))
            offset += p.numel()
    return out


def _flat_to_params(flat: torch.Tensor, seq: nn.Sequential) -> dict[nn.Parameter, torch.Tensor]:
    got = {}
    for p, at, transposed in _flat_layout(seq):
        part = flat[at : at + p.numel()]
        got[p] = (part.reshape(p.shape[1], p.shape[0]).t() if transposed else part.reshape(p.shape)).contiguous().clone()
    return got


def _params_to_flat(values: dict[nn.Parameter, torch.Tensor], seq: nn.Sequential) -> torch.Tensor:
    parts = []
    for p, _, transposed in _flat_layout(seq):
        v = values[p].detach()
        parts.append((v.t() if transposed else v).reshape(-1))
    return torch.cat(parts).to(torch.float32).contiguous()


def _slots(spec: dict) -> list[str]:
    t = spec["type"]
    if t in ("adam", "adamw"):
        return ["exp_avg", "exp_avg_sq"]
    if t == "rmsprop":
        return ["square_avg"]
    if t == "sgd":
        return ["momentum_buffer"] if spec.get("momentum", 0) > 0 else []
    raise ValueError(f"latentkit_torch: unknown optimizer type {t!r}")


def _torch_optimizer(spec: dict, params: list[nn.Parameter]) -> torch.optim.Optimizer:
    t = spec["type"]
    betas = (spec.get("beta1", 0.9), spec.get("beta2", 0.999))
    if t == "adam":
        opt: torch.optim.Optimizer = torch.optim.Adam(params, lr=spec["lr"], betas=betas, eps=spec.get("eps", 1e-8))
    elif t == "adamw":
        opt = torch.optim.AdamW(params, lr=spec["lr"], betas=betas, eps=spec.get("eps", 1e-8), weight_decay=spec.get("weightDecay", 1e-4))
    elif t == "sgd":
        opt = torch.optim.SGD(params, lr=spec["lr"], momentum=spec.get("momentum", 0), nesterov=bool(spec.get("nesterov", False)))
    elif t == "rmsprop":
        opt = RMSprop(params, lr=spec["lr"], decay=spec.get("decay", 0.9), eps=spec.get("eps", 1e-8))
    else:
        raise ValueError(f"latentkit_torch: unknown optimizer type {t!r}")
    opt.latentkit_clip_norm = float(spec.get("clipNorm", 0) or 0)
    return opt


def _spec_of(opt: torch.optim.Optimizer, where: str) -> dict:
    if len(opt.param_groups) != 1:
        raise ValueError(f"latentkit_torch.save_checkpoint: {where} has {len(opt.param_groups)} parameter groups; latentkit optimizers have one")
    g = opt.param_groups[0]
    clip = float(getattr(opt, "latentkit_clip_norm", 0) or 0)
    if isinstance(opt, torch.optim.AdamW) or isinstance(opt, torch.optim.Adam):
        if g.get("amsgrad") or g.get("maximize"):
            raise ValueError(f"latentkit_torch.save_checkpoint: {where} uses amsgrad or maximize, which latentkit's Adam has not")
        adamw = isinstance(opt, torch.optim.AdamW) or bool(g.get("decoupled_weight_decay"))
        if not adamw and g["weight_decay"] != 0:
            raise ValueError(f"latentkit_torch.save_checkpoint: {where} is Adam with L2 weight_decay {g['weight_decay']}; latentkit has decoupled decay only (use AdamW)")
        spec = {"type": "adamw" if adamw else "adam", "lr": g["lr"], "beta1": g["betas"][0], "beta2": g["betas"][1], "eps": g["eps"]}
        if adamw:
            spec["weightDecay"] = g["weight_decay"]
    elif isinstance(opt, torch.optim.SGD):
        if g["dampening"] != 0 or g["weight_decay"] != 0 or g.get("maximize"):
            raise ValueError(f"latentkit_torch.save_checkpoint: {where} is SGD with dampening, weight_decay or maximize, which latentkit's SGD has not")
        spec = {"type": "sgd", "lr": g["lr"], "momentum": g["momentum"], "nesterov": bool(g["nesterov"])}
    elif isinstance(opt, RMSprop):
        spec = {"type": "rmsprop", "lr": g["lr"], "decay": g["decay"], "eps": g["eps"]}
    elif isinstance(opt, torch.optim.RMSprop):
        raise ValueError(f"latentkit_torch.save_checkpoint: {where} is torch.optim.RMSprop, whose eps sits outside the root; use latentkit_torch.RMSprop (eps inside, as latentkit)")
    else:
        raise ValueError(f"latentkit_torch.save_checkpoint: {where} is {type(opt).__name__}; latentkit has Adam, AdamW, SGD and latentkit_torch.RMSprop")
    spec["clipNorm"] = clip
    return spec


def _splitmix_state(seed: int) -> list[int]:
    """xoshiro128**'s state from a 64-bit seed through splitmix64, as latentkit's Rng(seed)."""
    mask = (1 << 64) - 1
    state, words = seed & mask, []
    for _ in range(2):
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        z ^= z >> 31
        words += [z & 0xFFFFFFFF, z >> 32]
    return words if any(words) else [1, 0, 0, 0]


def load_checkpoint(source: str | bytes):
    """A latentkit checkpoint as ``(model, optimizer)``: the module of ``load`` and a torch.optim
    optimizer over its trained parameters whose state holds latentkit's moments and step count, so
    that the next step equals latentkit's next step on the same minibatch (to float rounding).
    For a GAN, ``optimizer`` is ``{"discriminator": …, "generator": …}``. The checkpoint's RNG
    states and data order ride along in ``model.latentkit_checkpoint`` for ``save_checkpoint``."""
    try:
        tensors, metadata = _read(source)
    except ValueError:
        raise
    except Exception as e:  # safetensors' own parse errors, a truncated header, bad JSON
        raise ValueError(f"latentkit_torch.load_checkpoint: not a readable latentkit file ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None
    if "checkpoint" not in metadata:
        raise ValueError("latentkit_torch.load_checkpoint: this file has weights only (latentkit's save); write it with checkpoint() to carry the optimizer")
    state = json.loads(metadata["checkpoint"])
    arch = json.loads(metadata["architecture"])
    if any(m.get("tiedTo") for m in arch["modules"].values()):
        raise ValueError("latentkit_torch.load_checkpoint: a tied autoencoder shares one weight between encoder and decoder, which nn.Sequential cannot; untie it in latentkit first")
    model = load(source)
    stacks = {name: (model if arch["kind"] == "stack" else model[name]) for name in arch["modules"]}
    optimizers = {}
    for opt_name, module_names in _modules_of(arch["kind"], list(arch["modules"])).items():
        spec = arch["options"][opt_name]
        spec = {"type": spec} if isinstance(spec, str) else spec
        params = [p for n in module_names for p in stacks[n].parameters()]
        opt = _torch_optimizer(spec, params)
        steps = state.get("optimizers", {}).get(opt_name, {}).get("steps")
        if not isinstance(steps, int) or steps < 0:
            raise ValueError(f"latentkit_torch.load_checkpoint: corrupt checkpoint, no step count for {opt_name}")
        for n in module_names:
            per_slot = []
            for slot, key in enumerate(_slots(spec)):
                name = f"{opt_name}.{n}.state{slot}"
                flat = tensors.get(name)
                count = sum(p.numel() for p in stacks[n].parameters())
                if flat is None or flat.numel() != count:
                    raise ValueError(f"latentkit_torch.load_checkpoint: tensor {name} is {'missing' if flat is None else f'{flat.numel()} values'}, the optimizer needs {count}")
                per_slot.append((key, _flat_to_params(flat, stacks[n])))
            if steps == 0:
                continue  # torch creates the state on its first step, as latentkit's zeros
            for p in stacks[n].parameters():
                st = {key: values[p] for key, values in per_slot}
                if spec["type"] != "sgd":
                    st["step"] = torch.tensor(float(steps))
                opt.state[p] = st
        opt.latentkit_steps_at_load = steps
        _count_steps(opt)
        optimizers[opt_name] = opt
    model.latentkit_checkpoint = {"state": state, "order": tensors.get("state.order"), "labelledOrder": tensors.get("state.labelledOrder")}
    if arch["kind"] == "classifier":
        # A body frozen in latentkit stays frozen: torch's optimizers skip parameters without gradients.
        for i, frozen in enumerate(arch["options"].get("frozenBody", [])):
            if frozen:
                model[f"body{i}"].requires_grad_(False)
    if arch["kind"] in ("gan", "semi-supervised-gan"):
        return model, {"discriminator": optimizers["optimizerD"], "generator": optimizers["optimizerG"]}
    return model, optimizers.get("optimizer")


def train_step(optimizer: torch.optim.Optimizer, loss_fn) -> float:
    """One latentkit-style update: zero the gradients, ``loss_fn()`` backward, clip the global
    gradient norm when the checkpoint's optimizer did (``clipNorm``), step. Returns the loss."""
    optimizer.zero_grad(set_to_none=True)
    loss = loss_fn()
    loss.backward()
    clip = float(getattr(optimizer, "latentkit_clip_norm", 0) or 0)
    if clip > 0:
        torch.nn.utils.clip_grad_norm_([p for g in optimizer.param_groups for p in g["params"]], clip)
    optimizer.step()
    return float(loss.detach())


def _count_steps(opt: torch.optim.Optimizer) -> None:
    """SGD keeps no step count in its state; a hook counts its steps for the checkpoint's counters."""
    opt.latentkit_steps_since_load = 0

    def counted(optimizer, args, kwargs):
        optimizer.latentkit_steps_since_load += 1

    opt.register_step_post_hook(counted)


def _steps_of(opt: torch.optim.Optimizer) -> int:
    steps = set()
    for p, st in opt.state.items():
        if "step" in st:
            steps.add(int(st["step"]))
    if len(steps) > 1:
        raise ValueError(f"latentkit_torch.save_checkpoint: the optimizer's parameters have taken different step counts {sorted(steps)}; latentkit keeps one")
    if steps:
        return steps.pop()
    # SGD keeps no count: what the checkpoint had plus the steps counted since (0 for an optimizer made in PyTorch).
    return int(getattr(opt, "latentkit_steps_at_load", 0)) + int(getattr(opt, "latentkit_steps_since_load", 0))


def save_checkpoint(model: nn.Module, optimizer, path: str | None = None, seed: int = 0) -> bytes:
    """Writes a latentkit checkpoint of ``model`` and its optimizer (for a GAN, the dict
    ``{"discriminator": …, "generator": …}``) that latentkit's ``load``/``--resume`` continues.
    The RNG states and data order come from the checkpoint the model was loaded from, or are seeded
    from ``seed`` for a model built in PyTorch. SGD keeps no step count in torch: an optimizer from
    ``load_checkpoint`` counts its steps itself; one made in PyTorch starts latentkit's count at 0
    (SGD's update does not depend on it)."""
    data = save(model)
    tensors, metadata = _read(data)
    arch = json.loads(metadata["architecture"])
    kind = arch["kind"]
    if kind == "stack":
        raise ValueError("latentkit_torch.save_checkpoint: a lone nn.Sequential has no optimizer in latentkit; wrap it as an Autoencoder, GAN or Classifier, or use save()")
    opts = {"optimizerD": optimizer["discriminator"], "optimizerG": optimizer["generator"]} if kind in ("gan", "semi-supervised-gan") else {"optimizer": optimizer}
    stacks = {name: model[name] for name in arch["modules"]}
    previous = getattr(model, "latentkit_checkpoint", None)
    old = dict(previous["state"]) if previous else {}
    state: dict = {"optimizers": {}}
    deltas = {}
    for opt_name, module_names in _modules_of(kind, list(arch["modules"])).items():
        opt = opts[opt_name]
        if not isinstance(opt, torch.optim.Optimizer):
            raise ValueError(f"latentkit_torch.save_checkpoint: expected a torch.optim optimizer for {opt_name}, got {type(opt).__name__}")
        spec = _spec_of(opt, opt_name)
        arch["options"][opt_name] = spec
        owned = {id(p) for g in opt.param_groups for p in g["params"]}
        for n in module_names:
            missing = [pn for pn, p in stacks[n].named_parameters() if id(p) not in owned]
            if missing:
                raise ValueError(f"latentkit_torch.save_checkpoint: {opt_name} does not hold {n}'s parameters {missing[:3]}")
        steps = _steps_of(opt)
        deltas[opt_name] = steps - int(getattr(opt, "latentkit_steps_at_load", 0))
        state["optimizers"][opt_name] = {"steps": steps}
        for n in module_names:
            for slot, key in enumerate(_slots(spec)):
                values = {p: (opt.state[p][key] if p in opt.state and opt.state[p].get(key) is not None else torch.zeros_like(p)) for p in stacks[n].parameters()}
                tensors[f"{opt_name}.{n}.state{slot}"] = _params_to_flat(values, stacks[n])
    # Counters: latentkit's steps (autoencoder steps, GAN iterations) move with the optimizer.
    moved = deltas.get("optimizerG", deltas.get("optimizer", 0))
    state["steps"] = int(old.get("steps", 0)) + moved
    for counter in ("epochs", "cursor", "labelledCursor"):
        if counter in old:
            state[counter] = old[counter]
    state["rng"] = old.get("rng") or _splitmix_state(seed)
    dropout = {n: s for n, s in (old.get("dropoutRng") or {}).items() if n in stacks}
    for i, (n, m) in enumerate(arch["modules"].items()):
        noisy = m.get("dropout", 0) > 0 or any(l.get("type") in ("gaussian-noise", "dropout") for l in m.get("layers", []))
        if noisy and n not in dropout:
            dropout[n] = _splitmix_state(seed ^ 0xD5A61266F0C9392C ^ (i + 1))
    if dropout:
        state["dropoutRng"] = dropout
    if previous is not None and previous.get("order") is not None:
        tensors["state.order"] = previous["order"]
    if previous is not None and previous.get("labelledOrder") is not None:
        tensors["state.labelledOrder"] = previous["labelledOrder"]
    metadata = {**metadata, "architecture": json.dumps(arch), "checkpoint": json.dumps(state)}
    out = _save_bytes({k: v.contiguous() for k, v in tensors.items()}, metadata=metadata)
    if path is not None:
        with open(path, "wb") as f:
            f.write(out)
    return out
