#!/usr/bin/env python3
"""ATen ops per training step: ViTScope's C++ trainer against the PyTorch loop of
train_throughput.py, counted by the op census (benchmarks/op_census.cpp, LD_PRELOAD).

Each side runs twice, timing S1 and S2 steps after the same warm-up; the difference of the two
censuses divided by S2 - S1 is one step (start-up, data loading and warm-up cancel out). Prints
both totals and every op whose count per step differs. Counts, unlike timings, do not drift with
the machine's load, so a structural difference (an extra pass, a missing fused kernel) shows on
the CPU here even when it only costs time on a GPU.

    /usr/bin/python3 benchmarks/op_census.py --cli build/app/vitscope-cli \\
        --census build/benchmarks/libvitscope_op_census.so --objective moco --device cpu
"""
import argparse
import os
import subprocess
import sys
import tempfile

import torch

from train_throughput import cli_command

HERE = os.path.dirname(os.path.abspath(__file__))


def census(cmd, library):
    """name -> calls of one process run under the census."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "census.tsv")
        env = dict(os.environ, LD_PRELOAD=library, VITSCOPE_OP_CENSUS=path)
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        counts = {}
        with open(path) as f:
            for line in f:
                calls, name = line.rstrip("\n").split("\t", 1)
                counts[name] = int(calls)
        return counts


def per_step(run, steps):
    """Ops of one step: the census of steps[1] minus that of steps[0], per step."""
    a, b = run(steps[0]), run(steps[1])
    return {k: (b.get(k, 0) - a.get(k, 0)) / (steps[1] - steps[0]) for k in set(a) | set(b)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", required=True, help="path of vitscope-cli")
    ap.add_argument("--census", required=True, help="path of libvitscope_op_census.so")
    ap.add_argument("--objective", choices=["moco", "simmim"], default="moco")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--steps", type=int, nargs=2, default=[2, 4], metavar=("S1", "S2"))
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--amp", action="store_true", help="bf16 autocast on CUDA (both sides)")
    ap.add_argument("--data", default="../shared/data/cifar10/cifar10-jpg.tar.gz", help="data for the C++ run")
    ap.add_argument("--all", action="store_true", help="also list autograd-engine wrapper events")
    a = ap.parse_args()
    library = os.path.abspath(a.census)
    device = torch.device(a.device)

    def cpp(steps):
        return census(cli_command(a.cli, a.objective, a.data, a.batch_size, steps, a.warmup, device, a.amp), library)

    def python(steps):
        cmd = [sys.executable, os.path.join(HERE, "train_throughput.py"), "--objective", a.objective,
               "--batch-size", str(a.batch_size), "--steps", str(steps), "--warmup", str(a.warmup), "--device", a.device]
        return census(cmd + (["--amp"] if a.amp else []), library)

    ours, peer = per_step(cpp, a.steps), per_step(python, a.steps)
    print(f"torch {torch.__version__}, {a.objective}, batch {a.batch_size}, device {a.device}, amp {a.amp}: "
          f"ATen ops and autograd nodes per step (steps {a.steps[0]} and {a.steps[1]} differenced)")
    print(f"total: C++ {sum(ours.values()):.0f}, PyTorch {sum(peer.values()):.0f}")
    print(f"{'C++ - PyTorch':>14} {'C++':>9} {'PyTorch':>9}  op")
    rows = sorted((ours.get(k, 0) - peer.get(k, 0), k) for k in set(ours) | set(peer))
    for diff, name in rows:
        if diff != 0 and (a.all or not name.startswith("autograd::engine::evaluate_function")):
            print(f"{diff:+14.1f} {ours.get(name, 0):9.1f} {peer.get(name, 0):9.1f}  {name}")


if __name__ == "__main__":
    main()
