"""Continue a latentkit checkpoint under PyTorch's DistributedDataParallel, then hand it back.

One process per device; torchrun starts them and sets RANK, WORLD_SIZE and the rendezvous:

    # one machine, 4 processes (CPU: gloo; GPUs: NCCL, one per process)
    torchrun --nproc_per_node 4 python/latentkit_ddp.py --checkpoint ae.ckpt --data train-images-idx3-ubyte --steps 5000 --out ae-ddp.ckpt
    # two machines of 8 GPUs each: the same command on both, with
    torchrun --nnodes 2 --node_rank 0|1 --nproc_per_node 8 --master_addr HOST0 --master_port 29500 python/latentkit_ddp.py …

Each step trains on one global minibatch of --batch-size rows split evenly across the processes
(DistributedSampler); DDP averages the gradients, so the update is the global minibatch's, as one
latentkit process would take it, with the checkpoint's optimizer state (latentkit_torch.load_checkpoint).
Autoencoders take pixels in [0, 1]; GANs in [-1, 1], as latentkit's CLI trains them. Rank 0 writes
a latentkit checkpoint at the end (latentkit_torch.save_checkpoint) that latentkit's load() and
`latentkit train-ae|train-gan --resume` continue. Needs torch and safetensors; nothing is pickled.
"""

from __future__ import annotations

import argparse
import array
import gc
import gzip
import os
import struct
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parent))
import latentkit_torch as lt  # noqa: E402


def read_idx(path: str) -> torch.Tensor:
    """An IDX file (MNIST's format; gzip too) as a tensor of its dtype and shape."""
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: not an IDX file (bad magic)")
    dtypes = {0x08: torch.uint8, 0x09: torch.int8, 0x0B: torch.int16, 0x0C: torch.int32, 0x0D: torch.float32, 0x0E: torch.float64}
    if raw[2] not in dtypes:
        raise ValueError(f"{path}: unknown IDX element type 0x{raw[2]:02x}")
    dims = struct.unpack(f">{raw[3]}I", raw[4 : 4 + 4 * raw[3]])
    body = raw[4 + 4 * raw[3] :]
    dtype = dtypes[raw[2]]
    count = 1
    for d in dims:
        count *= d
    size = torch.empty((), dtype=dtype).element_size()
    if len(body) != count * size:
        raise ValueError(f"{path}: IDX header says {list(dims)} but the file holds {len(body)} bytes of data")
    data = bytearray(body)
    if size > 1 and sys.byteorder == "little":
        # IDX is big-endian: reverse each element's bytes.
        swapped = array.array({0x0B: "h", 0x0C: "i", 0x0D: "f", 0x0E: "d"}[raw[2]], bytes(body))
        swapped.byteswap()
        data = bytearray(swapped.tobytes())
    return torch.frombuffer(data, dtype=dtype).reshape(dims)


class AutoencoderObjective(nn.Module):
    """DDP needs the step's computation in forward: here, latentkit's autoencoder objective."""

    def __init__(self, model: lt.Autoencoder):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.training_loss(x)


class DiscriminatorObjective(nn.Module):
    def __init__(self, model: lt.GAN):
        super().__init__()
        self.discriminator = model["discriminator"]
        object.__setattr__(self, "gan", model)  # not a submodule: DDP syncs the discriminator only

    def forward(self, real, fake, labels):
        return self.gan.discriminator_loss(self.gan.discriminate(real, labels), self.gan.discriminate(fake, labels))


