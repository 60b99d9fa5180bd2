"""Anchors for the sandbox benchmarks: `1+1`, and a plot cell (argv[3], the same code the
sandbox is timed with) shown by the inline backend as Jupyter does, through jupyter_client to
an ipykernel in the same sandbox image. Prints one JSON object with the p50/p95 round trip of
`1+1` and the p50 of the plot, in milliseconds."""
import json
import sys
import time

from jupyter_client.manager import start_new_kernel

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
plot_rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 0
plot_code = sys.argv[3] if len(sys.argv) > 3 else ""
km, kc = start_new_kernel(kernel_name="python3")


def plot_p50():
    """The plot cell's round trip, its PNG arriving as display_data (the image sets Agg as
    the backend; a notebook user gets inline, which renders and sends the PNG)."""
    if plot_rounds == 0:
        return None
    images = []
    kc.execute_interactive("%matplotlib inline", timeout=60, output_hook=lambda msg: None)
    hook = lambda msg: images.append(1) if "image/png" in msg["content"].get("data", {}) else None
    for _ in range(3):  # warm-up: fonts, the first figure
        kc.execute_interactive(plot_code, timeout=60, output_hook=hook)
    samples = []
    for _ in range(plot_rounds):
        images.clear()
        started = time.perf_counter()
        kc.execute_interactive(plot_code, timeout=60, output_hook=hook)
        samples.append((time.perf_counter() - started) * 1000)
        if not images:
            raise SystemExit("the Jupyter plot cell showed no PNG")
    samples.sort()
    return samples[len(samples) // 2]


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
        "plot_p50": plot_p50(),
    }))
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
