# Sourced by scripts/run.sh before the agents start (issue 15): the demo agents record synthetic
# observations and close a metrics period every minute, so the charts fill within minutes.
export SOVEREIGN_AGENT_METRICS_PERIOD="${SOVEREIGN_AGENT_METRICS_PERIOD:-60}"
export SOVEREIGN_AGENT_DEMO_OBSERVATIONS="${SOVEREIGN_AGENT_DEMO_OBSERVATIONS:-10}"
