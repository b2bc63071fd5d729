#!/usr/bin/env python3
"""PyTorch peer of bench_forward_capture: the same ViT forward capturing every attention map
(post-softmax, per head) and every residual-stream tap with hooks, random weights.

peer = torchvision (Debian python3-torch here): EncoderBlock hooks for the taps, and the
    attention module asked for per-head weights (its fast path returns none).
peer = timm (GPU machine): fused attention off, hooks on attn_drop (probabilities), on
    drop_path1 (attention branch) and on the blocks (MLP residual).
Prints one JSON line per configuration, like the C++ benchmark."""
import argparse
import json
import time

import torch


def torchvision_model(dim, heads):
    from torchvision.models.vision_transformer import VisionTransformer
    model = VisionTransformer(image_size=224, patch_size=16, num_layers=12, num_heads=heads, hidden_dim=dim,
                              mlp_dim=4 * dim)
    taps, attns = [], []
    for layer in model.encoder.layers:
        attn = layer.self_attention
        original = attn.forward

        def with_weights(*args, original=original, **kw):  # torchvision passes query=, key=, value=
            kw["need_weights"], kw["average_attn_weights"] = True, False
            out, w = original(*args, **kw)
            attns.append(w)
            return out, w

        attn.forward = with_weights
        # after the attention residual = block input + attention branch; after MLP = block output
        layer.register_forward_hook(lambda m, inp, out: taps.append(out))
        layer.dropout.register_forward_hook(lambda m, inp, out: taps.append(out))  # branch (residual added below)
    return model, taps, attns


def timm_model(dim, heads):
    from timm.models.vision_transformer import VisionTransformer
    model = VisionTransformer(img_size=224, patch_size=16, embed_dim=dim, depth=12, num_heads=heads, num_classes=0)
    taps, attns = [], []
    for blk in model.blocks:
        blk.attn.fused_attn = False
        blk.attn.attn_drop.register_forward_hook(lambda m, inp, out: attns.append(out))
        blk.register_forward_pre_hook(lambda m, inp: taps.append(inp[0]))
        blk.drop_path1.register_forward_hook(lambda m, inp, out: taps.append(out))
        blk.register_forward_hook(lambda m, inp, out: taps.append(out))
    return model, taps, attns


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peer", default="torchvision", choices=["torchvision", "timm"])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    for name, dim, heads in [("vit_s16", 384, 6), ("vit_b16", 768, 12)]:
        if args.only and args.only != name:
            continue
        model, taps, attns = (torchvision_model if args.peer == "torchvision" else timm_model)(dim, heads)
        model = model.to(args.device).eval()
        for batch in (1, 32):
            x = torch.randn(batch, 3, 224, 224, device=args.device)

            def run():
                taps.clear()
                attns.clear()
                out = model.forward_features(x) if args.peer == "timm" else model(x)
                if args.device.startswith("cuda"):
                    torch.cuda.synchronize()
                assert len(attns) == 12, "attention probabilities were not captured"
                return out

            run()
            t0 = time.perf_counter()
            for _ in range(args.iterations):
                run()
            ms = (time.perf_counter() - t0) * 1000 / args.iterations
            print(json.dumps({"impl": args.peer, "model": name, "batch": batch, "capture": True, "device": args.device,
                              "ms_per_batch": ms, "ms_per_image": ms / batch}), flush=True)


if __name__ == "__main__":
    main()
