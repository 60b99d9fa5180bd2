"""Anchor for the warm-cell benchmark: `1+1` through jupyter_client to an ipykernel, in the
same sandbox image. Prints one JSON object with the p50/p95 round trip in milliseconds."""
import json
import sys
import time

from jupyter_client.manager import start_new_kernel

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
km, kc = start_new_kernel(kernel_name="python3")
try:
    for _ in range(20):  # warm-up
        kc.execute_interactive("1+1", timeout=30, output_hook=lambda msg: None)
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        kc.execute_interactive("1+1", timeout=30, output_hook=lambda msg: None)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    print(json.dumps({
        "p50": samples[len(samples) // 2],
        "p95": samples[int(len(samples) * 0.95) - 1],
    }))
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
