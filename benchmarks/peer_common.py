"""What the PyTorch peers of the benchmarks share: reading a ViTScope .safetensors without the
safetensors package, uploading CPU tensors like ViTScope does, and timing a training loop."""
import contextlib
import json
import struct
import time

import torch

DTYPES = {"F16": torch.float16, "BF16": torch.bfloat16, "F32": torch.float32, "F64": torch.float64, "I64": torch.int64}


def read_safetensors(path):
    """name -> fp32 tensor (the format: 8-byte header length, JSON header, raw little-endian data)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        blob = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        t = torch.frombuffer(bytearray(blob[start:end]), dtype=DTYPES[info["dtype"]]) if end > start else torch.empty(0)
        out[name] = t.reshape(info["shape"]).float()
    return out


def upload(t, device):
    """As core/train/random.h's upload: pinned and asynchronous to a GPU."""
    return t.pin_memory().to(device, non_blocking=True) if device.type == "cuda" else t.to(device)


def timed_training(loss_of, parameters, optimizer, batch, steps, warmup, device, use_amp):
    """Images per second of `steps` training steps after `warmup` untimed ones. Step i draws its
    batch indices (of 4 * batch images) and augmentation generator from seeds i and 1000 + i, as
    the C++ trainer does, and computes loss_of(indices, generator, i) under bf16 autocast when
    use_amp; then zero_grad, backward, gradient clipping at norm 3 and the optimiser step."""
    def step(i):
        idx = upload(torch.randperm(4 * batch, generator=torch.Generator().manual_seed(i))[:batch], device)
        gen = torch.Generator().manual_seed(1000 + i)
        with torch.autocast("cuda", dtype=torch.bfloat16) if use_amp else contextlib.nullcontext():
            loss = loss_of(idx, gen, i)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 3.0)
        optimizer.step()

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    for i in range(warmup):
        step(i)
    sync()
    t0 = time.perf_counter()
    for i in range(steps):
        step(warmup + i)
    sync()
    return steps * batch / (time.perf_counter() - t0)


def compare(label, order, cpp, python):
    """Measures both sides in `order` ("cpp-first" or "python-first"; cpp may be None: Python
    only) and prints one line with both throughputs and the ratio C++ / Python."""
    runs = {}
    for side in (["cpp", "python"] if order == "cpp-first" else ["python", "cpp"]):
        if side == "cpp" and cpp:
            runs["cpp"] = cpp()
        elif side == "python":
            runs["python"] = python()
    line = f"{label} python {runs['python']:9.1f} img/s"
    if "cpp" in runs:
        line += f"   c++ {runs['cpp']:9.1f} img/s   ratio c++/python {runs['cpp'] / runs['python']:.2f}"
    print(line, flush=True)
