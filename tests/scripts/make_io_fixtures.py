#!/usr/bin/python3
"""Writes the torch.save fixtures of tests/io (tests/fixtures/io/) and their expected values.

Run with Debian's Python, which has python3-torch 1.13 (the `python3` first on PATH may not):
    /usr/bin/python3 tests/scripts/make_io_fixtures.py

Each fixture imitates the wrapper layout of a public checkpoint family (checkpoints.md §4.1)
with tiny tensors. expected.json records, per fixture, what the C++ reader must produce:
the unwrapped branch, each tensor's shape, dtype, float64 sum and first values (row-major),
and selected metadata values.
"""
import argparse
import collections
import json
import os
import sys
import types

import numpy as np
import torch
from torch import nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "io")

DTYPE_NAMES = {
    torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "BOOL",
}


class TinyBlock(nn.Module):
    """A Linear, a LayerNorm and a BatchNorm: float weights plus an int64 rank-0 buffer."""

    def __init__(self, dim=4):
        super().__init__()
        self.fc = nn.Linear(dim, 3)
        self.norm = nn.LayerNorm(3)
        self.bn = nn.BatchNorm1d(3)


def tiny_state_dict():
    return TinyBlock().state_dict()  # an OrderedDict with a BUILD of _metadata (§4.2)


def prefixed(state_dict, prefix):
    return collections.OrderedDict((prefix + k, v) for k, v in state_dict.items())


def adam_state(params):
    """A real optimizer.state_dict() after one step: {'state': {0: {...}}, 'param_groups': [...]}."""
    optimizer = torch.optim.AdamW(params, lr=1e-3)
    sum(p.sum() for p in params).backward()
    optimizer.step()
    return optimizer.state_dict()


def make_fake_yacs():
    """yacs is not installed; a dict subclass named yacs.config.CfgNode pickles the same way."""
    module = types.ModuleType("yacs.config")

    class CfgNode(dict):
        pass

    CfgNode.__module__ = "yacs.config"
    CfgNode.__qualname__ = "CfgNode"
    module.CfgNode = CfgNode
    sys.modules["yacs"] = types.ModuleType("yacs")
    sys.modules["yacs.config"] = module
    return CfgNode


def fixtures():
    """name -> (object to save, torch.save keyword arguments, key of the state dict or "")."""
    torch.manual_seed(0)
    CfgNode = make_fake_yacs()

    qkv = torch.randn(9, 4)
    views = {"qkv": qkv, "q": qkv[0:3], "k": qkv[3:6], "v": qkv[6:9],
             "qkv_t": qkv.t(), "column": qkv[:, 1],
             "scalar": torch.tensor(3.5), "empty": torch.zeros(0, 4)}

    encoder = prefixed(tiny_state_dict(), "module.base_encoder.")
    momentum = prefixed(tiny_state_dict(), "module.momentum_encoder.")
    moco_model = nn.Linear(2, 2)
    moco = {"epoch": 300, "arch": "vit_small",
            "state_dict": collections.OrderedDict(list(encoder.items()) + list(momentum.items())),
            "optimizer": adam_state(list(moco_model.parameters()))}

    mae_args = argparse.Namespace(model="mae_vit_base_patch16", input_size=224, mask_ratio=0.75,
                                  norm_pix_loss=True, blr=1.5e-4, lr=None, device="cuda",
                                  resume="")
    mae = {"model": tiny_state_dict(), "args": mae_args, "epoch": 799}

    dino_args = argparse.Namespace(arch="vit_small", patch_size=16, out_dim=65536)
    dino = {"student": prefixed(tiny_state_dict(), "module.backbone."),
            "teacher": prefixed(tiny_state_dict(), "backbone."),
            "epoch": 100, "args": dino_args,
            "dino_loss": collections.OrderedDict(center=torch.zeros(1, 8))}

    config = CfgNode(MODEL=CfgNode(TYPE="vit", VIT=CfgNode(EMBED_DIM=768, DEPTH=12)),
                     DATA=CfgNode(IMG_SIZE=192))
    simmim = {"model": collections.OrderedDict(
                  list(prefixed(tiny_state_dict(), "encoder.").items())
                  + [("decoder.0.weight", torch.randn(2, 3, 1, 1))]),
              "config": config, "epoch": 99}

    numpy_and_parameter = {"weight": nn.Parameter(torch.randn(2, 3)), "bias": torch.randn(3),
                           "best_acc": np.float64(76.5), "step": np.int64(12)}

    dtypes = {"f32": torch.randn(2, 3), "f16": torch.randn(3, 2).half(),
              "bf16": torch.randn(5).bfloat16(), "f64": torch.randn(2, 2).double(),
              "i64": torch.arange(-3, 3, dtype=torch.int64),
              "i32": torch.tensor([1, -2, 3], dtype=torch.int32),
              "i16": torch.tensor([7, -8], dtype=torch.int16),
              "i8": torch.tensor([-1, 2], dtype=torch.int8),
              "u8": torch.tensor([0, 255], dtype=torch.uint8),
              "bool": torch.tensor([True, False, True])}

    protocol4 = {"state_dict": tiny_state_dict(), "tags": {"mim"}, "frozen": frozenset({3}),
                 "name": "p4"}

    return {
        "state_dict_ordered.pth": (tiny_state_dict(), {}, ""),
        "moco_like.pth.tar": (moco, {}, "state_dict"),
        "mae_like.pth": (mae, {}, "model"),
        "dino_full_like.pth": (dino, {}, "teacher"),
        "simmim_like.pth": (simmim, {}, "model"),
        "one_key.pth": ({"weight": torch.arange(6, dtype=torch.float32).reshape(2, 3)}, {}, ""),
        "numpy_and_parameter.pth": (numpy_and_parameter, {}, ""),
        "dtypes.pth": (dtypes, {}, ""),
        "views.pth": (views, {}, ""),
        "protocol4.pth": (protocol4, {"pickle_protocol": 4}, "state_dict"),
        "legacy.pth": (tiny_state_dict(), {"_use_new_zipfile_serialization": False}, ""),
    }


def tensor_leaves(obj, prefix=""):
    """The tensors the C++ reader must report for a (nested) dict, named with '.'."""
    out = {}
    for key, value in obj.items():
        name = prefix + str(key)
        if isinstance(value, torch.Tensor):
            out[name] = value
        elif isinstance(value, dict):
            out.update(tensor_leaves(value, name + "."))
    return out


def describe(tensor):
    flat = tensor.detach().reshape(-1)
    return {"shape": list(tensor.shape), "dtype": DTYPE_NAMES[tensor.dtype],
            "sum": flat.double().sum().item(),
            "first": [float(x) for x in flat[:4].double().tolist()]}


def main():
    os.makedirs(OUT, exist_ok=True)
    expected = {}
    for name, (obj, save_kwargs, branch) in fixtures().items():
        torch.save(obj, os.path.join(OUT, name), **save_kwargs)
        if name == "legacy.pth":
            continue  # refused by the reader; no tensors to compare
        state_dict = obj[branch] if branch else obj
        expected[name] = {"unwrapped_from": branch,
                          "tensors": {key: describe(t) for key, t in tensor_leaves(state_dict).items()}}

    script = torch.jit.script(TinyBlock())
    script.save(os.path.join(OUT, "torchscript.pt"))

    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
