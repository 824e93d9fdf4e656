# Sourced by scripts/run.sh (issue 5): two regional agents against the local control plane.
# seed_demo enrolled them and wrote <var>/agents/<region>.toml (demo tokens, root public key).
AGENT_CONFIG_DIR="${CONTROLPLANE_VAR_DIR:-var}/agents"
for region in eu-central us-east; do
  if [ -f "$AGENT_CONFIG_DIR/$region.toml" ]; then
    $BIN/python -m agents.cli run --config "$AGENT_CONFIG_DIR/$region.toml" \
      --url "http://127.0.0.1:$PORT" >"$LOG/agent-$region.log" 2>&1 & pids+=($!)
  fi
done
