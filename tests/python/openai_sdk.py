"""The official openai SDK against Lectern's OpenAI-compatible gateway.

Run by tests/api/gateway.rs with LECTERN_BASE (…/v1), LECTERN_KEY (an API key), LECTERN_KB (a
knowledge base whose documents mention the refund policy) and LECTERN_UPSTREAM_MODEL (a model
served by the test's fake upstream). Exits non-zero on the first failed check.
"""

import base64
import math
import os
import struct

import openai

client = openai.OpenAI(base_url=os.environ["LECTERN_BASE"], api_key=os.environ["LECTERN_KEY"], max_retries=0)
kb = os.environ["LECTERN_KB"]
upstream = os.environ["LECTERN_UPSTREAM_MODEL"]

models = {m.id: m for m in client.models.list().data}
assert "extractive" in models and upstream in models, models.keys()

# A plain chat completion through the upstream.
reply = client.chat.completions.create(model=upstream, messages=[{"role": "user", "content": "Hello"}])
assert reply.choices[0].message.content == "The answer is in the handbook [1].", reply
assert reply.usage.prompt_tokens == 11 and reply.usage.completion_tokens > 0, reply.usage

# Streamed, with usage in the last chunk.
stream = client.chat.completions.create(
    model=upstream,
    messages=[{"role": "user", "content": "Hello again"}],
    stream=True,
    stream_options={"include_usage": True},
)
text, usage = "", None
for chunk in stream:
    if chunk.choices and chunk.choices[0].delta.content:
        text += chunk.choices[0].delta.content
    if chunk.usage:
        usage = chunk.usage
assert text == "The answer is in the handbook [1].", text
assert usage is not None and usage.total_tokens == usage.prompt_tokens + usage.completion_tokens, usage

# Legacy completions, plain and streamed.
completion = client.completions.create(model=upstream, prompt="Say it", max_tokens=20)
assert completion.choices[0].text == "The answer is in the handbook [1].", completion
streamed = "".join(c.choices[0].text for c in client.completions.create(model=upstream, prompt="Say it", stream=True) if c.choices)
assert streamed == "The answer is in the handbook [1].", streamed

# Embeddings: the local model's dimension, similar texts closer, base64 equal to floats.
texts = ["How do refunds work?", "Can I get my money back?", "The parcel left Rotterdam."]
vectors = [d.embedding for d in client.embeddings.create(model="all-minilm-l6-v2", input=texts).data]
assert len(vectors) == 3 and all(len(v) == 384 for v in vectors), [len(v) for v in vectors]


def cosine(a, b):
    return sum(x * y for x, y in zip(a, b)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2]) + 0.1
encoded = client.embeddings.create(model="all-minilm-l6-v2", input="How do refunds work?", encoding_format="base64").data[0].embedding
if isinstance(encoded, str):
    encoded = list(struct.unpack("<384f", base64.b64decode(encoded)))
assert cosine(encoded, vectors[0]) > 0.9999

# RAG through the extension: the built-in extractive model quotes the knowledge base, cited.
rag = client.chat.completions.create(
    model="extractive",
    messages=[{"role": "user", "content": "Within how many days can customers return a purchase?"}],
    extra_body={"knowledge_base": kb},
)
answer = rag.choices[0].message.content
assert "30 days" in answer and "[1]" in answer, answer
extra = rag.model_dump()
citations = extra["choices"][0]["message"]["metadata"]["citations"]
assert citations and citations[0]["documentTitle"] == "Refund policy", citations
checked = extra["choices"][0]["message"]["metadata"]["verification"]
assert checked["method"] == "extractive" and checked["supported"] >= 1 and checked["unsupported"] == 0, checked

# Streamed, the last chunk carries the citations and their check.
streamed = client.chat.completions.create(
    model="extractive",
    messages=[{"role": "user", "content": "Within how many days can customers return a purchase?"}],
    extra_body={"knowledge_base": kb},
    stream=True,
)
chunks = [chunk.model_dump() for chunk in streamed]
text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
assert "30 days" in text, text
last = [c for c in chunks if c.get("verification")]
assert len(last) == 1 and last[0]["choices"][0]["finish_reason"] == "stop", chunks[-2:]
assert last[0]["verification"]["supported"] >= 1 and last[0]["citations"], last

# Errors arrive as the SDK's typed exceptions.
try:
    client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}])
    raise AssertionError("an unknown model must fail")
except openai.BadRequestError as error:
    assert error.status_code == 400 and "no-such-model" in str(error), error
try:
    openai.OpenAI(base_url=os.environ["LECTERN_BASE"], api_key="lk_live_wrong", max_retries=0).models.list()
    raise AssertionError("a wrong key must fail")
except openai.AuthenticationError as error:
    assert error.status_code == 401
try:
    client.chat.completions.create(model=upstream, messages=[{"role": "user", "content": "please FAIL"}])
    raise AssertionError("an upstream failure must surface")
except openai.APIStatusError as error:
    assert error.status_code == 502, error

print("openai sdk", openai.__version__, "ok")
