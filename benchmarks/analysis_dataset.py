#!/usr/bin/env python3
"""PyTorch peer of `vitscope-cli analyze --metrics attention-distance,nmi,fourier`: the dataset path
written directly in PyTorch with the cl-vs-mim notebooks' formulas (paper-analyses.md §3.2, §3.3,
§3.6), batch by batch over a folder of images decoded from disk.

  * model: torchvision's VisionTransformer (Debian's python3-torch here) or timm's (GPU machine),
    ViT-B/16 geometry; with --weights M.safetensors the encoder weights of a ViTScope model (made by
    `vitscope-cli create`), so both sides compute the same numbers, else torchvision / timm's own
    random initialisation.
  * capture with hooks: the 12 post-softmax attention maps per head and the 25 residual-stream taps
    (embedding; after each block's attention residual and after its MLP residual), pre-final-norm.
  * per batch, as the notebooks: attention distance (CLS dropped, + 1e-32, rows renormalised,
    weighted pixel distance, mean over queries), NMI (+ 1e-8, uniform query prior from a softmax of
    ones, joint and key marginal, MI / sqrt(H(q) H(key))), Fourier (CLS dropped, tokens to 14x14 maps,
    ln(|fft2| + 1e-6), rolled by 7, channel mean, diagonal from DC minus DC); per-image values summed
    in fp64 over the data set.
  * images: PIL decode, resize of the shorter side to 256 (bilinear), centre crop 224, ImageNet
    normalisation (the preprocessing of the model card `create` writes for this preset).

Prints one JSON line: images, seconds (whole run and the batch loop), and the per-layer curves."""
import argparse
import json
import math
import os
import time

import torch
from PIL import Image

from peer_common import read_safetensors

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


def torchvision_vit(weights):
    from torchvision.models.vision_transformer import VisionTransformer
    model = VisionTransformer(image_size=224, patch_size=16, num_layers=12, num_heads=12, hidden_dim=768,
                              mlp_dim=3072)
    if weights:
        w = {k[len("encoder."):]: v for k, v in read_safetensors(weights).items() if k.startswith("encoder.")}
        state = {"class_token": w["cls_token"], "conv_proj.weight": w["patch_embed.proj.weight"],
                 "conv_proj.bias": w["patch_embed.proj.bias"], "encoder.pos_embedding": w["pos_embed"],
                 "encoder.ln.weight": w["norm.weight"], "encoder.ln.bias": w["norm.bias"]}
        pairs = [("ln_1", "norm1"), ("self_attention.out_proj", "attn.proj"), ("ln_2", "norm2"), ("mlp.0", "mlp.fc1"),
                 ("mlp.3", "mlp.fc2")]
        for k in range(12):
            theirs, ours = f"encoder.layers.encoder_layer_{k}.", f"blocks.{k}."
            for t, o in pairs:
                for p in ("weight", "bias"):
                    state[f"{theirs}{t}.{p}"] = w[f"{ours}{o}.{p}"]
            state[theirs + "self_attention.in_proj_weight"] = w[ours + "attn.qkv.weight"]  # same q, k, v order
            state[theirs + "self_attention.in_proj_bias"] = w[ours + "attn.qkv.bias"]
        missing = model.load_state_dict(state, strict=False).missing_keys
        assert missing == ["heads.head.weight", "heads.head.bias"], missing
    taps, attns = [], []
    for layer in model.encoder.layers:
        attn, forward = layer.self_attention, layer.self_attention.forward

        def with_weights(*args, forward=forward, **kw):
            kw["need_weights"], kw["average_attn_weights"] = True, False
            out, weights = forward(*args, **kw)
            attns.append(weights)
            return out, weights

        attn.forward = with_weights
        layer.ln_2.register_forward_pre_hook(lambda m, inp: taps.append(inp[0]))  # after the attention residual
        layer.register_forward_hook(lambda m, inp, out: taps.append(out))          # after the MLP residual
    model.encoder.layers[0].register_forward_pre_hook(lambda m, inp: taps.append(inp[0]))  # embedding

    def encode(x):
        tokens = model._process_input(x)
        tokens = torch.cat([model.class_token.expand(x.shape[0], -1, -1), tokens], dim=1)
        return model.encoder(tokens)  # the classifier head is not needed

    return encode, model, taps, attns


