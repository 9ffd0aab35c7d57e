#!/usr/bin/python3
"""Train a candidate with PyTorch in Python: the reference side of the
C++-worker benchmark (docs/worker-benchmark.md).

The network is built from the operator list of `unas cost --json`, the same
description the C++ worker walks, so neither side re-derives shape rules:
kernels, strides and pool windows are read from each op's description, and
every output shape is checked against the op's `output_shape`.

The training step matches worker/trainer.cc: the same per-epoch shuffle
gather (index_select), cross entropy, loss.item() per batch, SGD with
momentum and decoupled weight decay (w *= 1 - lr*wd before the step),
dropout before dense blocks, BN with Keras's eps/momentum. Reports training
samples per second of wall time and of the process's CPU time, excluding
evaluation, like the C++ TrainResult and its profile.
"""
import argparse
import gzip
import json
import re
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

FMNIST = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    n = int.from_bytes(data[4:8], "big")
    if magic == 0x803:
        h, w = int.from_bytes(data[8:12], "big"), int.from_bytes(data[12:16], "big")
        return np.frombuffer(data, np.uint8, offset=16).reshape(n, 1, h, w)
    return np.frombuffer(data, np.uint8, offset=8).astype(np.int64)


class OpNet(torch.nn.Module):
    def __init__(self, report, dropout):
        super().__init__()
        self.ops = report["ops"]
        self.dropout = dropout
        h, w, c = report["input_shape"]
        shapes = {-1: (h, w, c)}
        self.layers = torch.nn.ModuleDict()
        self.spec = []
        for op in self.ops:
            i, kind, desc = op["index"], op["op"], op["description"]
            in_shape = shapes[op["inputs"][0]]
            out = tuple(op["output_shape"]) if len(op["output_shape"]) == 3 else (1, 1, op["output_shape"][-1])
            s = {"kind": kind, "inputs": op["inputs"], "out": out, "relu": desc.endswith("relu"),
                 "role": op["role"]}
            if kind in ("conv", "dwconv"):
                m = re.match(r"\w+ (\d+)x\d+(/2)?", desc)
                k, stride = int(m.group(1)), 2 if m.group(2) else 1
                groups = in_shape[2] if kind == "dwconv" else 1
                self.layers[f"conv{i}"] = torch.nn.Conv2d(in_shape[2], out[2], k, stride=stride, groups=groups)
                if " bn" in desc:
                    self.layers[f"bn{i}"] = torch.nn.BatchNorm2d(out[2], eps=1e-3, momentum=0.01)
            elif kind in ("maxpool", "avgpool"):
                m = re.match(r"\w+ (\d+)x(\d+)", desc)
                s["pool"] = (int(m.group(1)), int(m.group(2)))
            elif kind == "dense":
                self.layers[f"dense{i}"] = torch.nn.Linear(in_shape[0] * in_shape[1] * in_shape[2], out[2])
            shapes[i] = out
            self.spec.append(s)
        self.last_use = {}
        for i, s in enumerate(self.spec):
            for j in s["inputs"]:
                self.last_use[j] = i

    def forward(self, x, check=False):
        outs = {-1: x}
        for i, s in enumerate(self.spec):
            kind = s["kind"]
            if kind in ("conv", "dwconv"):
                y = self.layers[f"conv{i}"](outs[s["inputs"][0]])
                if f"bn{i}" in self.layers:
                    y = self.layers[f"bn{i}"](y)
                if s["relu"]:
                    y = F.relu(y)
            elif kind == "maxpool":
                y = F.max_pool2d(outs[s["inputs"][0]], s["pool"], s["pool"], ceil_mode=True)
            elif kind == "avgpool":
                y = F.avg_pool2d(outs[s["inputs"][0]], s["pool"], s["pool"], ceil_mode=True)
            elif kind == "add":
                y = None
                h, w, c = s["out"]
                for j in s["inputs"]:
                    t = outs[j]
                    pad = (0, w - t.shape[3], 0, h - t.shape[2], 0, c - t.shape[1])
                    if any(pad):
                        t = F.pad(t, pad)
                    y = t if y is None else y + t
            elif kind == "dense":
                y = outs[s["inputs"][0]].flatten(1)
                if s["role"] == "dense_block" and self.dropout > 0:
                    y = F.dropout(y, self.dropout, self.training)
                y = self.layers[f"dense{i}"](y)
                if s["relu"]:
                    y = F.relu(y)
            else:
                raise ValueError(f"unknown op {kind}")
            if check:
                got = (y.shape[2], y.shape[3], y.shape[1]) if y.dim() == 4 else (1, 1, y.shape[1])
                assert got == s["out"], f"op {i}: {got} != {s['out']}"
            outs[i] = y
            for j in s["inputs"]:
                if j != -1 and self.last_use[j] == i:
                    del outs[j]
        return y


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("arch")
    p.add_argument("--unas", default="build/unas")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--subset", type=float, default=1.0)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=1e-5)
    p.add_argument("--dropout", type=float, default=0.15)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    report = json.loads(subprocess.check_output([a.unas, "cost", a.arch, "--json", "--accounting", "unas"]))
    net = OpNet(report, a.dropout)
    params = sum(m.weight.numel() + m.bias.numel() for n, m in net.layers.items() if not n.startswith("bn"))
    assert params == report["params"], f"params {params} != cost model {report['params']}"
    net.eval()
    with torch.no_grad():
        net(torch.zeros(1, *[report["input_shape"][2], *report["input_shape"][:2]]), check=True)
    net.train()

    # Same normalisation as the C++ side (per-channel, over the training images;
    # the benchmark measures speed, so the validation split is not removed).
    x = torch.from_numpy(read_idx(f"{FMNIST}/train-images-idx3-ubyte.gz").copy()).float().div_(255)
    y = torch.from_numpy(read_idx(f"{FMNIST}/train-labels-idx1-ubyte.gz").copy())
    x = (x - x.mean()) / x.std()
    used = max(2, round(a.subset * 54000))  # the C++ side trains on a fraction of 54000
    gen = torch.Generator().manual_seed(0)
    pick = torch.randperm(x.shape[0], generator=gen)[:used]
    x, y = x.index_select(0, pick).contiguous(), y.index_select(0, pick).contiguous()

    opt = torch.optim.SGD(net.parameters(), lr=a.lr, momentum=a.momentum)
    params_list = list(net.parameters())
    batches = used // a.batch_size + (1 if used % a.batch_size >= 2 else 0)
    total_time, total_cpu, total_samples = 0.0, 0.0, 0
    for epoch in range(a.epochs):
        order = torch.randperm(used)
        start, start_cpu = time.perf_counter(), time.process_time()
        loss_sum, correct, seen = 0.0, 0, 0
        for b in range(batches):
            idx = order[b * a.batch_size:(b + 1) * a.batch_size]
            xb, yb = x.index_select(0, idx), y.index_select(0, idx)
            logits = net(xb)
            loss = F.cross_entropy(logits, yb)
            lv = loss.item()
            opt.zero_grad()
            loss.backward()
            with torch.no_grad():
                for q in params_list:
                    q.mul_(1.0 - a.lr * a.weight_decay)
            opt.step()
            loss_sum += lv * idx.numel()
            correct += int(logits.detach().argmax(1).eq(yb).sum().item())
            seen += idx.numel()
        dt = time.perf_counter() - start
        total_cpu += time.process_time() - start_cpu
        total_time += dt
        total_samples += seen
        print(f"epoch {epoch + 1}/{a.epochs}  {seen} samples  {seen / dt:.0f} samples/s  "
              f"loss {loss_sum / seen:.4f}  acc {correct / seen:.4f}", file=sys.stderr)
    print(json.dumps({"side": "python", "params": params, "samples_per_second": total_samples / total_time,
                      "train_seconds": total_time, "train_cpu_seconds": total_cpu,
                      "samples_per_cpu_second": total_samples / total_cpu, "threads": a.threads, "batch_size": a.batch_size}))


if __name__ == "__main__":
    main()
