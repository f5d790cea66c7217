"""Ingestion of the same chunks by Lectern's peers, next to Lectern's own numbers from one run.

Reads the chunk texts `lectern eval --export-chunks` wrote (the first ones carry the vector
Lectern's `/v1/embeddings` returned) and Lectern's eval report, then measures on the same
texts and the same all-MiniLM-L6-v2 ONNX file:
  - raw ONNX Runtime (default session options, batches of 64, in file order): the physical limit;
  - LanceDB (embedded): embed a batch, add it to a table;
  - Chroma (persistent, embedded): embed a batch, add it to a collection.
The vectors are checked against Lectern's (cosine >= 0.99) so that everyone computes the same
thing. Prints one table of chunks/s with ratios; `--json` prints the numbers.
"""

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

BATCH = 64
MAX_LENGTH = 256


class Model:
    """all-MiniLM-L6-v2 as sentence-transformers computes it: mean pooling, L2 normalisation."""

    def __init__(self, model_dir: Path):
        self.session = ort.InferenceSession(str(model_dir / "model.onnx"), providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_LENGTH)
        self.tokenizer.enable_padding()

    def embed(self, texts):
        encoded = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(None, feed)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


def batches(texts):
    for start in range(0, len(texts), BATCH):
        yield start, texts[start : start + BATCH]


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(run):
    started, cpu = time.perf_counter(), cpu_seconds()
    run()
    return time.perf_counter() - started, cpu_seconds() - cpu


def raw_onnx(model, texts):
    for _, batch in batches(texts):
        model.embed(batch)


def lancedb_ingest(model, texts, directory):
    import lancedb

    db = lancedb.connect(str(directory))
    table = None
    for start, batch in batches(texts):
        vectors = model.embed(batch)
        rows = [{"id": start + i, "text": t, "vector": v.tolist()} for i, (t, v) in enumerate(zip(batch, vectors))]
        if table is None:
            table = db.create_table("chunks", data=rows)
        else:
            table.add(rows)
    assert table.count_rows() == len(texts)


def chroma_ingest(model, texts, directory):
    import chromadb

    client = chromadb.PersistentClient(path=str(directory))
    collection = client.create_collection("chunks", embedding_function=None, metadata={"hnsw:space": "cosine"})
    for start, batch in batches(texts):
        vectors = model.embed(batch)
        collection.add(ids=[str(start + i) for i in range(len(batch))], embeddings=vectors.tolist(), documents=batch)
    assert collection.count() == len(texts)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", required=True, type=Path)
    parser.add_argument("--lectern-report", required=True, type=Path)
    parser.add_argument("--model-dir", required=True, type=Path)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    lines = [json.loads(line) for line in args.chunks.read_text().splitlines() if line.strip()]
    texts = [line["text"] for line in lines]
    sample = [(line["text"], np.array(line["vector"], dtype=np.float32)) for line in lines if "vector" in line]
    report = json.loads(args.lectern_report.read_text())
    model = Model(args.model_dir)

    ours = model.embed([text for text, _ in sample]) if sample else np.zeros((0, 1))
    cosines = [float(np.dot(a, b) / (np.linalg.norm(b) or 1.0)) for a, (_, b) in zip(ours, sample)]
    min_cosine = min(cosines) if cosines else float("nan")
    if not cosines or min_cosine < 0.99:
        print(f"the peers' vectors differ from Lectern's: min cosine {min_cosine:.4f} over {len(cosines)}", file=sys.stderr)
        sys.exit(1)

    results = {}
    for name, run in [("onnxruntime (raw, batches of 64)", raw_onnx), ("lancedb", lancedb_ingest), ("chromadb", chroma_ingest)]:
        directory = Path(tempfile.mkdtemp(prefix="lectern-peers-"))
        try:
            if run is raw_onnx:
                seconds, cpu = timed(lambda: raw_onnx(model, texts))
            else:
                seconds, cpu = timed(lambda: run(model, texts, directory))
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        results[name] = {"seconds": seconds, "chunksPerSecond": len(texts) / seconds, "cpuSeconds": cpu}
        print(f"peers: {name}: {len(texts)} chunks in {seconds:.1f} s", file=sys.stderr)

    lectern_ingest = report["ingestChunksPerSecond"]
    lectern_embed = report["embedChunksPerSecond"]
    raw = results["onnxruntime (raw, batches of 64)"]["chunksPerSecond"]
    if args.json:
        print(json.dumps({"chunks": len(texts), "minCosine": min_cosine, "lectern": report, "peers": results}))
        return
    rows = [
        ("lectern ingest (API, full pipeline)", report["ingestSeconds"], lectern_ingest),
        ("lectern /v1/embeddings", len(texts) / lectern_embed, lectern_embed),
    ] + [(name, r["seconds"], r["chunksPerSecond"]) for name, r in results.items()]
    print(
        f"{report['dataset']}: {len(texts)} chunks, the same texts and ONNX model for everyone "
        f"(vectors agree with Lectern's to cosine >= {min_cosine:.4f}); Lectern peak RSS {report['peakRssMb']} MB, "
        f"{report['workers']} workers, batch {report['embedBatch']}, arena {'on' if report['embedMemoryArena'] else 'off'}\n"
    )
    print(f"{'engine':<36} {'seconds':>8} {'chunks/s':>9} {'Lectern ingest ÷ this':>22} {'this ÷ raw ONNX':>16}")
    for name, seconds, rate in rows:
        print(f"{name:<36} {seconds:>8.1f} {rate:>9.1f} {lectern_ingest / rate:>21.2f}x {rate / raw:>15.2f}x")


if __name__ == "__main__":
    main()
