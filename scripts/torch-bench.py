#!/usr/bin/env python3
"""The user-shaped workloads of `trainer bench` (Examples/UserModels), in PyTorch.

Builds the same models, trains them on the same Fashion-MNIST batches
(batch 64, Adam, cross-entropy, one thread), and alternates with
`trainer bench` so both figures come from the same minutes of a shared
machine. Prints one JSON line per measurement and, at the end, the medians
with their spread and the ratio. PyTorch is needed only here: never by the
build or the tests (install it in a virtual environment of your own).

    python3 scripts/torch-bench.py --rounds 5 --seconds 5
    python3 scripts/torch-bench.py --workload mlp ae cnn      # the model zoo's, for comparison
    python3 scripts/torch-bench.py --workload user-cnn user-rnn --np 2   # DDP with gloo vs mpirun -np 2
"""
import argparse
import gzip
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = "/usr/share/datasets/fashion-mnist"
WORKLOADS = ["user-cnn", "user-cnn32", "user-strided", "user-rnn", "user-gru"]
BUILT_IN = ["mlp", "ae", "cnn"]  # trainer bench's own: the model zoo's mlp, autoencoder and cnn


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


def fashion_mnist(data_dir):
    images = read_idx(os.path.join(data_dir, "train-images-idx3-ubyte.gz")).float().div_(255).unsqueeze(1)
    labels = read_idx(os.path.join(data_dir, "train-labels-idx1-ubyte.gz")).long()
    return images, labels


def cifar_style_cnn(c, h, w):
    return nn.Sequential(
        nn.Conv2d(c, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * (h // 4) * (w // 4), 128), nn.ReLU(), nn.Linear(128, 10))


def strided_cnn(c, h, w):
    h4, w4 = ((h + 1) // 2 + 1) // 2, ((w + 1) // 2 + 1) // 2
    return nn.Sequential(
        nn.Conv2d(c, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
        nn.Conv2d(64, 128, 3, stride=2, padding=1), nn.ReLU(),
        nn.Flatten(), nn.Linear(128 * h4 * w4, 10))


class ElmanClassifier(nn.Module):
    """The hand-written Elman RNN of Examples/UserModels, as nn.RNN (its state dict's names)."""

    def __init__(self, width, hidden=64, classes=10):
        super().__init__()
        self.rnn = nn.RNN(width, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, x):
        _, h = self.rnn(x.reshape(x.shape[0], x.shape[-2], x.shape[-1]))
        return self.fc(h[-1])


class GRUClassifier(nn.Module):
    """Examples/UserModels' GRUClassifier: nn.GRU over the rows, the last state into a Linear."""

    def __init__(self, width, hidden=64, classes=10):
        super().__init__()
        self.gru = nn.GRU(width, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, x):
        _, h = self.gru(x.reshape(x.shape[0], x.shape[-2], x.shape[-1]))
        return self.fc(h[-1])


def build(name):
    """The model and whether it reads CIFAR-shaped images."""
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10)), False
    if name == "ae":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 784), nn.Sigmoid()), False
    if name == "cnn":
        return nn.Sequential(nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 5), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(256, 10)), False
    if name == "user-cnn":
        return cifar_style_cnn(1, 28, 28), False
    if name == "user-cnn32":
        return cifar_style_cnn(3, 32, 32), True
    if name == "user-strided":
        return strided_cnn(1, 28, 28), False
    if name == "user-rnn":
        return ElmanClassifier(28), False
    if name == "user-gru":
        return GRUClassifier(28), False
    raise SystemExit(f"torch-bench.py: unknown workload {name!r}; known: {', '.join(WORKLOADS + BUILT_IN)}")


def cifar_shaped(x):
    """1x28x28 -> 3x32x32 as CIFARShaped: zero border of 2, the channel three times."""
    return F.pad(x, (2, 2, 2, 2)).expand(-1, 3, -1, -1).contiguous()


