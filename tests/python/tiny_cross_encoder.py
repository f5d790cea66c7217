#!/usr/bin/env python3
"""Tiny synthetic BERT-style cross-encoder ONNX (no weights needed): bag-of-words overlap scorer.
inputs input_ids/attention_mask/token_type_ids int64 [batch, seq]; output logits f32 [batch, 1].
score = <mean emb of query tokens (type 0), mean emb of doc tokens (type 1)>, [CLS]/[SEP]/[PAD] zeroed.
Usage: make_tiny_cross_encoder.py OUT.onnx [vocab_size=30522] [dim=32]"""
import sys, numpy as np, onnx
from onnx import helper as h, TensorProto as T, numpy_helper as nh
out = sys.argv[1]; V = int(sys.argv[2]) if len(sys.argv) > 2 else 30522; D = int(sys.argv[3]) if len(sys.argv) > 3 else 32
E = np.random.default_rng(0).choice([-1.0, 1.0], size=(V, D)).astype(np.float32)
E[[0, 100, 101, 102, 103]] = 0  # [PAD] [UNK] [CLS] [SEP] [MASK] carry no signal (bert-uncased ids)
inits = [nh.from_array(E, "E"), nh.from_array(np.array([-1], np.int64), "ax"),
         nh.from_array(np.array(1e-6, np.float32), "eps")]
n = [h.make_node("Gather", ["E", "input_ids"], ["emb"]),                    # [b,s,D]
     h.make_node("Cast", ["attention_mask"], ["m"], to=T.FLOAT),
     h.make_node("Cast", ["token_type_ids"], ["t"], to=T.FLOAT),
     h.make_node("Mul", ["m", "t"], ["md"]),                                  # doc mask
     h.make_node("Sub", ["m", "md"], ["mq"]),                                 # query mask
     h.make_node("Unsqueeze", ["mq", "ax"], ["mq3"]), h.make_node("Unsqueeze", ["md", "ax"], ["md3"]),
     h.make_node("Mul", ["emb", "mq3"], ["eq"]), h.make_node("Mul", ["emb", "md3"], ["ed"]),
     h.make_node("ReduceSum", ["eq", "ax1"], ["sq"], keepdims=0),             # [b,D]
     h.make_node("ReduceSum", ["ed", "ax1"], ["sd"], keepdims=0),
     h.make_node("ReduceSum", ["mq", "ax1"], ["cq"], keepdims=1),             # [b,1]
     h.make_node("ReduceSum", ["md", "ax1"], ["cd"], keepdims=1),
     h.make_node("Add", ["cq", "eps"], ["cq1"]), h.make_node("Add", ["cd", "eps"], ["cd1"]),
     h.make_node("Div", ["sq", "cq1"], ["vq"]), h.make_node("Div", ["sd", "cd1"], ["vd"]),
     h.make_node("Mul", ["vq", "vd"], ["p"]),
     h.make_node("ReduceSum", ["p", "ax"], ["logits"], keepdims=1)]          # [b,1]
inits.append(nh.from_array(np.array([1], np.int64), "ax1"))
ins = [h.make_tensor_value_info(x, T.INT64, ["batch", "seq"]) for x in ("input_ids", "attention_mask", "token_type_ids")]
g = h.make_graph(n, "tiny_cross_encoder", ins, [h.make_tensor_value_info("logits", T.FLOAT, ["batch", 1])], inits)
m = h.make_model(g, opset_imports=[h.make_opsetid("", 17)], ir_version=8); onnx.checker.check_model(m); onnx.save(m, out)
print("wrote", out)