def timm_vit(weights):
    from timm.models.vision_transformer import VisionTransformer
    model = VisionTransformer(img_size=224, patch_size=16, embed_dim=768, depth=12, num_heads=12, num_classes=0)
    if weights:
        w = {k[len("encoder."):]: v for k, v in read_safetensors(weights).items() if k.startswith("encoder.")}
        model.load_state_dict(w, strict=True)
    taps, attns = [], []
    for blk in model.blocks:
        blk.attn.fused_attn = False  # the probabilities are needed
        blk.attn.attn_drop.register_forward_hook(lambda m, inp, out: attns.append(out))
        blk.norm2.register_forward_pre_hook(lambda m, inp: taps.append(inp[0]))
        blk.register_forward_hook(lambda m, inp, out: taps.append(out))
    model.blocks[0].register_forward_pre_hook(lambda m, inp: taps.append(inp[0]))
    return model.forward_features, model, taps, attns


class Folder(torch.utils.data.Dataset):
    def __init__(self, root, count):
        files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.lower().endswith(EXTENSIONS))
        self.files = files[:count] if count else files
        from torchvision import transforms
        self.transform = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
                                             transforms.Normalize(MEAN, STD)])

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        return self.transform(Image.open(self.files[i]).convert("RGB"))


def pixel_distances(grid, patch, device):
    r, c = torch.meshgrid(torch.arange(grid), torch.arange(grid), indexing="ij")
    pos = torch.stack([r.flatten(), c.flatten()], 1).float()
    return (torch.cdist(pos, pos, compute_mode="donot_use_mm_for_euclid_dist") * patch).to(device)


def attention_distance(attn, distances):  # §3.2
    a = attn[:, :, 1:, 1:] + 1e-32
    a = a / a.sum(dim=-1, keepdim=True)
    return (a * distances).sum(-1).mean(-1)  # (B, H)


def nmi(attn):  # §3.3
    a = attn[:, :, 1:, 1:] + 1e-8
    a = a / a.sum(dim=-1, keepdim=True)
    p_q = torch.softmax(torch.ones(a.shape[-1], device=a.device), 0)
    joint = p_q[:, None] * a
    p_k = joint.sum(-2)
    mi = (joint * torch.log(a / p_k.unsqueeze(-2))).sum((-2, -1))
    h_q = -(p_q * torch.log(p_q)).sum()
    h_k = -(p_k * torch.log(p_k)).sum(-1)
    return mi / torch.sqrt(h_q * h_k)  # (B, H)


def fourier(tap):  # §3.6, per image
    z = tap[:, 1:]
    b, n, c = z.shape
    g = int(math.sqrt(n))
    z = z.transpose(1, 2).reshape(b, c, g, g)
    f = (torch.fft.fft2(z).abs() + 1e-6).log()
    f = torch.roll(f, shifts=(g // 2, g // 2), dims=(2, 3)).mean(1)  # (B, g, g)
    diagonal = torch.diagonal(f, dim1=-2, dim2=-1)[:, g // 2:]
    return f, (diagonal - diagonal[:, :1])[:, -1]  # spectra, ΔLog amplitude (B)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", required=True)
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--peer", default="torchvision", choices=["torchvision", "timm"])
    ap.add_argument("--weights", default="")
    ap.add_argument("--workers", type=int, default=0, help="DataLoader workers (0: decode in the main process)")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: torch's default)")
    args = ap.parse_args()
    start = time.perf_counter()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    encode, model, taps, attns = (torchvision_vit if args.peer == "torchvision" else timm_vit)(args.weights)
    model = model.to(args.device).eval()
    data = Folder(args.images, args.count)
    loader = torch.utils.data.DataLoader(data, batch_size=args.batch_size, num_workers=args.workers)
    distances = pixel_distances(14, 16, args.device)
    sums = {"attention-distance": 0, "nmi": 0, "delta-log-amplitude": 0, "log-amplitude-spectrum": 0}
    loop_start = time.perf_counter()
    for x in loader:
        taps.clear()
        attns.clear()
        encode(x.to(args.device))
        assert len(attns) == 12 and len(taps) == 25
        sums["attention-distance"] += torch.stack([attention_distance(a, distances) for a in attns], 1).double().sum(0)
        sums["nmi"] += torch.stack([nmi(a) for a in attns], 1).double().sum(0)
        spectra, deltas = zip(*(fourier(t) for t in taps))
        sums["delta-log-amplitude"] += torch.stack(deltas, 1).double().sum(0)
        sums["log-amplitude-spectrum"] += torch.stack(spectra, 1).double().sum(0)
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
    end = time.perf_counter()
    n = len(data)
    print(json.dumps({"impl": args.peer, "device": args.device, "images": n, "threads": torch.get_num_threads(),
                      "seconds": end - start, "loop_seconds": end - loop_start,
                      "attention-distance": (sums["attention-distance"] / n).mean(1).tolist(),
                      "nmi": (sums["nmi"] / n).mean(1).tolist(),
                      "delta-log-amplitude": (sums["delta-log-amplitude"] / n).tolist()}), flush=True)


if __name__ == "__main__":
    main()
