"""latentkit files as idiomatic PyTorch modules, both ways.

A latentkit file (``save``/``checkpoint`` in TypeScript, or the CLI's ``--out``) is safetensors:
each stack an ``nn.Sequential`` of ``Linear`` and activation modules, inside a ``ModuleDict`` of
``encoder``/``decoder``, ``generator``/``discriminator`` or ``body0``…/``head``; the architecture
is in the file's metadata. Needs only ``torch`` and ``safetensors``.

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

__all__ = ["Autoencoder", "GAN", "Classifier", "VAE", "RMSprop", "load", "save", "sequential", "weights", "load_checkpoint", "save_checkpoint", "train_step"]

FORMAT = "latentkit"
VERSION = "2"
SUPPORTED = "Linear, Tanh, Sigmoid, ReLU, LeakyReLU and Dropout"


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
        self.latentkit_options.setdefault("noise", {"dim": _linears(generator)[0].in_features - self.conditions, "distribution": "normal"})

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
        decay = float(self.latentkit_options["ema"]["decay"])
        for avg, p in zip(self["generatorEma"].parameters(), self["generator"].parameters()):
            avg.mul_(decay).add_(p, alpha=1 - decay)


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
        self.latent = _linears(encoder)[-1].out_features // 2
        self.features = _linears(encoder)[0].in_features - self.conditions

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
        lik = self.latentkit_options["likelihood"]
        if lik == "bernoulli":
            return nn.functional.binary_cross_entropy_with_logits(out, x, reduction="none").sum(dim=1)
        ln2pi = torch.log(torch.tensor(2 * torch.pi, dtype=x.dtype))
        if lik["variance"] == "learned":
            mean, lv = out[:, : self.features], out[:, self.features :]
        else:
            mean, lv = out, torch.full_like(out, float(torch.log(torch.tensor(float(lik["variance"])))))
        return (0.5 * ((x - mean) ** 2 * torch.exp(-lv) + lv + ln2pi)).sum(dim=1)

    def training_loss(self, x: torch.Tensor, labels: torch.Tensor | None = None, generator: torch.Generator | None = None, weight: float | None = None) -> torch.Tensor:
        """latentkit's objective on a minibatch: mean over rows of −log p(x|z) + weight·KL(q ‖ N(0, I)),
        z = μ + σ·ε with torch's ε; weight defaults to β (latentkit's warm-up is the caller's)."""
        mu, logvar = self._stats(x, labels)
        z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
        out = self["decoder"](self._with_labels(z, labels))
        kl = 0.5 * (mu**2 + torch.exp(logvar) - 1 - logvar).sum(dim=1)
        w = float(self.latentkit_options.get("beta", 1)) if weight is None else weight
        return (self._nll(x, out) + w * kl).mean()


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
    if spec == "leaky-relu":
        return nn.LeakyReLU(0.01)
    if isinstance(spec, dict) and spec.get("type") == "leaky-relu":
        return nn.LeakyReLU(float(spec["alpha"]))
    raise ValueError(f"latentkit_torch: unknown activation {spec!r}")


def sequential(stack: dict) -> nn.Sequential:
    """The nn.Sequential of a latentkit stack description (``sizes``, ``activation``, ``outputActivation``, ``dropout``)."""
    sizes = stack["sizes"]
    modules: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        hidden = i < len(sizes) - 2
        modules.append(nn.Linear(sizes[i], sizes[i + 1]))
        act = _activation(stack["activation"] if hidden else stack["outputActivation"])
        if act is not None:
            modules.append(act)
        if hidden and stack.get("dropout", 0) > 0:
            modules.append(nn.Dropout(stack["dropout"]))
    return nn.Sequential(*modules)


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