class GeneratorObjective(nn.Module):
    def __init__(self, model: lt.GAN):
        super().__init__()
        self.generator = model["generator"]
        object.__setattr__(self, "gan", model)

    def forward(self, z, labels):
        return self.gan.generator_loss(self.gan.discriminate(self.gan(z, labels), labels))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", required=True, help="latentkit checkpoint (autoencoder or GAN) to continue")
    ap.add_argument("--data", required=True, help="IDX images (e.g. MNIST's train-images-idx3-ubyte)")
    ap.add_argument("--labels", help="IDX labels, for a conditional GAN")
    ap.add_argument("--steps", type=int, required=True, help="optimizer steps (GANs: Algorithm-1 iterations) to take")
    ap.add_argument("--batch-size", type=int, help="global minibatch rows, split across processes (default: a GAN's own m, 128 for autoencoders)")
    ap.add_argument("--out", required=True, help="latentkit checkpoint that rank 0 writes at the end")
    ap.add_argument("--seed", type=int, default=0, help="seed of the data order and the noise")
    ap.add_argument("--log-every", type=int, default=100)
    args = ap.parse_args(argv)

    cuda = torch.cuda.is_available()
    dist.init_process_group(backend="nccl" if cuda else "gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    local = int(os.environ.get("LOCAL_RANK", 0))
    device = torch.device(f"cuda:{local}") if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    else:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(os.environ.get("LOCAL_WORLD_SIZE", world))))

    model, optimizer = lt.load_checkpoint(args.checkpoint)
    model.to(device)
    gan = isinstance(model, lt.GAN)
    if not gan and not isinstance(model, lt.Autoencoder):
        raise SystemExit(f"latentkit_ddp: {args.checkpoint} is a {type(model).__name__}; this script continues autoencoders and GANs")

    images = read_idx(args.data)
    x = images.reshape(images.shape[0], -1).to(torch.float32) / 255.0
    if gan:
        x = x * 2 - 1
    width = lt.io_sizes(model["discriminator"])[0] - model.conditions if gan else lt.io_sizes(model["encoder"])[0]
    if x.shape[1] != width:
        raise SystemExit(f"latentkit_ddp: {args.checkpoint} takes {width} values per row, {args.data} has {x.shape[1]}")
    if gan and model.conditions > 0:
        if not args.labels:
            raise SystemExit(f"latentkit_ddp: {args.checkpoint} is a conditional GAN over {model.conditions} classes: pass --labels")
        y = read_idx(args.labels).to(torch.long).reshape(-1)
        if y.shape[0] != x.shape[0] or int(y.max()) >= model.conditions:
            raise SystemExit(f"latentkit_ddp: --labels has {y.shape[0]} labels up to {int(y.max())} for {x.shape[0]} images and {model.conditions} classes")
    else:
        y = torch.zeros(x.shape[0], dtype=torch.long)
    batch = args.batch_size or (int(model.latentkit_options.get("batchSize", 64)) if gan else 128)
    if batch % world != 0:
        raise SystemExit(f"latentkit_ddp: --batch-size {batch} does not split evenly across {world} processes")
    sampler = DistributedSampler(TensorDataset(x, y), num_replicas=world, rank=rank, shuffle=True, seed=args.seed, drop_last=True)
    loader = DataLoader(TensorDataset(x, y), batch_size=batch // world, sampler=sampler, drop_last=True)
    labels_of = (lambda t: t.to(device)) if gan and model.conditions > 0 else (lambda t: None)
    noise = torch.Generator(device=device).manual_seed(args.seed * 1000 + rank)

    def batches():
        epoch = 0
        while True:
            sampler.set_epoch(epoch)
            for xb, yb in loader:
                yield xb.to(device), labels_of(yb)
            epoch += 1

    def train(stream) -> None:
        # The DDP wrappers hold the process group and gloo's threads: they live only here, so
        # they are gone (with gc for their reference cycles) before the group is destroyed.
        t0 = time.time()
        if not gan:
            objective = DDP(AutoencoderObjective(model))
            for step in range(1, args.steps + 1):
                xb, _ = next(stream)
                loss = lt.train_step(optimizer, lambda: objective(xb))
                if rank == 0 and (step % args.log_every == 0 or step == args.steps):
                    print(f"step {step}/{args.steps}: loss {loss:.5f} ({time.time() - t0:.1f} s, {world} processes)", flush=True)
        else:
            d_objective = DDP(DiscriminatorObjective(model))
            g_objective = DDP(GeneratorObjective(model))
            k = int(model.latentkit_options.get("k", 1))
            m = batch // world
            for it in range(1, args.steps + 1):
                for _ in range(k):
                    real, labels = next(stream)
                    with torch.no_grad():
                        fake = model(model.noise(m, noise).to(device), labels)
                    loss_d = lt.train_step(optimizer["discriminator"], lambda: d_objective(real, fake, labels))
                # The generator's step backpropagates through D without touching D's parameters.
                model["discriminator"].requires_grad_(False)
                loss_g = lt.train_step(optimizer["generator"], lambda: g_objective(model.noise(m, noise).to(device), labels))
                model["discriminator"].requires_grad_(True)
                model.update_average()
                if rank == 0 and (it % args.log_every == 0 or it == args.steps):
                    print(f"iteration {it}/{args.steps}: D loss {loss_d:.4f}, G loss {loss_g:.4f} ({time.time() - t0:.1f} s, {world} processes)", flush=True)

    train(batches())
    gc.collect()

    if rank == 0:
        model.to("cpu")
        lt.save_checkpoint(model, optimizer, args.out)
        print(f"wrote {args.out}", flush=True)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
