import pandas as pd
import matplotlib.pyplot as plt

# Load CSV data
df = pd.read_csv('metrics_output/metrics_test_001.csv')

# Plot GPU utilization over time
plt.figure(figsize=(12, 6))
plt.plot(df.index, df['gpu_0_utilization'], label='GPU 0')
plt.plot(df.index, df['gpu_1_utilization'], label='GPU 1')
plt.xlabel('Time (samples)')
plt.ylabel('GPU Utilization (%)')
plt.legend()
plt.title('GPU Utilization During vLLM Testing')
plt.show()

# Analyze throughput correlation with latency
plt.scatter(df['tokens_per_second'], df['mean_latency_ms'])
plt.xlabel('Throughput (tokens/s)')
plt.ylabel('Mean Latency (ms)')
plt.title('Throughput vs Latency Trade-off')
plt.show()