def time_torch(name, seconds, batch, images, labels, rank=0, world=1):
    torch.manual_seed(0)
    model, wide = build(name)
    if world > 1:
        model = nn.parallel.DistributedDataParallel(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    local = batch // world
    generator = torch.Generator().manual_seed(0)
    order = torch.randperm(images.shape[0], generator=generator)
    position = [0]

    def step():
        start = position[0] % (images.shape[0] - batch)
        index = order[start + rank * local:start + (rank + 1) * local]
        position[0] += batch
        x, y = images[index], labels[index]
        if wide:
            x = cifar_shaped(x)
        optimizer.zero_grad(set_to_none=True)
        if name == "ae":  # the zoo's reconstruction BCE on the pixels
            F.binary_cross_entropy(model(x), x.flatten(1)).backward()
        else:
            F.cross_entropy(model(x), y).backward()
        optimizer.step()

    for _ in range(20):
        step()
    begin = time.perf_counter()
    warm = 10
    for _ in range(warm):
        step()
    per_step = (time.perf_counter() - begin) / warm
    steps = torch.tensor([max(10, int(seconds / per_step))])
    if world > 1:
        torch.distributed.broadcast(steps, 0)
        torch.distributed.barrier()
    begin = time.perf_counter()
    for _ in range(int(steps)):
        step()
    elapsed = torch.tensor([time.perf_counter() - begin])
    if world > 1:
        torch.distributed.all_reduce(elapsed, op=torch.distributed.ReduceOp.MAX)
    return int(steps) * batch / float(elapsed)


def ddp_worker(rank, world, name, seconds, batch, data_dir, result_file):
    torch.set_num_threads(1)
    torch.distributed.init_process_group("gloo", rank=rank, world_size=world)
    images, labels = fashion_mnist(data_dir)
    rate = time_torch(name, seconds, batch, images, labels, rank, world)
    if rank == 0:
        with open(result_file, "w") as f:
            f.write(str(rate))
    torch.distributed.destroy_process_group()


def time_torch_ddp(name, seconds, batch, world, data_dir):
    """PyTorch DDP with gloo, one process per rank, one thread each."""
    import torch.multiprocessing as mp
    with tempfile.TemporaryDirectory() as scratch:
        result = os.path.join(scratch, "rate")
        os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
        os.environ.setdefault("MASTER_PORT", "29517")
        mp.spawn(ddp_worker, args=(world, name, seconds, batch, DATA if data_dir is None else data_dir, result),
                 nprocs=world)
        with open(result) as f:
            return float(f.read())


def time_trainer(trainer, name, seconds, batch, world):
    """One `trainer bench` run of `name` (default mode), under mpirun for world > 1."""
    command = [trainer, "bench", "--mode", "default", "--seconds", str(seconds), "--batch-size", str(batch),
               "--workload", name]
    if world > 1:
        command = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", str(world), "--bind-to", "core"] + command
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMPI_", "PMIX_"))}
    env["OPENBLAS_NUM_THREADS"] = "1"
    output = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    for line in output.splitlines():
        record = json.loads(line)
        if record.get("workload") == name:
            return record
    raise SystemExit(f"torch-bench.py: no figure for {name} in: {output}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workload", nargs="+", default=WORKLOADS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--np", type=int, default=1, help="ranks: mpirun -np N against DDP with gloo")
    parser.add_argument("--trainer", default=".build/release/trainer")
    parser.add_argument("--data-dir", default=DATA)
    args = parser.parse_args()
    torch.set_num_threads(1)
    images, labels = fashion_mnist(args.data_dir)
    ours, theirs, fraction = {}, {}, {}
    for turn in range(args.rounds):
        for name in args.workload:
            record = time_trainer(args.trainer, name, args.seconds, args.batch_size, args.np)
            if args.np > 1:
                rate = time_torch_ddp(name, args.seconds, args.batch_size, args.np, args.data_dir)
            else:
                rate = time_torch(name, args.seconds, args.batch_size, images, labels)
            ours.setdefault(name, []).append(record["samples_per_s"])
            theirs.setdefault(name, []).append(rate)
            if "of_sgemm" in record:
                fraction.setdefault(name, []).append(record["of_sgemm"])
            print(json.dumps({"round": turn, "workload": name, "np": args.np, "swiftddp": record["samples_per_s"],
                              "torch": round_to(rate), "of_sgemm": record.get("of_sgemm")}), flush=True)
    for name in args.workload:
        a, b = ours[name], theirs[name]
        ratios = [x / y for x, y in zip(a, b)]
        print(json.dumps({"summary": name, "np": args.np, "rounds": len(a), "torch_version": torch.__version__,
                          "swiftddp_median": statistics.median(a), "swiftddp_min": min(a), "swiftddp_max": max(a),
                          "torch_median": round_to(statistics.median(b)), "torch_min": round_to(min(b)),
                          "torch_max": round_to(max(b)), "ratio_of_medians": round(statistics.median(a) / statistics.median(b), 2),
                          "ratio_min": round(min(ratios), 2), "ratio_max": round(max(ratios), 2),
                          "of_sgemm_median": statistics.median(fraction[name]) if name in fraction else None}))


def round_to(x):
    return round(x, 1)


if __name__ == "__main__":
    sys.exit(main())
