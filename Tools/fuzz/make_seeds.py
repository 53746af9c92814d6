# Writes the GGUF fuzzer's seed corpus (corpus/gguf): small valid GGUF files covering every
# metadata value type, nested arrays, several tensor types and a custom alignment.
# Pinned: gguf==0.19.0, numpy==2.4.6.   Run: python Tools/fuzz/make_seeds.py
import os
import numpy as np
import gguf

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "gguf")
os.makedirs(here, exist_ok=True)

def write(name, build, alignment=None):
    path = os.path.join(here, name)
    w = gguf.GGUFWriter(path, "llama")
    if alignment:
        w.data_alignment = alignment
        w.add_uint32("general.alignment", alignment)
    build(w)
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()

def all_values(w):
    w.add_uint8("u8", 7); w.add_int8("i8", -7); w.add_uint16("u16", 700); w.add_int16("i16", -700)
    w.add_uint32("u32", 70000); w.add_int32("i32", -70000); w.add_uint64("u64", 1 << 40)
    w.add_int64("i64", -(1 << 40)); w.add_float32("f32", 1.5); w.add_float64("f64", -2.25)
    w.add_bool("b", True); w.add_string("s", "héllo ✓")
    w.add_array("strings", ["a", "", "<|im_start|>"]); w.add_array("ints", [1, 2, 3])
    w.add_array("nested", [[1, 2], [3]])
    w.add_tensor("f32", np.arange(8, dtype=np.float32))

def tensors(w):
    rng = np.random.default_rng(0)
    w.add_tensor("f16", rng.standard_normal((2, 32)).astype(np.float16))
    w.add_tensor("q8_0", rng.integers(0, 256, (2, 34), dtype=np.uint8), raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    w.add_tensor("q4_K", rng.integers(0, 256, (1, 144), dtype=np.uint8), raw_dtype=gguf.GGMLQuantizationType.Q4_K)

write("values.gguf", all_values)
write("tensors.gguf", tensors)
write("aligned64.gguf", tensors, alignment=64)
write("empty.gguf", lambda w: None)
print("wrote", sorted(os.listdir(here)))
