#!/usr/bin/env python3
"""Pre-training throughput: ViTScope's C++ trainer vs the same loop in PyTorch (Python).

The Python loop mirrors core/train step for step: the bundled ViT (32 px, patch 4, 128-d, 12
blocks, 4 heads, fixed sin-cos positions), the same batched on-device augmentations with
parameters drawn on the CPU, MoCo v3 (two views, momentum encoder, projector/predictor with BN,
symmetric InfoNCE) or SimMIM (mask token, 1x1 conv + pixel shuffle head, L1 on masked pixels),
AdamW without decay on norms/biases/tokens, gradient clipping, bf16 autocast with --amp on CUDA.

    /usr/bin/python3 benchmarks/train_throughput.py --cli build/app/vitscope-cli \
        --data ../shared/data/cifar10/cifar10-jpg.tar.gz --device cpu --batch-size 64 --steps 10

prints images/s of both and the ratio C++ / Python per objective. Without --cli only Python runs.
"""
import argparse
import contextlib
import math
import re
import subprocess

import torch
import torch.nn as nn
import torch.nn.functional as F

from peer_common import compare, timed_training, upload

# ------------------------------------------------------------------------------------------------
# Model (same structure and sizes as core/model for the bundled configuration)


def sincos_2d(dim, grid):
    """MAE layout: first half encodes the column, second half the row (paper-analyses.md §1.3)."""
    quarter = dim // 4
    omega = 1.0 / 10000 ** (torch.arange(quarter, dtype=torch.float64) / quarter)
    idx = torch.arange(grid * grid)
    rows = (idx // grid).double()[:, None] * omega[None]
    cols = (idx % grid).double()[:, None] * omega[None]
    return torch.cat([cols.sin(), cols.cos(), rows.sin(), rows.cos()], 1).float()


class Block(nn.Module):
    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        B, N, D = x.shape
        q, k, v = self.qkv(self.norm1(x)).reshape(B, N, 3, self.heads, D // self.heads).permute(2, 0, 3, 1, 4)
        if hasattr(F, "scaled_dot_product_attention"):
            a = F.scaled_dot_product_attention(q, k, v)
        else:
            a = ((q * (D // self.heads) ** -0.5) @ k.transpose(-2, -1)).softmax(-1) @ v
        x = x + self.proj(a.transpose(1, 2).reshape(B, N, D))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class ViT(nn.Module):
    def __init__(self, image=32, patch=4, dim=128, depth=12, heads=4, mask_token=False):
        super().__init__()
        self.patch = patch
        self.patch_embed = nn.Conv2d(3, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        grid = image // patch
        pos = torch.zeros(1, 1 + grid * grid, dim)
        pos[0, 1:] = sincos_2d(dim, grid)
        self.pos_embed = nn.Parameter(pos, requires_grad=False)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dim)) if mask_token else None
        self.blocks = nn.ModuleList([Block(dim, heads, 4 * dim) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)

    def forward(self, x, replace=None):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        if replace is not None:
            w = replace.unsqueeze(-1).to(x.dtype)
            x = x * (1 - w) + self.mask_token.to(x.dtype) * w
        x = x + self.pos_embed[:, 1:]
        x = torch.cat([(self.cls_token + self.pos_embed[:, :1]).expand(x.shape[0], -1, -1), x], 1)
        for b in self.blocks:
            x = b(x)
        return self.norm(x)


def mlp_head(n, d_in, hidden, d_out):
    layers = []
    for i in range(n):
        last = i == n - 1
        a, b = (d_in if i == 0 else hidden), (d_out if last else hidden)
        layers += [nn.Linear(a, b, bias=False), nn.BatchNorm1d(b, affine=not last)]
        if not last:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


# ------------------------------------------------------------------------------------------------
# Augmentations (core/train/augment.cpp): parameters on the CPU, images on the device


def crop_boxes(B, H, W, scale_min, gen, ratio=(3 / 4, 4 / 3)):
    scale = scale_min + (1 - scale_min) * torch.rand(B, 10, generator=gen, dtype=torch.float64)
    logr = math.log(ratio[0]) + (math.log(ratio[1]) - math.log(ratio[0])) * torch.rand(B, 10, generator=gen, dtype=torch.float64)
    r = logr.exp()
    w, h = (H * W * scale * r).sqrt().round(), (H * W * scale / r).sqrt().round()
    fits = (w > 0) & (h > 0) & (w <= W) & (h <= H)
    first = fits.long().argmax(1, keepdim=True)
    anyf = fits.any(1)
    bw = torch.where(anyf, w.gather(1, first)[:, 0], torch.full((B,), float(W), dtype=torch.float64))
    bh = torch.where(anyf, h.gather(1, first)[:, 0], torch.full((B,), float(H), dtype=torch.float64))
    u = torch.rand(B, 2, generator=gen, dtype=torch.float64)
    top = torch.where(anyf, (u[:, 0] * (H - bh + 1)).floor(), ((H - bh) / 2).floor())
    left = torch.where(anyf, (u[:, 1] * (W - bw + 1)).floor(), ((W - bw) / 2).floor())
    return torch.stack([left, top, bw, bh], 1).float()


def gray(x):
    return (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).unsqueeze(1)


def rgb_to_hsv(x):
    r, g, b = x.unbind(1)
    maxc, minc = x.max(1).values, x.min(1).values
    eq = maxc == minc
    rng = maxc - minc
    ones = torch.ones_like(maxc)
    s = rng / torch.where(eq, ones, maxc)
    d = torch.where(eq, ones, rng)
    rc, gc, bc = (maxc - r) / d, (maxc - g) / d, (maxc - b) / d
    is_r, is_g = maxc == r, (maxc == g) & (maxc != r)
    h = torch.where(is_r, bc - gc, torch.where(is_g, 2.0 + rc - bc, 4.0 + gc - rc))
    return torch.stack([torch.fmod(h / 6.0 + 1.0, 1.0), s, maxc], 1)


def hsv_to_rgb(x):
    h, s, v = x.unbind(1)
    h6 = h * 6
    i = h6.floor()
    f = h6 - i
    i = i.long() % 6
    p, q, t = (v * (1 - s)).clamp(0, 1), (v * (1 - s * f)).clamp(0, 1), (v * (1 - s * (1 - f))).clamp(0, 1)
    table = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    rgb = list(table[5])
    for k in range(4, -1, -1):
        m = i == k
        rgb = [torch.where(m, table[k][c], rgb[c]) for c in range(3)]
    return torch.stack(rgb, 1)


def augment(images, gen, scale_min, jitter_p=0.0, gray_p=0.0, blur_p=0.0, sigma=(0.1, 2.0), solarize_p=0.0):
    B, _, H, W = images.shape
    dev = images.device
    x = images.float().div_(255)

    def chance(p):
        return upload(torch.rand(B, generator=gen) < p, dev)

    def uniform(lo, hi):
        return upload(lo + (hi - lo) * torch.rand(B, generator=gen), dev)

    def per(v):
        return v.reshape(-1, 1, 1, 1)

    boxes = upload(crop_boxes(B, H, W, scale_min, gen), dev)
    flip = chance(0.5)
    left, top, bw, bh = boxes.unbind(1)
    sign = 1 - 2 * flip.float()
    z = torch.zeros_like(left)
    theta = torch.stack([torch.stack([sign * bw / W, z, (2 * left + bw) / W - 1], 1),
                         torch.stack([z, bh / H, (2 * top + bh) / H - 1], 1)], 1)
    grid = F.affine_grid(theta, [B, 3, H, W], align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    jitter = chance(jitter_p)
    fb, fc, fs, fh = uniform(0.6, 1.4), uniform(0.6, 1.4), uniform(0.8, 1.2), uniform(-0.1, 0.1)
    if jitter_p > 0:
        j = (x * per(fb)).clamp(0, 1)
        j = (per(fc) * j + (1 - per(fc)) * gray(j).mean((1, 2, 3), keepdim=True)).clamp(0, 1)
        j = (per(fs) * j + (1 - per(fs)) * gray(j)).clamp(0, 1)
        hsv = rgb_to_hsv(j)
        j = hsv_to_rgb(torch.stack([torch.fmod(hsv[:, 0] + fh.reshape(-1, 1, 1) + 1, 1), hsv[:, 1], hsv[:, 2]], 1))
        x = torch.where(per(jitter), j, x)
    g = chance(gray_p)
    if gray_p > 0:
        x = torch.where(per(g), gray(x).expand_as(x), x)
    blur, sig = chance(blur_p), uniform(*sigma)
    if blur_p > 0:
        rad = max(1, math.ceil(3 * sigma[1]))
        off = torch.arange(-rad, rad + 1, device=dev, dtype=x.dtype)[None]
        k = torch.exp(-0.5 * (off / sig[:, None]) ** 2)
        k = (k / k.sum(1, keepdim=True)).repeat_interleave(3, 0)
        y = F.pad(x.reshape(1, B * 3, H, W), (rad, rad, rad, rad), mode="reflect")
        y = F.conv2d(y, k.reshape(B * 3, 1, 1, -1), groups=B * 3)
        y = F.conv2d(y, k.reshape(B * 3, 1, -1, 1), groups=B * 3).reshape(B, 3, H, W)
        x = torch.where(per(blur), y, x)
    sol = chance(solarize_p)
    if solarize_p > 0:
        x = torch.where(per(sol), torch.where(x >= 0.5, 1 - x, x), x)
    return x


MEAN = torch.tensor([0.4914, 0.4822, 0.4465]).reshape(1, 3, 1, 1)
STD = torch.tensor([0.2470, 0.2435, 0.2616]).reshape(1, 3, 1, 1)


# ------------------------------------------------------------------------------------------------
# Objectives


class Moco(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = ViT()
        self.projector = mlp_head(3, 128, 1024, 256)
        self.predictor = mlp_head(2, 256, 1024, 256)
        self.m_encoder, self.m_projector = ViT(), mlp_head(3, 128, 1024, 256)
        self.m_encoder.load_state_dict(self.encoder.state_dict())
        self.m_projector.load_state_dict(self.projector.state_dict())
        for p in list(self.m_encoder.parameters()) + list(self.m_projector.parameters()):
            p.requires_grad = False
        for p in self.encoder.patch_embed.parameters():
            p.requires_grad = False

    def loss(self, images, gen, norm, progress):
        sig = (0.1 * 32 / 224, 2.0 * 32 / 224)
        v1 = norm(augment(images, gen, 0.2, 0.8, 0.2, 1.0, sig, 0.0))
        v2 = norm(augment(images, gen, 0.2, 0.8, 0.2, 0.1, sig, 0.2))
        f = self.encoder(torch.cat([v1, v2]))[:, 0].chunk(2)
        q = [self.predictor(self.projector(x)) for x in f]
        with torch.no_grad():
            m = 1 - 0.5 * (1 + math.cos(math.pi * progress)) * 0.01
            mine = list(self.m_encoder.parameters()) + list(self.m_projector.parameters())
            theirs = list(self.encoder.parameters()) + list(self.projector.parameters())
            torch._foreach_mul_(mine, m)
            torch._foreach_add_(mine, theirs, alpha=1 - m)
            k = [self.m_projector(x) for x in self.m_encoder(torch.cat([v1, v2]))[:, 0].chunk(2)]

        def ctr(a, b):
            with torch.autocast("cuda", enabled=False) if a.is_cuda else contextlib.nullcontext():
                a, b = F.normalize(a.float(), dim=1), F.normalize(b.float(), dim=1)
                logits = a @ b.t() / 0.2
                return F.cross_entropy(logits, torch.arange(len(a), device=a.device)) * 0.4

        return ctr(q[0], k[1]) + ctr(q[1], k[0])


class SimMim(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = ViT(mask_token=True)
        self.head = nn.Conv2d(128, 4 * 4 * 3, 1)

    def loss(self, images, gen, norm, progress):
        x = norm(augment(images, gen, 0.67))
        B = x.shape[0]
        order = torch.rand(B, 16, generator=gen).argsort(1)
        units = torch.zeros(B, 16).scatter_(1, order[:, :10], 1.0)
        mask = upload(units.reshape(B, 4, 4).repeat_interleave(2, 1).repeat_interleave(2, 2).reshape(B, 64).contiguous(), x.device)
        t = self.encoder(x, mask)[:, 1:]
        pred = F.pixel_shuffle(self.head(t.transpose(1, 2).reshape(B, 128, 8, 8)), 4)
        with torch.autocast("cuda", enabled=False) if x.is_cuda else contextlib.nullcontext():
            pm = mask.reshape(B, 8, 8).repeat_interleave(4, 1).repeat_interleave(4, 2).unsqueeze(1)
            l1 = (pred.float() - x).abs()
            return (l1 * pm).sum() / (pm.sum() + 1e-5) / 3


def param_groups(model):
    decay, no_decay = [], []
    for n, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim <= 1 or any(t in n for t in ("cls_token", "mask_token", "pos_embed")) else decay).append(p)
    return decay, no_decay


def python_throughput(objective, batch, steps, warmup, device, amp):
    torch.manual_seed(0)
    model = (Moco() if objective == "moco" else SimMim()).to(device).train()
    decay, no_decay = param_groups(model)
    wd = 0.1 if objective == "moco" else 0.05
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-4)
    data = torch.randint(0, 256, (4 * batch, 3, 32, 32), dtype=torch.uint8, device=device)
    mean, std = MEAN.to(device), STD.to(device)

    def norm(v):
        return (v - mean) / std

    use_amp = amp and device.type == "cuda" and hasattr(torch, "autocast")
    return timed_training(lambda idx, gen, i: model.loss(data.index_select(0, idx), gen, norm, i / 1000),
                          decay + no_decay, opt, batch, steps, warmup, device, use_amp)


def cli_command(cli, objective, data, batch, steps, warmup, device, amp):
    """vitscope-cli pretrain timing `steps` steps after `warmup` (also used by op_census.py)."""
    cmd = [cli, "pretrain", "--objective", objective, "--data", data, "--max-per-class", str(max(1, batch // 2)),
           "--batch-size", str(batch), "--benchmark-steps", str(steps), "--benchmark-warmup", str(warmup),
           "--device", device.type]
    return cmd + ["--amp"] if amp else cmd


def cli_throughput(cli, objective, data, batch, steps, warmup, device, amp):
    cmd = cli_command(cli, objective, data, batch, steps, warmup, device, amp)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return float(re.search(r"([0-9.]+) img/s", out.splitlines()[-1]).group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--objective", choices=["moco", "simmim", "both"], default="both")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--amp", action="store_true", help="bf16 autocast on CUDA (both sides)")
    ap.add_argument("--cli", help="path of vitscope-cli: also measure the C++ trainer")
    ap.add_argument("--data", default="../shared/data/cifar10/cifar10-jpg.tar.gz", help="data for the C++ run")
    ap.add_argument("--order", choices=["cpp-first", "python-first"], default="cpp-first")
    a = ap.parse_args()
    device = torch.device(a.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU ({torch.get_num_threads()} torch threads)"
    print(f"torch {torch.__version__}, {name}, batch {a.batch_size}, {a.steps} steps after {a.warmup} warm-up, "
          f"amp {a.amp}")
    for objective in (["moco", "simmim"] if a.objective == "both" else [a.objective]):
        cpp = (lambda: cli_throughput(a.cli, objective, a.data, a.batch_size, a.steps, a.warmup, device, a.amp)) if a.cli else None
        compare(f"{objective:7s}", a.order, cpp,
                lambda: python_throughput(objective, a.batch_size, a.steps, a.warmup, device, a.amp))


if __name__ == "__main__":
    main()
