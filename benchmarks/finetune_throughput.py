#!/usr/bin/env python3
"""Fine-tuning throughput: `vitscope-cli finetune` vs the same loop in PyTorch (Python).

Both sides fine-tune the same model — a ViTScope .safetensors (the bundled ones by default: 32 px,
patch 4, 128-d, 12 blocks, 4 heads), loaded from the same file — with a new linear head on the
CLS token (mode `finetune`): the same batched on-device augmentations (RandomResizedCrop with
scale 0.5–1 and flip, parameters drawn on the CPU), label-smoothed (0.1) cross-entropy, AdamW
(weight decay 0.05, none on norms / biases / tokens), gradient clipping at 3, and with --amp bf16
autocast on CUDA (both sides). Data are in memory on both sides. The C++ side is timed from its own progress
reports: the report at step 2S covers steps S+1..2S (S = --steps), after S warm-up steps; the
training set is made large enough that no epoch ends (checkpoint, validation) inside that window.

    /usr/bin/python3 benchmarks/finetune_throughput.py --cli build/app/vitscope-cli \
        --data ../shared/data/cifar10/cifar10-jpg.tar.gz --device cuda --amp --batch-size 512 --steps 30

prints images/s of both and the ratio C++ / Python. Without --cli only Python runs.
"""
import argparse
import contextlib
import json
import math
import os
import re
import subprocess
import sys
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_common import compare, read_safetensors, timed_training  # noqa: E402
from train_throughput import MEAN, STD, ViT, augment, param_groups  # noqa: E402

BUNDLED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "models", "moco.safetensors")


def encoder_from(path):
    """The Python ViT with the encoder weights of a ViTScope model file (ViTScope -> timm-like names)."""
    config = json.load(open(os.path.splitext(path)[0] + ".json"))["architecture"]["vit"]
    vit = ViT(config["image_size"], config["patch_size"], config["embed_dim"], config["depth"], config["num_heads"])
    state = {}
    for name, t in read_safetensors(path).items():
        if not name.startswith("encoder.") or name.startswith("encoder.head.") or name == "encoder.mask_token":
            continue
        key = name[len("encoder."):].replace("patch_embed.proj.", "patch_embed.").replace("attn.", "").replace("mlp.", "")
        state[key] = t
    vit.load_state_dict(state, strict=True)
    return vit, config


class Classifier(nn.Module):
    def __init__(self, path, classes):
        super().__init__()
        self.encoder, config = encoder_from(path)
        self.head = nn.Linear(config["embed_dim"], classes)
        self.image_size = config["image_size"]

    def loss(self, images, labels, gen, norm):
        x = norm(augment(images, gen, 0.5))
        logits = self.head(self.encoder(x)[:, 0])
        with torch.autocast("cuda", enabled=False) if x.is_cuda else contextlib.nullcontext():
            return F.cross_entropy(logits.float(), labels, label_smoothing=0.1)


def python_throughput(model_path, classes, batch, steps, warmup, device, amp):
    torch.manual_seed(0)
    model = Classifier(model_path, classes).to(device).train()
    decay, no_decay = param_groups(model)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-4)
    S = model.image_size
    data = torch.randint(0, 256, (4 * batch, 3, S, S), dtype=torch.uint8, device=device)
    labels = torch.randint(0, classes, (4 * batch,), device=device)
    mean, std = MEAN.to(device), STD.to(device)
    use_amp = amp and device.type == "cuda" and hasattr(torch, "autocast")
    return timed_training(
        lambda idx, gen, i: model.loss(data.index_select(0, idx), labels.index_select(0, idx), gen, lambda v: (v - mean) / std),
        decay + no_decay, opt, batch, steps, warmup, device, use_amp)


def cli_throughput(cli, model_path, data, batch, steps, device, amp, per_class):
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [cli, "finetune", "--model", model_path, "--data", data, "--mode", "finetune", "--val-split", "0",
               "--batch-size", str(batch), "--epochs", "1", "--max-steps", str(2 * steps), "--log-every", str(steps),
               "--diagnostics-every", "0", "--device", device.type, "--out", os.path.join(tmp, "bench.safetensors")]
        cmd += ["--max-per-class", str(per_class)]
        if not amp:
            cmd.append("--no-amp")
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    reports = re.findall(r"^epoch \d+/\d+ step (\d+)/\d+ .* ([0-9.]+) img/s", out, re.M)
    timed = [float(ips) for step, ips in reports if int(step) == 2 * steps]
    if not timed:
        sys.exit("no progress report at step %d in vitscope-cli's output (too few images for 2 x --steps batches?):\n%s"
                 % (2 * steps, out))
    return timed[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=BUNDLED, help="ViTScope .safetensors (+ .json card) to fine-tune")
    ap.add_argument("--data", required=True, help="labelled folder or .tar.gz for the C++ run")
    ap.add_argument("--classes", type=int, default=10, help="classes of the Python run's random labels")
    ap.add_argument("--max-per-class", type=int, default=0,
                    help="C++ run: decode only this many images per class (default: what 2 x --steps batches need)")
    ap.add_argument("--batch-size", type=int, help="default: 512 on CUDA, 64 on the CPU")
    ap.add_argument("--steps", type=int, default=10, help="timed steps (after as many warm-up steps)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--amp", action="store_true", help="bf16 autocast on CUDA (both sides)")
    ap.add_argument("--cli", help="path of vitscope-cli: also measure the C++ job")
    ap.add_argument("--order", choices=["cpp-first", "python-first"], default="cpp-first")
    a = ap.parse_args()
    device = torch.device(a.device)
    amp = a.amp
    batch = a.batch_size or (512 if device.type == "cuda" else 64)
    per_class = a.max_per_class or math.ceil(1.1 * 2 * a.steps * batch / a.classes)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU ({torch.get_num_threads()} torch threads)"
    print(f"torch {torch.__version__}, {name}, {os.path.basename(a.model)}, batch {batch}, {a.steps} steps after "
          f"{a.steps} warm-up, amp {amp and device.type == 'cuda'}")
    cpp = (lambda: cli_throughput(a.cli, a.model, a.data, batch, a.steps, device, amp, per_class)) if a.cli else None
    compare("finetune", a.order, cpp, lambda: python_throughput(a.model, a.classes, batch, a.steps, a.steps, device, amp))


if __name__ == "__main__":
    main()
