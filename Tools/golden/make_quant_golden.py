#!/usr/bin/env python3
"""Dequantization goldens for Tests/KernelsTests (QuantGoldenTests.swift).

Pinned reference versions: Python 3, gguf==0.19.0, numpy==2.4.6.

Exact command (from the package root):

    . /work/ref/venv/bin/activate      # or: pip install gguf==0.19.0 numpy==2.4.6
    python Tools/golden/make_quant_golden.py Tests/KernelsTests/Fixtures/quant_golden.gguf

What it does: for each format (f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_K, q5_K, q6_K) it
builds a row-major matrix of blocks from a fixed seed: first hand-made edge-case blocks (all-zero,
zero / negative-zero scale, ±65504 scales, subnormal scales, negative mins, all-ones nibbles, ...),
then 64 random-byte blocks, then random padding blocks up to whole rows. Random bytes never put
NaN or Inf into an f16 scale (an all-ones exponent has one exponent bit cleared); the f32/f16/bf16
edge rows do carry ±Inf and quiet/signalling NaNs on purpose, and the Swift test compares those
bit for bit too. Each matrix is dequantized with gguf-py's numpy reference
(`gguf.quants.dequantize`), and ONE GGUF file is written with, per format NAME:

    NAME.raw      the raw blocks, tensor type = the format, dims [columns, rows]
    NAME.dequant  F32, dims [columns, rows], gguf-py's dequantization of NAME.raw

and metadata keys golden.* (generator, versions, seed, per-format edge-block counts).
"""
import importlib.metadata
import sys

import numpy as np

import gguf
from gguf.constants import GGML_QUANT_SIZES
from gguf.constants import GGMLQuantizationType as T

SEED = 20250611
RANDOM_BLOCKS = 64

# name, type, blocks per row, byte offsets of the f16 fields in a block (scales / mins)
FORMATS = [
    ("f32", T.F32, 32, []),
    ("f16", T.F16, 32, []),
    ("bf16", T.BF16, 32, []),
    ("q8_0", T.Q8_0, 4, [0]),
    ("q4_0", T.Q4_0, 4, [0]),
    ("q4_1", T.Q4_1, 4, [0, 2]),
    ("q5_0", T.Q5_0, 4, [0]),
    ("q5_1", T.Q5_1, 4, [0, 2]),
    ("q4_K", T.Q4_K, 2, [0, 2]),
    ("q5_K", T.Q5_K, 2, [0, 2]),
    ("q6_K", T.Q6_K, 2, [208]),
]

F16_MAX, F16_MIN = 0x7BFF, 0xFBFF  # ±65504
F16_ONE, F16_MINUS_ONE_AND_HALF = 0x3C00, 0xBE00
F16_SUBNORMAL_MIN, F16_SUBNORMAL_MAX = 0x0001, 0x03FF
F16_NEG_ZERO = 0x8000


def finite_f16_bits(bits: np.ndarray) -> np.ndarray:
    """Clears the lowest exponent bit where an f16 pattern is Inf/NaN (exponent all ones)."""
    bits = bits.astype(np.uint16)
    special = (bits & 0x7C00) == 0x7C00
    return np.where(special, bits & ~np.uint16(0x0400), bits).astype(np.uint16)


def put_f16(block: np.ndarray, offset: int, bits: int) -> None:
    block[offset : offset + 2] = np.array([bits], dtype="<u2").view(np.uint8)


def random_blocks(rng, count: int, type_size: int, f16_offsets) -> np.ndarray:
    blocks = rng.integers(0, 256, size=(count, type_size), dtype=np.uint8)
    for off in f16_offsets:
        field = blocks[:, off : off + 2].copy().view("<u2")
        blocks[:, off : off + 2] = finite_f16_bits(field).view(np.uint8)
    return blocks


def quant_edge_blocks(rng, type_size: int, f16_offsets) -> list[np.ndarray]:
    """Edge cases for block formats. f16_offsets[0] is the scale d, f16_offsets[1] the min/dmin."""
    d_off = f16_offsets[0]
    m_off = f16_offsets[1] if len(f16_offsets) > 1 else None
    edges = []

    def block_from(base: np.ndarray, d=None, m=None) -> np.ndarray:
        block = base.copy()
        if d is not None:
            put_f16(block, d_off, d)
        if m is not None and m_off is not None:
            put_f16(block, m_off, m)
        return block

    zeros = np.zeros(type_size, dtype=np.uint8)
    ones = np.full(type_size, 0xFF, dtype=np.uint8)
    noise = random_blocks(rng, 1, type_size, f16_offsets)[0]

    edges.append(zeros)  # all-zero block
    edges.append(block_from(noise, d=0x0000, m=F16_ONE))  # zero scale (min kept)
    edges.append(block_from(noise, d=F16_NEG_ZERO, m=F16_NEG_ZERO))  # negative-zero scale
    edges.append(block_from(ones, d=F16_MAX, m=F16_MAX))  # max scale, all-ones quants/scales
    edges.append(block_from(ones, d=F16_MIN, m=F16_MIN))  # min (most negative) scale, all-ones
    edges.append(block_from(noise, d=F16_MAX, m=F16_MIN))  # max scale, negative min
    edges.append(block_from(noise, d=F16_SUBNORMAL_MIN, m=F16_SUBNORMAL_MAX))  # subnormal scales
    edges.append(block_from(ones, d=F16_SUBNORMAL_MAX, m=F16_MINUS_ONE_AND_HALF))  # negative min
    edges.append(block_from(zeros, d=F16_ONE, m=F16_MINUS_ONE_AND_HALF))  # all-zero quants
    edges.append(block_from(ones, d=F16_ONE, m=0x0000))  # all-ones quants, unit scale
    return edges


