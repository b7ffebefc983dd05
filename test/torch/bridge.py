"""PyTorch's side of test/torch.test.ts: runs latentkit files in PyTorch and writes PyTorch models
as latentkit files. Arrays travel as raw little-endian float32 files.

    bridge.py forward  MODEL X OUT [M]  lt.load(MODEL), its forward (or module M's) on X -> OUT;
                                        also loads the file with strict=True into hand-written
                                        nn.Sequentials
    bridge.py export   DIR              seeded PyTorch models -> DIR/{ae,gan,clf}.safetensors,
                                        with inputs and PyTorch's outputs beside them
    bridge.py finetune CKPT X STEPS     trains the checkpoint's autoencoder in PyTorch with Adam;
                                        prints the losses as JSON
    bridge.py cgan MODEL Z LABELS X OUT  a conditional GAN: model(z, labels) -> OUT.g.f32,
                                        model.discriminate(x, labels) -> OUT.d.f32, and the model
                                        saved again by latentkit_torch -> OUT.safetensors
    bridge.py step CKPT X1 X2 OUT       lt.load_checkpoint, one step on X1 -> OUT.after1.safetensors,
                                        lt.save_checkpoint -> OUT.ckpt, one step on X2 ->
                                        OUT.after2.safetensors; and the checkpoint saved straight
                                        after loading -> OUT.same.ckpt
    bridge.py vae MODEL X LABELS OUT    a (conditional) VAE: encode -> OUT.code.f32, decode(encode) ->
                                        OUT.rec.f32, saved again -> OUT.safetensors
    bridge.py gan CKPT X ITERS OUT      a GAN checkpoint: saved straight after loading ->
                                        OUT.same.ckpt; ITERS Algorithm-1 iterations on X with both
                                        optimizers and the moving average -> OUT.ckpt
    bridge.py ssgan CKPT X LABELS L ITERS OUT  a semi-supervised GAN checkpoint (with its moving average): saved straight
                                        after loading -> OUT.same.ckpt, its logits on X ->
                                        OUT.logits.f32; ITERS iterations with the first L rows of X
                                        labelled and all of X unlabelled -> OUT.ckpt
    bridge.py m2 MODEL X LABELS L W OUT a semi-supervised VAE: its loss with the first L rows of X
                                        labelled (class weight W) and all of X unlabelled, and
                                        the gradients in latentkit's flat layout -> OUT.<module>.f32
"""
import json
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
import latentkit_torch as lt  # noqa: E402


def read(path, cols):
    return torch.from_numpy(np.fromfile(path, dtype="<f4").reshape(-1, cols).copy())


def write(path, t):
    t.detach().numpy().astype("<f4").tofile(path)


