"""Times ingestion of the same documents by 1 node and by 3 nodes (see benches/nodes/run)."""
import argparse, json, os, subprocess, threading, time, urllib.request, uuid

def call(method, url, token=None, body=None, raw=None, content_type="application/json"):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", content_type)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read() or b"null")

def start_node(args, work, env, n):
    data = os.path.join(work, f"node{n}")
    os.makedirs(data)
    log = open(os.path.join(work, f"node{n}.log"), "w")
    p = subprocess.Popen([args.bin, "serve", "--addr", "127.0.0.1:0", "--log-format", "json", "--data-dir", data],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    open(os.path.join(work, f"node{n}.pid"), "w").write(str(p.pid))
    for line in p.stderr:  # RUST_LOG must keep info: the "listening" line names the port
        log.write(line)
        if '"listening"' in line:
            port = json.loads(line)["addr"].rsplit(":", 1)[1]
            break
    # Keep draining the node's log: a full stderr pipe would block the node mid-request.
    threading.Thread(target=lambda: log.writelines(p.stderr), daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(base + "/health/ready", timeout=1)
            return p, base
        except Exception:
            time.sleep(0.1)
    raise SystemExit(f"node {n} did not become ready")

def multipart(files):
    boundary = uuid.uuid4().hex
    out = b""
    for name, text in files:
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                f"Content-Type: text/markdown\r\n\r\n").encode() + text.encode() + b"\r\n"
    return out + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"

def run(args, nodes, docs):
    work = os.path.join(args.work, f"deploy{nodes}")
    os.makedirs(work)
    db = f"lb_{uuid.uuid4().hex}"
    subprocess.run(["psql", args.pg, "-qc", f"CREATE DATABASE {db}"], check=True)
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LECTERN_MODELS_DIR", "ORT_DYLIB_PATH") if k in os.environ}
    env.update({
        "DATABASE_URL": args.pg.rsplit("/", 1)[0] + "/" + db, "QDRANT_URL": args.qdrant,
        "QDRANT_COLLECTION": f"bench_{db}", "REDIS_URL": args.redis,
        "LECTERN_BLOB_STORE": f"s3://lectern-test/{db}", "LECTERN_S3_ENDPOINT": args.s3,
        "LECTERN_S3_REGION": "us-east-1", "LECTERN_S3_ACCESS_KEY_ID": "lectern",
        "LECTERN_S3_SECRET_ACCESS_KEY": "lectern-secret", "LECTERN_NODE_MODE": "cluster",
        "LECTERN_JWT_SECRET": "bench-secret-0123456789abcdef0123456789", "RUST_LOG": "info",
        "LECTERN_RATE_LIMITS": "global=off,ingest=off,auth=off",
    })
    procs = [start_node(args, work, env, n) for n in range(nodes)]
    base = procs[0][1]
    call("POST", base + "/v1/auth/setup", body={"email": "b@example.com", "name": "B",
         "password": "correct horse battery staple", "tenant": {"name": "Bench"}})
    token = call("POST", base + "/v1/auth/login", body={"email": "b@example.com",
                 "password": "correct horse battery staple"})["accessToken"]
    kb = call("POST", base + "/v1/knowledge-bases", token, {"name": "Bench"})["id"]
    started = time.time()
    for i in range(0, len(docs), 50):
        body, ctype = multipart(docs[i:i + 50])
        call("POST", f"{base}/v1/knowledge-bases/{kb}/documents?allowDuplicate=true", token, raw=body,
             content_type=ctype)
    while True:
        status = call("GET", f"{base}/v1/knowledge-bases/{kb}", token)["status"]
        if status["queued"] == 0 and status["processing"] == 0:
            break
        time.sleep(0.5)
    seconds = time.time() - started
    chunks = call("GET", f"{base}/v1/knowledge-bases/{kb}", token)["chunks"]
    for p, _ in procs:
        p.terminate()
        p.wait()
    subprocess.run(["psql", args.pg, "-qc", f"DROP DATABASE IF EXISTS {db}"], check=False)
    return seconds, chunks, status

def main():
    ap = argparse.ArgumentParser()
    for a in ("bin", "work", "pg", "qdrant", "s3", "redis", "corpus"):
        ap.add_argument("--" + a, required=True)
    ap.add_argument("--documents", type=int, default=600)
    args = ap.parse_args()
    docs = []
    with open(args.corpus) as f:
        for i, line in enumerate(f):
            if i >= args.documents:
                break
            d = json.loads(line)
            docs.append((f"doc-{i}.md", f"# {d['title']}\n\n{d['text']}"))
    results = {n: run(args, n, docs) for n in (1, 3)}
    base = results[1][0]
    for n, (seconds, chunks, status) in results.items():
        print(f"{n} node(s): {len(docs)} documents, {chunks} chunks in {seconds:.1f} s ({chunks / seconds:.1f} "
              f"chunks/s; {status['ready']} ready, {status['failed']} failed), {base / seconds:.2f}x one node")

if __name__ == "__main__":
    main()