def float_edge_blocks(qtype) -> list[np.ndarray]:
    """Special values for f32/f16/bf16, one element per 'block'."""
    if qtype == T.F32:
        bits = [0x00000000, 0x80000000, 0x7F7FFFFF, 0xFF7FFFFF, 0x00000001, 0x807FFFFF,
                0x7F800000, 0xFF800000, 0x7FC00000, 0x7F800001, 0xFFC12345, 0x3F800000]
        dtype = "<u4"
    else:  # f16 and bf16: both 16-bit patterns; what they mean differs per format
        bits = [0x0000, 0x8000, 0x7BFF, 0xFBFF, 0x0001, 0x03FF, 0x8001, 0x83FF, 0x0400,
                0x7C00, 0xFC00, 0x7E00, 0x7C01, 0xFE01, 0x7F7F, 0xFF80, 0x3C00, 0x3F80]
        dtype = "<u2"
    raw = np.array(bits, dtype=dtype).view(np.uint8)
    return list(raw.reshape(len(bits), -1))


def random_float_blocks(rng, count: int, qtype) -> np.ndarray:
    if qtype == T.F32:
        bits = rng.integers(0, 2**32, size=count, dtype=np.uint64).astype(np.uint32)
        special = (bits & 0x7F800000) == 0x7F800000
        bits = np.where(special, bits & ~np.uint32(0x00800000), bits).astype("<u4")
    elif qtype == T.F16:
        bits = finite_f16_bits(rng.integers(0, 2**16, size=count, dtype=np.uint32)).astype("<u2")
    else:  # bf16: clear an exponent bit where all 8 are set
        bits = rng.integers(0, 2**16, size=count, dtype=np.uint32).astype(np.uint16)
        special = (bits & 0x7F80) == 0x7F80
        bits = np.where(special, bits & ~np.uint16(0x0080), bits).astype("<u2")
    return bits.view(np.uint8).reshape(count, -1)


def build(rng, name, qtype, blocks_per_row, f16_offsets):
    block_size, type_size = GGML_QUANT_SIZES[qtype]
    if block_size == 1:
        edges = float_edge_blocks(qtype)
        random = random_float_blocks(rng, RANDOM_BLOCKS * 32, qtype)
    else:
        edges = quant_edge_blocks(rng, type_size, f16_offsets)
        random = random_blocks(rng, RANDOM_BLOCKS, type_size, f16_offsets)
    blocks = np.concatenate([np.stack(edges), random])
    pad = (-len(blocks)) % blocks_per_row
    if pad:
        if block_size == 1:
            padding = random_float_blocks(rng, pad, qtype)
        else:
            padding = random_blocks(rng, pad, type_size, f16_offsets)
        blocks = np.concatenate([blocks, padding])
    rows = len(blocks) // blocks_per_row
    raw = np.ascontiguousarray(blocks.reshape(rows, blocks_per_row * type_size))
    expected = gguf.quants.dequantize(raw, qtype)
    assert expected.dtype == np.float32
    assert expected.shape == (rows, blocks_per_row * block_size), (name, expected.shape)
    return raw, np.ascontiguousarray(expected), len(edges)


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUTPUT.gguf")
    rng = np.random.default_rng(SEED)
    writer = gguf.GGUFWriter(sys.argv[1], arch="quant-golden")
    writer.add_string("golden.generator", "Tools/golden/make_quant_golden.py")
    writer.add_string("golden.gguf_py_version", importlib.metadata.version("gguf"))
    writer.add_string("golden.numpy_version", np.__version__)
    writer.add_uint32("golden.seed", SEED)
    writer.add_string(
        "golden.layout",
        "NAME.raw: raw blocks (dims [columns, rows]); NAME.dequant: F32 from gguf.quants.dequantize; "
        "the first golden.NAME.edge_blocks blocks are hand-made edge cases, the rest random",
    )
    for name, qtype, blocks_per_row, f16_offsets in FORMATS:
        raw, expected, edge_count = build(rng, name, qtype, blocks_per_row, f16_offsets)
        writer.add_uint32(f"golden.{name}.edge_blocks", edge_count)
        if qtype == T.F32:
            writer.add_tensor(f"{name}.raw", raw.view(np.float32))
        else:
            writer.add_tensor(f"{name}.raw", raw, raw_dtype=qtype)
        writer.add_tensor(f"{name}.dequant", expected)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    main()