def idiomatic(arch):
    """What a PyTorch user writes by hand for this architecture (not lt.sequential)."""
    acts = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "relu": nn.ReLU, "softplus": nn.Softplus}

    def act(spec):
        if isinstance(spec, dict):
            return nn.LeakyReLU(spec["alpha"])
        return None if spec == "linear" else acts[spec]()

    def seq(m):
        layers = []
        n = len(m["sizes"]) - 1
        for i in range(n):
            layers.append(nn.Linear(m["sizes"][i], m["sizes"][i + 1]))
            a = act(m["activation"] if i < n - 1 else m["outputActivation"])
            if a is not None:
                layers.append(a)
            if i < n - 1 and m.get("dropout", 0) > 0:
                layers.append(nn.Dropout(m["dropout"]))
        return nn.Sequential(*layers)

    def pair(v):
        return (v, v) if isinstance(v, int) else tuple(v)

    def layers(m):
        # By hand, as a PyTorch user writes a DCGAN: modules in order, each activation after its layer.
        shape, mods = list(m["input"]), []
        for spec in m["layers"]:
            t = spec["type"]
            if t == "dense":
                mod = nn.Linear(shape[0], spec["units"])
                shape = [spec["units"]]
            elif t in ("conv2d", "conv-transpose2d"):
                k, st, pd, op = pair(spec["kernel"]), pair(spec.get("stride", 1)), pair(spec.get("padding", 0)), pair(spec.get("outputPadding", 0))
                if t == "conv2d":
                    mod = nn.Conv2d(shape[0], spec["channels"], k, st, pd, bias=spec.get("bias", True))
                    side = [(shape[1 + a] + 2 * pd[a] - k[a]) // st[a] + 1 for a in (0, 1)]
                else:
                    mod = nn.ConvTranspose2d(shape[0], spec["channels"], k, st, pd, op, bias=spec.get("bias", True))
                    side = [(shape[1 + a] - 1) * st[a] - 2 * pd[a] + k[a] + op[a] for a in (0, 1)]
                shape = [spec["channels"], *side]
            elif t == "batch-norm":
                mod = (nn.BatchNorm1d if len(shape) == 1 else nn.BatchNorm2d)(shape[0], eps=spec.get("eps", 1e-5), momentum=spec.get("momentum", 0.1))
            elif t == "flatten":
                mod, shape = nn.Flatten(), [int(np.prod(shape))]
            elif t == "reshape":
                mod, shape = nn.Unflatten(1, tuple(spec["shape"])), list(spec["shape"])
            elif t == "gaussian-noise":
                mod = nn.Identity()
            elif t == "dropout":
                mod = nn.Dropout(spec["rate"])
            if spec.get("weightNorm"):
                mod = torch.nn.utils.parametrizations.weight_norm(mod)
            mods.append(mod)
            a = act(spec.get("activation", "linear"))
            if a is not None:
                mods.append(a)
        return nn.Sequential(*mods)

    mods = {k: (layers(m) if "layers" in m else seq(m)) for k, m in arch["modules"].items()}
    return mods["layers"] if arch["kind"] == "stack" else nn.ModuleDict(mods)


def cmd_forward(model_path, x_path, out_path, module=None):
    model = lt.load(model_path).eval()
    _, arch = lt.weights(model_path)
    first = next(iter(arch["modules"].values()))
    run = model if module is None else model[module]
    with torch.no_grad():
        y = run(read(x_path, lt.io_sizes(lt.sequential(first))[0]))
    write(out_path, y)
    # The file's own tensors load with strict=True into the hand-written module (no tied weights).
    if not any(m.get("tiedTo") for m in arch["modules"].values()):
        idiomatic(arch).load_state_dict(load_file(model_path), strict=True)
    print(json.dumps({"rows": y.shape[0], "cols": y.shape[1]}))


def cmd_export(out_dir):
    out = Path(out_dir)
    torch.manual_seed(7)
    leaky = nn.LeakyReLU(0.2)
    ae = lt.Autoencoder(
        nn.Sequential(nn.Linear(20, 12), nn.Tanh(), nn.Linear(12, 4)),
        nn.Sequential(nn.Linear(4, 12), nn.ReLU(), nn.Linear(12, 20), nn.Sigmoid()),
    )
    gan = nn.ModuleDict({
        "generator": nn.Sequential(nn.Linear(3, 16), leaky, nn.Linear(16, 10), nn.Tanh()),
        "discriminator": nn.Sequential(nn.Linear(10, 16), nn.LeakyReLU(0.2), nn.Dropout(0.3), nn.Linear(16, 1)),
    })
    clf = lt.Classifier([nn.Sequential(nn.Linear(20, 8), nn.Softplus())], nn.Sequential(nn.Linear(8, 5)))
    # PyTorch's DCGAN example at 16 × 16: z as a 1×1 image, transposed convolutions and
    # convolutions without bias, batch norm; trained for a few steps so the statistics move.
    dcgan = lt.GAN(
        lt.Stack([6, 1, 1], nn.ConvTranspose2d(6, 8, 4, 1, 0, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                 nn.ConvTranspose2d(8, 4, 4, 2, 1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
                 nn.ConvTranspose2d(4, 1, 4, 2, 1, bias=False), nn.Tanh()),
        lt.Stack([1, 16, 16], nn.Conv2d(1, 4, 4, 2, 1, bias=False), nn.LeakyReLU(0.2), nn.Dropout(0.25),
                 nn.Conv2d(4, 8, 4, 2, 1, bias=False), nn.BatchNorm2d(8), nn.LeakyReLU(0.2),
                 nn.Conv2d(8, 1, 4, 1, 0, bias=False)),
    )
    with torch.no_grad():
        for _ in range(3):
            dcgan.discriminate(dcgan(torch.randn(8, 6)))
    cases = {"ae": (ae, ae, 20), "gan": (gan, gan["generator"], 3), "clf": (clf, clf, 20), "dcgan": (dcgan, dcgan["generator"], 6)}
    for name, (model, run, cols) in cases.items():
        lt.save(model, str(out / f"{name}.safetensors"))
        x = torch.randn(9, cols)
        with torch.no_grad():
            write(out / f"{name}.x.f32", x)
            write(out / f"{name}.y.f32", run.eval()(x))
    print(json.dumps(sorted(cases)))


def cmd_finetune(ckpt, x_path, steps):
    ae = lt.load(ckpt)
    x = read(x_path, lt.io_sizes(ae.encoder)[0])
    opt = torch.optim.Adam(ae.parameters(), lr=1e-3)
    losses = []
    for _ in range(int(steps)):
        opt.zero_grad()
        loss = ((ae(x) - x) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    print(json.dumps(losses))


def cmd_cgan(model_path, z_path, labels_path, x_path, out):
    model = lt.load(model_path).eval()
    gen = model.latentkit_options
    labels = torch.from_numpy(np.fromfile(labels_path, dtype="<f4").astype(np.int64))
    with torch.no_grad():
        write(f"{out}.g.f32", model(read(z_path, gen["noise"]["dim"]), labels))
        write(f"{out}.d.f32", model.discriminate(read(x_path, model["discriminator"][0].in_features - model.conditions), labels))
    lt.save(model, f"{out}.safetensors")
    print(json.dumps({"conditions": model.conditions, "noise": gen["noise"]}))


def cmd_step(ckpt, x1_path, x2_path, out):
    model, opt = lt.load_checkpoint(ckpt)
    lt.save_checkpoint(model, opt, f"{out}.same.ckpt")
    cols = lt.io_sizes(model["encoder"])[0]
    x1, x2 = read(x1_path, cols), read(x2_path, cols)
    lt.train_step(opt, lambda: model.training_loss(x1))
    lt.save(model, f"{out}.after1.safetensors")
    lt.save_checkpoint(model, opt, f"{out}.ckpt")
    lt.train_step(opt, lambda: model.training_loss(x2))
    lt.save(model, f"{out}.after2.safetensors")
    print(json.dumps({"optimizer": type(opt).__name__}))


def cmd_vae(model_path, x_path, labels_path, out):
    model = lt.load(model_path).eval()
    labels = torch.from_numpy(np.fromfile(labels_path, dtype="<f4").astype(np.int64)) if model.conditions else None
    x = read(x_path, model.features)
    with torch.no_grad():
        write(f"{out}.code.f32", model.encode(x, labels))
        write(f"{out}.rec.f32", model(x, labels))
    lt.save(model, f"{out}.safetensors")
    print(json.dumps({"kind": type(model).__name__, "latent": model.latent, "conditions": model.conditions, "likelihood": model.latentkit_options["likelihood"]}))


def cmd_gan(ckpt, x_path, iters, out):
    model, opts = lt.load_checkpoint(ckpt)
    lt.save_checkpoint(model, opts, f"{out}.same.ckpt")
    o = model.latentkit_options
    x = read(x_path, lt.io_sizes(model["discriminator"])[0])
    g = torch.Generator().manual_seed(1)
    m = int(o["batchSize"])
    for _ in range(int(iters)):
        for _ in range(int(o["k"])):
            real = x[torch.randint(0, x.shape[0], (m,), generator=g)]
            fake = model(model.noise(m, g)).detach()
            lt.train_step(opts["discriminator"], lambda: model.discriminator_loss(model.discriminate(real), model.discriminate(fake)))
        z = model.noise(m, g)
        lt.train_step(opts["generator"], lambda: model.generator_loss(model.discriminate(model(z))))
        model.update_average()
    lt.save_checkpoint(model, opts, f"{out}.ckpt")
    print(json.dumps({"discriminator": type(opts["discriminator"]).__name__, "generator": type(opts["generator"]).__name__}))


def cmd_ssgan(ckpt, x_path, labels_path, labelled, iters, out):
    model, opts = lt.load_checkpoint(ckpt)
    lt.save_checkpoint(model, opts, f"{out}.same.ckpt")
    x = read(x_path, lt.io_sizes(model["features"])[0])
    labels = torch.from_numpy(np.fromfile(labels_path, dtype=np.float32)).long()
    model.eval()
    with torch.no_grad():
        write(f"{out}.logits.f32", model.logits(x))
        write(f"{out}.raw.f32", model(x))
    model.train()
    torch.manual_seed(1)  # the noise layers draw from torch's own stream
    g = torch.Generator().manual_seed(1)
    m, n = int(model.latentkit_options["batchSize"]), int(labelled)
    start = lt._steps_of(opts["discriminator"])
    losses = []
    for i in range(int(iters)):
        lab = torch.randperm(n, generator=g)[: min(m, n)]
        unl = x[torch.randint(0, x.shape[0], (m,), generator=g)]
        fake = model["generator"](model.noise(m, g)).detach()
        losses.append(lt.train_step(opts["discriminator"], lambda: model.discriminator_loss(model(x[lab]), labels[lab], model(unl), model(fake))))
        real = x[torch.randint(0, x.shape[0], (m,), generator=g)]
        z = model.noise(m, g)
        lt.train_step(opts["generator"], lambda: model.feature_matching_loss(model["features"](real), model["features"](model["generator"](z))))
        model.update_average(start + i + 1)
    lt.save_checkpoint(model, opts, f"{out}.ckpt")
    # Single steps are noisy (Gaussian-noise layers, small batches): the means of the first and last five.
    print(json.dumps({"discriminator": type(opts["discriminator"]).__name__, "first": sum(losses[:5]) / 5, "last": sum(losses[-5:]) / 5}))


def cmd_m2(model_path, x_path, labels_path, labelled, out):
    model = lt.load(model_path)
    x = read(x_path, model.features)
    labels = torch.from_numpy(np.fromfile(labels_path, dtype=np.float32)).long()
    n = int(labelled)
    loss = model.loss(x[:n], labels[:n], x, n, x.shape[0])
    loss.backward()
    for name in ("encoder", "decoder", "classifier"):
        seq = model[name]
        write(f"{out}.{name}.f32", lt._params_to_flat({p: p.grad for p in seq.parameters()}, seq))
    print(json.dumps({"loss": loss.item()}))


def cmd_layers(model_path, x_path, target_path, out):
    """A lone stack of layers: its evaluation-mode output, then one training-mode forward and
    backward of the mean squared error against the target: the loss, every parameter's gradient in
    latentkit's flat layout, and the running statistics after it, in latentkit's order."""
    seq = lt.load(model_path)
    cols, width = lt.io_sizes(seq)
    x, target = read(x_path, cols), read(target_path, width)
    with torch.no_grad():
        write(f"{out}.eval.f32", seq.eval()(x))
    seq.train()
    loss = nn.functional.mse_loss(seq(x), target)
    loss.backward()
    write(f"{out}.grads.f32", lt._params_to_flat({p: p.grad for p in seq.parameters()}, seq))
    stats = [t for m in seq if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) for t in (m.running_mean, m.running_var)]
    write(f"{out}.stats.f32", torch.cat(stats) if stats else torch.zeros(0))
    print(json.dumps({"loss": loss.item()}))


if __name__ == "__main__":
    commands = {"layers": cmd_layers, "forward": cmd_forward, "export": cmd_export, "finetune": cmd_finetune, "cgan": cmd_cgan, "step": cmd_step, "gan": cmd_gan, "vae": cmd_vae, "ssgan": cmd_ssgan, "m2": cmd_m2}
    commands[sys.argv[1]](*sys.argv[2:])
