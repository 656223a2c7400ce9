#!/bin/bash
# Submit a campaign to SLURM: first `scout check` here (nothing is queued for a campaign that
# cannot run), then the coordinator job, then an array of N workers that start once the
# coordinator has started. The storage is chosen once, here, and every job gets it through
# SCOUT_STORAGE (sbatch passes the environment on):
#
#   examples/slurm/submit.sh path/to/campaign.toml 32
#
# - SCOUT_STORAGE set: that storage (postgresql://user@host/db, journal:////shared/x.journal);
# - else the config's [campaign] storage, unless that is a SQLite file (the default), which is
#   unsafe on a shared file system: then a journal file beside the config.
# SCOUT_ENV: the virtualenv that has scout (default: .venv in the current folder).
set -euo pipefail

CONFIG=$(realpath "${1:?usage: submit.sh CONFIG [N_WORKERS]}")
N_WORKERS="${2:-8}"
HERE=$(dirname "$(realpath "$0")")

export SCOUT_ENV="${SCOUT_ENV:-$PWD/.venv}"
if [ ! -f "$SCOUT_ENV/bin/activate" ]; then
    echo "error: no Python environment at SCOUT_ENV=$SCOUT_ENV (set SCOUT_ENV to the virtualenv that has scout)" >&2
    exit 2
fi
# shellcheck source=/dev/null
source "$SCOUT_ENV/bin/activate"

if [ -z "${SCOUT_STORAGE:-}" ]; then
    configured=$(python -c 'import sys; from active_learning import CampaignConfig; print(CampaignConfig.from_toml(sys.argv[1]).storage)' "$CONFIG")
    if [[ "$configured" == sqlite:* ]]; then
        SCOUT_STORAGE="journal:///$(dirname "$CONFIG")/$(basename "$CONFIG" .toml).journal"
        echo "storage: a journal file beside the config (SQLite is unsafe on a shared file system)"
    else
        SCOUT_STORAGE="$configured"
    fi
fi
export SCOUT_STORAGE

scout check "$CONFIG"
coordinator=$(sbatch --parsable "$HERE/scout_coordinator.sbatch" "$CONFIG")
echo "coordinator: job $coordinator"
workers=$(sbatch --parsable --dependency="after:${coordinator%%;*}" \
    --array="0-$((N_WORKERS - 1))" "$HERE/scout_workers.sbatch" "$CONFIG")
echo "workers: array job $workers ($N_WORKERS tasks)"
echo "watch it with: scout status $CONFIG   (with SCOUT_STORAGE as above)"
