#!/usr/bin/env python3
"""Loopback load test of an `rmas serve` (or any OpenAI-compatible) server, standard library only.

usage: serve-load.py BASE_URL MODEL CLIENTS REQUESTS_PER_CLIENT MAX_TOKENS [METHOD]

CLIENTS threads each send REQUESTS_PER_CLIENT chat completions one after another (a different
GSM-style question each). Prints the count of errors by status, p50/p90/p99 latency, requests per
second and completion tokens per second over the whole run.
"""
import json
import sys
import threading
import time
import urllib.error
import urllib.request


def main():
    base, model = sys.argv[1], sys.argv[2]
    clients, per_client, max_tokens = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    method = sys.argv[6] if len(sys.argv) > 6 else None
    latencies, statuses, tokens = [], {}, [0]
    lock = threading.Lock()

    def client(c):
        for i in range(per_client):
            body = {"model": model, "max_tokens": max_tokens,
                    "messages": [{"role": "user", "content": f"Tom has {c + 2} apples and buys {i + 3} more. How many apples does he have?"}]}
            if method:
                body["method"] = method
            request = urllib.request.Request(base + "/v1/chat/completions", data=json.dumps(body).encode(),
                                             headers={"Content-Type": "application/json"})
            start = time.monotonic()
            try:
                with urllib.request.urlopen(request, timeout=600) as response:
                    reply = json.load(response)
                    status = response.status
                    used = reply["usage"]["completion_tokens"]
            except urllib.error.HTTPError as error:
                status, used = error.code, 0
            except Exception as error:  # connection refused or reset
                status, used = type(error).__name__, 0
            with lock:
                latencies.append(time.monotonic() - start)
                statuses[status] = statuses.get(status, 0) + 1
                tokens[0] += used

    start = time.monotonic()
    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - start
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))]

    errors = {k: v for k, v in statuses.items() if k != 200}
    print(f"{model}{' ' + method if method else ''}: {clients} clients x {per_client} requests, max_tokens {max_tokens}: "
          f"{statuses.get(200, 0)} ok, errors {errors or 0}; latency p50 {pct(50):.2f} s, p90 {pct(90):.2f} s, "
          f"p99 {pct(99):.2f} s; {len(latencies) / wall:.2f} req/s, {tokens[0] / wall:.1f} completion tok/s over {wall:.1f} s")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
