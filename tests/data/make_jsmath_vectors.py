"""Regenerate ``jsmath-vectors.npz``: V8's ``Math.*`` on inputs chosen to cover every branch of the ports.

    python tests/data/make_jsmath_vectors.py     (needs ``node``; the tests only read the .npz)

Inputs are drawn by a seeded numpy generator: dense in the ranges training meets (|x| <= 8 for sin, the
activations' total inputs), log-uniform magnitudes down to subnormals and up to overflow, and points
on and next to every threshold the fdlibm code branches on (ln2/2, 1.5*ln2, 1, 22, pi/4, 3pi/4, ...).
node evaluates each function on them; both are stored as float64.
"""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import numpy as np

OUT = Path(__file__).with_name("jsmath-vectors.npz")
FUNCTIONS = ("sin", "cos", "log", "exp", "expm1", "tanh")
PER_FUNCTION = 8_000


def _neighbours(points: list[float], steps: int = 3) -> list[float]:
    """Each point and its ``steps`` nearest doubles on either side, with both signs."""
    out = []
    for p in points:
        for s in (p, -p):
            v = s
            for _ in range(steps):
                v = math.nextafter(v, -math.inf)
            for _ in range(2 * steps + 1):
                out.append(v)
                v = math.nextafter(v, math.inf)
    return out


def _inputs(name: str, rng: np.random.Generator) -> np.ndarray:
    ln2 = math.log(2)
    special = [0.0, -0.0, math.inf, -math.inf, math.nan, 5e-324, 2.0**-1022, 1.0, 2.0, 0.5]
    edges = {
        "sin": [math.pi / 4, 3 * math.pi / 4, math.pi / 2, math.pi, 2.0**-27, 0.3, 0.78125]
        + [n * math.pi / 2 for n in range(1, 40)],
        "cos": [math.pi / 4, 3 * math.pi / 4, math.pi / 2, math.pi, 2.0**-27, 0.3, 0.78125]
        + [n * math.pi / 2 for n in range(1, 40)],
        "log": [1.0, 2.0, math.sqrt(2), 0.5, 2.0**-1022, 1e-300, 1e300],
        "exp": [ln2 / 2, 1.5 * ln2, 2.0**-28, 709.782712893384, -745.1332191019411, -708.4, 1.0]
        + [k * ln2 for k in range(-1030, 1030, 7)],
        "expm1": [ln2 / 2, 1.5 * ln2, 2.0**-54, 56 * ln2, 709.782712893384, 0.25, 20 * ln2]
        + [k * ln2 for k in range(-60, 60)],
        "tanh": [2.0**-28, 1.0, 22.0, 0.5, ln2 / 4, 0.75 * ln2, 28 * ln2],
    }[name]
    scale = {"sin": 8.0, "cos": 8.0, "log": 10.0, "exp": 30.0, "expm1": 30.0, "tanh": 8.0}[name]
    fixed = special + _neighbours(edges)
    n_random = PER_FUNCTION - len(fixed)
    dense = rng.uniform(-scale, scale, n_random // 2)
    wide = np.exp2(rng.uniform(-60, 12, n_random - len(dense))) * rng.choice([-1.0, 1.0], n_random - len(dense))
    if name == "log":
        dense, wide = np.abs(dense) * 3, np.exp2(rng.uniform(-1074, 1023, len(wide)))
    if name == "exp":
        wide = rng.uniform(-746, 710, len(wide))
    return np.concatenate([np.array(fixed), dense, wide])


SCRIPT = """
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const view = new DataView(new ArrayBuffer(8));
const fromHex = (h) => { view.setBigUint64(0, BigInt('0x' + h)); return view.getFloat64(0); };
const toHex = (x) => { view.setFloat64(0, x); return view.getBigUint64(0).toString(16).padStart(16, '0'); };
const out = {};
for (const [name, values] of Object.entries(input)) out[name] = values.map((h) => toHex(Math[name](fromHex(h))));
process.stdout.write(JSON.stringify(out));
"""


def _hex(values: np.ndarray) -> list[str]:
    return [f"{v:016x}" for v in values.view(np.uint64)]


def main() -> None:
    rng = np.random.default_rng(20240611)
    inputs = {name: _inputs(name, rng) for name in FUNCTIONS}
    payload = json.dumps({name: _hex(values) for name, values in inputs.items()})
    result = subprocess.run(["node", "-e", SCRIPT], input=payload, capture_output=True, text=True, check=True)
    outputs = json.loads(result.stdout)
    version = subprocess.run(["node", "-p", "process.versions.v8"], capture_output=True, text=True, check=True)
    arrays = {}
    for name in FUNCTIONS:
        arrays[f"{name}_in"] = inputs[name]
        arrays[f"{name}_out"] = np.array([int(h, 16) for h in outputs[name]], dtype=np.uint64).view(np.float64)
    arrays["v8_version"] = np.array(version.stdout.strip())
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes, V8 {version.stdout.strip()})")


if __name__ == "__main__":
    main()
