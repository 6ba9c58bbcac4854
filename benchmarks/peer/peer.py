#!/usr/bin/env python3
"""peer.py: what a supplier writes by hand to send a backlog to conneQt.

Reads a gpdoc manifest, Base64-encodes each attachment's file, and POSTs
each message with a thread pool and naive retries. It validates nothing,
sanitises nothing, does not downsample, convert or render: a GP Connect
line's consultation is replaced by a ready-made PDF (REPORT). It is the
baseline that benchmarks/compare-peer.sh measures gpdoc against.

Usage: peer.py MANIFEST BASE_URL [THREADS] [REPORT]
Environment: CONNEQT_API_KEY, CONNEQT_ACCESS_TOKEN.
Prints one JSON object: sent, failed, elapsed seconds, messages/s.
"""
import base64, json, os, sys, time, uuid, urllib.request, urllib.error
from concurrent.futures import ThreadPoolExecutor

ROUTES = {"standard": ("ToolbarMessage", "/api/v1/messages"),
          "instant": ("ToolbarInstantMessage", "/api/v1/messages/instant"),
          "gpconnect": ("GPConnectMessage", "/api/v1/gpconnect/messages")}
NS = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")


def build(line, folder, report):
    m = json.loads(line)
    typ, path = ROUTES[m.pop("route")]
    m["type"] = typ
    m["messageId"] = str(uuid.uuid5(NS, "peer-" + m.pop("sourceId")))
    if m.pop("consultation", None) is not None:
        m["attachments"] = [{"fileName": "Consultation report.pdf", "mimeType": "application/pdf", "path": report}]
    for a in m.get("attachments", []):
        with open(os.path.join(folder, a.pop("path")), "rb") as f:
            a["content"] = base64.b64encode(f.read()).decode("ascii")
    return path, json.dumps(m).encode()


def send(base, key, token, path, body):
    headers = {"ApiKey": key, "Content-Type": "application/json"}
    if token and "instant" in path or "gpconnect" in path:
        headers["AccessToken"] = token
    for attempt in range(3):
        req = urllib.request.Request(base + path, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                r.read()
                return True
        except urllib.error.HTTPError as e:
            e.read()
            if e.code < 500:
                return False
        except OSError:
            pass
        time.sleep(1)
    return False


def main():
    manifest, base = sys.argv[1], sys.argv[2].rstrip("/")
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    report = sys.argv[4] if len(sys.argv) > 4 else "v1-letter-0.pdf"
    key, token = os.environ.get("CONNEQT_API_KEY", ""), os.environ.get("CONNEQT_ACCESS_TOKEN", "")
    folder = os.path.dirname(os.path.abspath(manifest))

    def one(line):
        path, body = build(line, folder, report)
        return send(base, key, token, path, body)

    start = time.time()
    with open(manifest) as f, ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(one, (l for l in f if l.strip())))
    elapsed = time.time() - start
    sent = sum(results)
    print(json.dumps({"sent": sent, "failed": len(results) - sent, "elapsedSeconds": round(elapsed, 3),
                      "messagesPerSecond": round(sent / elapsed, 2)}))


if __name__ == "__main__":
    main()
