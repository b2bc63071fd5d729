#!/usr/bin/env python3
"""Draws the small sample images committed in resources/samples/generated/ (run with
/usr/bin/python3: needs numpy and PIL from Debian). Each one isolates a cue the paper talks
about: a clear shape on a plain ground, the same shape carrying another texture, and a pure
texture, so CL-vs-MIM differences in attention and spectra are easy to see."""
import os

import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "resources", "samples", "generated")
S = 128
rng = np.random.default_rng(7)
yy, xx = np.mgrid[0:S, 0:S] / S


def save(name, rgb):
    os.makedirs(OUT, exist_ok=True)
    Image.fromarray((np.clip(rgb, 0, 1) * 255).astype(np.uint8)).save(os.path.join(OUT, name), optimize=True)


def star_mask(cx, cy, r_outer, r_inner, points=5):
    ang = np.arctan2(yy - cy, xx - cx)
    rad = np.hypot(yy - cy, xx - cx)
    t = (np.cos(points * ang) + 1) / 2
    return rad < r_inner + (r_outer - r_inner) * t


shape = star_mask(0.5, 0.52, 0.42, 0.2)
ground = np.stack([0.85 + 0.1 * yy, 0.9 + 0 * yy, 0.95 - 0.1 * yy], -1)
red = np.array([0.85, 0.2, 0.15])
save("shape_star.png", np.where(shape[..., None], red, ground))

stripes = 0.5 + 0.5 * np.sign(np.sin(2 * np.pi * 10 * (xx + yy)))
texture = np.stack([stripes * 0.9, stripes * 0.7 + 0.1, 0.2 + 0 * stripes], -1)
save("star_with_stripes.png", np.where(shape[..., None], texture, ground))

noise = rng.random((S // 4, S // 4))
blobs = np.kron(noise, np.ones((4, 4)))
fine = rng.random((S, S)) * 0.3
save("texture_only.png", np.stack([0.4 + 0.4 * blobs + fine, 0.3 + 0.3 * blobs, 0.2 + fine], -1))
print("wrote", sorted(os.listdir(OUT)))
