#!/usr/bin/env python3
"""Peer fixtures: tiny ViTs built by *other* implementations, with random weights, saved in
their own checkpoint format together with inputs and the outputs they compute. The C++ tests
(tests/model/test_peer_equivalence.cpp) load each checkpoint through ViTScope's loader, run the
same inputs and compare every residual-stream tap, every attention map and the final output.

    /usr/bin/python3 tests/scripts/make_peer_fixtures.py --peers torchvision      # Debian torch 1.13
    python3 tests/scripts/make_peer_fixtures.py --peers timm,hf-vitmae,hf-dinov2   # GPU machine

Each peer writes tests/fixtures/peers/<peer>/: the checkpoint (as that library saves it),
`expected.safetensors` (inputs and outputs) and `meta.json` (shapes, options for the loader).
The tap layout is paper-analyses.md §1.5: tap 0 = embedding, 2k-1 / 2k = block k after the
attention / MLP residual, no final norm. Attentions are post-softmax (B, H, N, N).
"""
import argparse
import json
import os
import struct
import sys

import torch

SEED = 1234
B = 2


def save_safetensors(path, tensors, metadata=None):
    """Minimal safetensors writer (format: checkpoints.md §4.5) so no extra package is needed."""
    dtype_names = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.float16: "F16"}
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        data = t.numpy().tobytes()
        header[name] = {"dtype": dtype_names[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for blob in blobs:
            f.write(blob)


def randomise_norms(module):
    """LayerNorm weights default to ones and zeros; random values prove they are really loaded."""
    for m in module.modules():
        if isinstance(m, torch.nn.LayerNorm):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)


def explicit_attention(x, qkv_weight, qkv_bias, proj_weight, proj_bias, heads):
    """Reference attention written out, returning the output and the (B, H, N, N) probabilities."""
    b, n, d = x.shape
    qkv = torch.nn.functional.linear(x, qkv_weight, qkv_bias).reshape(b, n, 3, heads, d // heads).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]
    attn = ((q * (d // heads) ** -0.5) @ k.transpose(-2, -1)).softmax(-1)
    out = (attn @ v).transpose(1, 2).reshape(b, n, d)
    return torch.nn.functional.linear(out, proj_weight, proj_bias), attn


def write(out_dir, name, expected, meta):
    os.makedirs(out_dir, exist_ok=True)
    save_safetensors(os.path.join(out_dir, "expected.safetensors"), expected)
    with open(os.path.join(out_dir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
    print(f"{name}: wrote {out_dir} ({sum(os.path.getsize(os.path.join(out_dir, p)) for p in os.listdir(out_dir))} bytes)")


def peer_torchvision(out_root):
    from torchvision.models.vision_transformer import VisionTransformer

    torch.manual_seed(SEED)
    heads = 4
    model = VisionTransformer(image_size=32, patch_size=8, num_layers=3, num_heads=heads, hidden_dim=32, mlp_dim=64,
                              num_classes=10).eval()
    randomise_norms(model)
    with torch.no_grad():
        model.heads.head.weight.normal_(0, 0.1)  # torchvision zero-initialises the head
        model.heads.head.bias.normal_(0, 0.1)
    x = torch.randn(B, 3, 32, 32)
    expected = {"input": x}
    with torch.no_grad():
        h = model._process_input(x)
        h = torch.cat([model.class_token.expand(B, -1, -1), h], dim=1) + model.encoder.pos_embedding
        expected["tap_0"] = h
        for k, layer in enumerate(model.encoder.layers):
            a = layer.self_attention
            y, attn = explicit_attention(layer.ln_1(h), a.in_proj_weight, a.in_proj_bias, a.out_proj.weight,
                                         a.out_proj.bias, heads)
            # The peer's own attention weights must agree with the written-out reference.
            _, peer_attn = a(layer.ln_1(h), layer.ln_1(h), layer.ln_1(h), need_weights=True, average_attn_weights=False)
            assert torch.allclose(attn, peer_attn, atol=1e-6), "explicit attention differs from torchvision's"
            h = h + y
            expected[f"tap_{2 * k + 1}"] = h
            h = h + layer.mlp(layer.ln_2(h))
            expected[f"tap_{2 * k + 2}"] = h
            expected[f"attn_{k}"] = attn
        tokens = model.encoder.ln(h)
        logits = model.heads(tokens[:, 0])
        assert torch.allclose(logits, model(x), atol=1e-5), "manual forward differs from torchvision's forward"
        expected["output"] = logits
    out_dir = os.path.join(out_root, "torchvision")
    os.makedirs(out_dir, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(out_dir, "vit_tiny_torchvision.pth"))
    write(out_dir, "torchvision", expected, {
        "checkpoint": "vit_tiny_torchvision.pth", "peer": f"torchvision {__import__('torchvision').__version__}",
        "torch": torch.__version__, "num_heads": heads, "depth": 3, "output": "logits", "tolerance": 1e-4})


def peer_timm(out_root):
    import timm
    from safetensors.torch import save_file
    from timm.models.vision_transformer import VisionTransformer

    # Two variants: layer scale + learned pos (DINO/DeiT-3-like) and registers with no_embed_class
    # (DINOv2-with-registers-like).
    for variant, kwargs in [("timm", dict(init_values=0.1)), ("timm-reg", dict(reg_tokens=4, no_embed_class=True))]:
        torch.manual_seed(SEED)
        heads = 4
        model = VisionTransformer(img_size=32, patch_size=8, embed_dim=32, depth=3, num_heads=heads, mlp_ratio=2.0,
                                  num_classes=10, qkv_bias=True, **kwargs).eval()
        randomise_norms(model)
        x = torch.randn(B, 3, 32, 32)
        expected = {"input": x}
        with torch.no_grad():
            h = model._pos_embed(model.patch_embed(x))
            h = model.norm_pre(h)
            expected["tap_0"] = h
            for k, blk in enumerate(model.blocks):
                a = blk.attn
                y, attn = explicit_attention(blk.norm1(h), a.qkv.weight, a.qkv.bias, a.proj.weight, a.proj.bias, heads)
                h = h + blk.ls1(y)
                expected[f"tap_{2 * k + 1}"] = h
                h = h + blk.ls2(blk.mlp(blk.norm2(h)))
                expected[f"tap_{2 * k + 2}"] = h
                expected[f"attn_{k}"] = attn
            feats = model.norm(h)
            assert torch.allclose(feats, model.forward_features(x), atol=1e-5), "manual forward differs from timm"
            expected["output"] = model.forward_head(feats)
        out_dir = os.path.join(out_root, variant)
        os.makedirs(out_dir, exist_ok=True)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(out_dir, "model.safetensors"))
        write(out_dir, variant, expected, {"checkpoint": "model.safetensors", "peer": f"timm {timm.__version__}",
                                           "torch": torch.__version__, "num_heads": heads, "depth": 3,
                                           "output": "logits", "tolerance": 1e-4})


def peer_hf_vitmae(out_root):
    import transformers
    from transformers import ViTMAEConfig, ViTMAEForPreTraining

    torch.manual_seed(SEED)
    cfg = ViTMAEConfig(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
                       intermediate_size=64, decoder_hidden_size=16, decoder_num_hidden_layers=2,
                       decoder_num_attention_heads=4, decoder_intermediate_size=32, mask_ratio=0.75,
                       norm_pix_loss=False, layer_norm_eps=1e-12, attn_implementation="eager")
    model = ViTMAEForPreTraining(cfg).eval()
    randomise_norms(model)
    x = torch.randn(B, 3, 32, 32)
    noise = torch.rand(B, 16)
    with torch.no_grad():
        out = model(pixel_values=x, noise=noise, output_attentions=True, output_hidden_states=True)
    expected = {"input": x, "noise": noise, "output": out.logits, "mask": out.mask.float(),
                "ids_restore": out.ids_restore.long()}
    for k, attn in enumerate(out.attentions or []):
        expected[f"attn_{k}"] = attn  # encoder attention over the 1 + 4 visible tokens
    out_dir = os.path.join(out_root, "hf-vitmae")
    model.save_pretrained(out_dir, safe_serialization=True)
    write(out_dir, "hf-vitmae", expected, {"checkpoint": ".", "peer": f"transformers {transformers.__version__}",
                                           "torch": torch.__version__, "num_heads": 4, "depth": 3,
                                           "output": "mae_reconstruction", "tolerance": 1e-4})


def peer_hf_dinov2(out_root):
    import transformers
    from transformers import Dinov2Config, Dinov2Model

    torch.manual_seed(SEED)
    cfg = Dinov2Config(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
                       mlp_ratio=2, layerscale_value=0.1, attn_implementation="eager")
    model = Dinov2Model(cfg).eval()
    randomise_norms(model)
    x = torch.randn(B, 3, 32, 32)
    with torch.no_grad():
        out = model(pixel_values=x, output_attentions=True, output_hidden_states=True)
    expected = {"input": x, "output": out.last_hidden_state}
    # hidden_states: embedding output, then each layer's output (= our taps 0, 2, 4, ...).
    for k, h in enumerate(out.hidden_states):
        expected[f"tap_{2 * k}"] = h
    for k, attn in enumerate(out.attentions):
        expected[f"attn_{k}"] = attn
    out_dir = os.path.join(out_root, "hf-dinov2")
    model.save_pretrained(out_dir, safe_serialization=True)
    write(out_dir, "hf-dinov2", expected, {"checkpoint": ".", "peer": f"transformers {transformers.__version__}",
                                           "torch": torch.__version__, "num_heads": 4, "depth": 3,
                                           "output": "tokens", "tolerance": 1e-4})


PEERS = {"torchvision": peer_torchvision, "timm": peer_timm, "hf-vitmae": peer_hf_vitmae, "hf-dinov2": peer_hf_dinov2}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peers", default="torchvision", help="comma list of " + ",".join(PEERS))
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "fixtures", "peers"))
    args = ap.parse_args()
    failed = []
    for name in args.peers.split(","):
        try:
            PEERS[name](args.out)
        except Exception as e:  # one peer failing must not stop the others (GPU-machine run)
            print(f"{name}: FAILED: {e!r}", file=sys.stderr)
            failed.append(name)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
