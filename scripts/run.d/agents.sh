# Sourced by scripts/run.sh (issue 5): two regional agents against the local control plane.
# seed_demo enrolled them and wrote <var>/agents/<region>.toml (demo tokens, root public key,
# this run's control-plane URL and listen ports from DEMO_CONTROLPLANE_URL / DEMO_AGENT_PORTS).
AGENT_CONFIG_DIR="${CONTROLPLANE_VAR_DIR:-var}/agents"
for region in eu-central us-east; do
  if [ -f "$AGENT_CONFIG_DIR/$region.toml" ]; then
    $BIN/python -m agents.cli run --config "$AGENT_CONFIG_DIR/$region.toml" \
      --url "$DEMO_CONTROLPLANE_URL" >"$LOG/agent-$region.log" 2>&1 & pids+=($!)
  fi
done
