"""From records to what a run found: suite results and their metrics, baseline comparisons,
threshold sweeps and the risk-coverage audit, and the one verdict."""
