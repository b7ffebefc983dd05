"""Timing shared by the Python benchmark runners (the same protocol as bench/timing.mjs):
warm up for `warmup_s`, then `reps` timed repetitions of `inner` calls; milliseconds per call."""
import time


def measure(fn, warmup_s=1.5, reps=5, inner=20):
    t = time.perf_counter()
    while time.perf_counter() - t < warmup_s:
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - t0) / inner * 1000)
    times.sort()
    return {"median": times[len(times) // 2], "min": times[0], "max": times[-1], "reps": reps, "inner": inner}
