"""A GGUF's Q4_1 weights rewritten as Q4_0, once, so llama.cpp batches them fast on CPUs.

llama.cpp multiplies Q4_0 weights with repacked GEMM kernels (its CPU "repack" buffers,
AVX2/NEON) whenever several tokens go through the model together: the slots of concurrent
streams decoded in one step, or a prompt. Q4_1, the type SmolLM2's shipped file uses, has
no such kernel, so a batch of four tokens costs nearly four single ones; that, more than the
slot count or threads, is what kept four streams near 1.4x one stream's tokens/s on two
cores. Rewritten as Q4_0 the same model serves four streams about 1.4x faster and reaches
its first token in about half the time (`benchmarks/local_chat_concurrency.py`).

The rewrite is lossy: Q4_1 keeps a minimum per block of 32 weights, Q4_0 only a scale, so
the answers differ from the shipped file's (not measurably worse on the quality set of
`benchmarks/local_chat_models.py`, where both score poorly). Hence an option,
`weights: q4_0`, not the default. Tensors of other types are copied as they are.

The result is cached under `$XDG_CACHE_HOME/aiport/gguf` (else `~/.cache/aiport/gguf`),
named by the source's name, size and modification time; it is written to a temporary
file and renamed, so processes starting together never read half a file.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gguf import GGUFReader, ReaderField

log = logging.getLogger(__name__)
# Not copied: the writer lays out its own header and data (its default alignment).
WRITER_FIELDS = ("general.architecture", "general.alignment")


def cache_home() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "aiport" / "gguf"


def as_q4_0(source: Path, cache: Path | None = None) -> Path:
    """`source` with its Q4_1 tensors as Q4_0: the cached copy, made on first use (or
    `source` itself when it has no Q4_1 tensor)."""
    from gguf import GGMLQuantizationType, GGUFReader

    stat = source.stat()
    folder = cache or cache_home()
    target = folder / f"{source.stem}-{stat.st_size}-{stat.st_mtime_ns}.q4_0.gguf"
    if target.is_file():
        return target
    reader = GGUFReader(source)
    if all(tensor.tensor_type != GGMLQuantizationType.Q4_1 for tensor in reader.tensors):
        return source
    folder.mkdir(parents=True, exist_ok=True)
    log.info("rewriting %s as Q4_0 into %s (once)", source.name, folder)
    handle, temporary = tempfile.mkstemp(dir=folder, suffix=".part")
    os.close(handle)
    try:
        _rewrite(reader, Path(temporary))
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def _rewrite(reader: GGUFReader, target: Path) -> None:
    import numpy as np
    from gguf import GGMLQuantizationType, GGUFValueType, GGUFWriter, quants

    writer = GGUFWriter(target, _value(reader.fields["general.architecture"], 0))
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name in WRITER_FIELDS:
            continue
        kind = field.types[0]
        if kind == GGUFValueType.ARRAY:
            values = [_value(field, i) for i in range(len(field.data))]
            writer.add_key_value(field.name, values, kind, sub_type=field.types[1])
        else:
            writer.add_key_value(field.name, _value(field, 0), kind)
    for tensor in reader.tensors:
        if tensor.tensor_type == GGMLQuantizationType.Q4_1:
            shape = [int(n) for n in reversed(tensor.shape.tolist())]
            weights = quants.dequantize(tensor.data, GGMLQuantizationType.Q4_1).reshape(shape)
            data = quants.quantize(weights.astype(np.float32), GGMLQuantizationType.Q4_0)
            writer.add_tensor(tensor.name, data, raw_dtype=GGMLQuantizationType.Q4_0)
        else:
            writer.add_tensor(
                tensor.name, tensor.data, raw_shape=tensor.data.shape, raw_dtype=tensor.tensor_type
            )
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def _value(field: ReaderField, index: int) -> Any:
    """The field's `index`-th value (its only one, unless an array) as Python."""
    from gguf import GGUFValueType

    part = field.parts[field.data[index]]
    if field.types[-1] == GGUFValueType.STRING:
        return bytes(part).decode("utf-8", errors="surrogateescape")
    return part.tolist()[0]
