# Reads a metrics CSV with pandas and prints what the pandas example would see, as JSON, for the Go test to
# compare with its own reading of the same file.
import json
import sys

import pandas as pd

df = pd.read_csv(sys.argv[1])
out = {
    "rows": int(len(df)),
    "gpu_0_utilization_known": int(df["gpu_0_utilization"].notna().sum()),
    "gpu_1_utilization_known": int(df["gpu_1_utilization"].notna().sum()),
    "mean_latency_ms_known": int(df["mean_latency_ms"].notna().sum()),
    "mean_latency_ms_sum": float(df["mean_latency_ms"].fillna(0).sum()),
    "tokens_per_second_known": int(df["tokens_per_second"].notna().sum()),
    "latency_source": sorted(str(v) for v in df["latency_source"].dropna().unique()),
}
print(json.dumps(out))