def save(model: nn.Module, path: str | None = None) -> bytes:
    """Writes ``model`` as a latentkit file (returns its bytes; also writes ``path`` if given).

    ``model``: an nn.Sequential (a latentkit stack), or an Autoencoder, GAN, VAE or Classifier of
    this module, or any ModuleDict with encoder/decoder, generator/discriminator or body0…/head.
    """
    if isinstance(model, nn.Sequential):
        kind, named = "stack", {"layers": model}
    elif isinstance(model, VAE):
        kind, named = "vae", dict(model.items())
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
        stack, params = _describe(seq, "" if kind == "stack" else name)
        modules[name] = stack
        prefix = "" if kind == "stack" else f"{name}."
        indices = [i for i, m in enumerate(sequential(stack)) if isinstance(m, nn.Linear)]
        for index, (w, b) in zip(indices, params):
            tensors[f"{prefix}{index}.weight"] = w.to(torch.float32).contiguous()
            tensors[f"{prefix}{index}.bias"] = b.to(torch.float32).contiguous()
    options = dict(getattr(model, "latentkit_options", {}))
    if kind == "gan":
        options.setdefault("noise", {"dim": modules["generator"]["sizes"][0] - int(options.get("conditions", 0)), "distribution": "normal"})
        if "generatorEma" in modules and "ema" not in options:
            raise ValueError("latentkit_torch.save: a GAN with generatorEma needs its decay: set model.latentkit_options['ema'] = {'decay': ...}")
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


def _linear_params(seq: nn.Sequential) -> list[tuple[nn.Linear, int, int]]:
    """(layer, weight offset, bias offset) in latentkit's flat parameter buffer of this stack."""
    out, offset = [], 0
    for lin in _linears(seq):
        w = lin.in_features * lin.out_features
        out.append((lin, offset, offset + w))
        offset += w + lin.out_features
    return out


def _flat_to_params(flat: torch.Tensor, seq: nn.Sequential) -> dict[nn.Parameter, torch.Tensor]:
    got = {}
    for lin, w_at, b_at in _linear_params(seq):
        n_in, n_out = lin.in_features, lin.out_features
        got[lin.weight] = flat[w_at : w_at + n_in * n_out].reshape(n_in, n_out).t().contiguous().clone()
        got[lin.bias] = flat[b_at : b_at + n_out].clone()
    return got


def _params_to_flat(values: dict[nn.Parameter, torch.Tensor], seq: nn.Sequential) -> torch.Tensor:
    parts = []
    for lin, _, _ in _linear_params(seq):
        parts += [values[lin.weight].detach().t().reshape(-1), values[lin.bias].detach().reshape(-1)]
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
    model.latentkit_checkpoint = {"state": state, "order": tensors.get("state.order")}
    if arch["kind"] == "classifier":
        # A body frozen in latentkit stays frozen: torch's optimizers skip parameters without gradients.
        for i, frozen in enumerate(arch["options"].get("frozenBody", [])):
            if frozen:
                model[f"body{i}"].requires_grad_(False)
    if arch["kind"] == "gan":
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
    opts = {"optimizerD": optimizer["discriminator"], "optimizerG": optimizer["generator"]} if kind == "gan" else {"optimizer": optimizer}
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
    for counter in ("epochs", "cursor"):
        if counter in old:
            state[counter] = old[counter]
    state["rng"] = old.get("rng") or _splitmix_state(seed)
    dropout = {n: s for n, s in (old.get("dropoutRng") or {}).items() if n in stacks}
    for i, (n, m) in enumerate(arch["modules"].items()):
        if m.get("dropout", 0) > 0 and n not in dropout:
            dropout[n] = _splitmix_state(seed ^ 0xD5A61266F0C9392C ^ (i + 1))
    if dropout:
        state["dropoutRng"] = dropout
    if previous is not None and previous.get("order") is not None:
        tensors["state.order"] = previous["order"]
    metadata = {**metadata, "architecture": json.dumps(arch), "checkpoint": json.dumps(state)}
    out = _save_bytes({k: v.contiguous() for k, v in tensors.items()}, metadata=metadata)
    if path is not None:
        with open(path, "wb") as f:
            f.write(out)
    return out
