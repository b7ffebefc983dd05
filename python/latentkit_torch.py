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
"""

from __future__ import annotations

import json
from typing import Any

import torch
from safetensors.torch import load as _load_bytes
from safetensors.torch import save as _save_bytes
from torch import nn

__all__ = ["Autoencoder", "GAN", "Classifier", "load", "save", "sequential", "weights"]

FORMAT = "latentkit"
VERSION = "2"
SUPPORTED = "Linear, Tanh, Sigmoid, ReLU, LeakyReLU and Dropout"


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
        if self.conditions == 0:
            if labels is not None:
                raise ValueError("labels are for a conditional GAN; this one is unconditional")
            return x
        if labels is None:
            raise ValueError(f"this GAN is conditioned on {self.conditions} classes: pass labels, one per row")
        labels = torch.as_tensor(labels, dtype=torch.long)
        if labels.shape != (x.shape[0],):
            raise ValueError(f"labels have shape {tuple(labels.shape)}, expected ({x.shape[0]},)")
        return torch.cat([x, nn.functional.one_hot(labels, self.conditions).to(x.dtype)], dim=1)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self["generator"](self._with_labels(z, labels))

    def discriminate(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """The discriminator's logit for x (and its labels, when conditional)."""
        return self["discriminator"](self._with_labels(x, labels))


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

    ``model``: an nn.Sequential (a latentkit stack), or an Autoencoder, GAN or Classifier of this
    module, or any ModuleDict with encoder/decoder, generator/discriminator or body0…/head.
    """
    if isinstance(model, nn.Sequential):
        kind, named = "stack", {"layers": model}
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
