#!/usr/bin/env bash
# Data-parallel training over MPI: bash scripts/train-mpi.sh N [--hostfile FILE] [revnet train options]
# Runs N ranks of `revnet train` under Open MPI's mpirun (installed from Debian's openmpi-bin if missing). Each rank
# trains on a 1/N slice of every global batch (--batch is the global batch) and the ranks average gradients with
# MPI_Allreduce; rank 0 alone prints progress and writes --out. --hostfile FILE spreads the ranks over the machines it
# lists (the same build and data paths must exist on each). REVNET_THREADS (threads per rank) defaults to the cores
# divided by the ranks on this machine, so N ranks do not oversubscribe it. REVNET_DLL runs that revnet.dll instead of
# building Examples/Cli.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 1 ] || ! [[ "$1" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: bash scripts/train-mpi.sh N [--hostfile FILE] [revnet train options]  (N: number of ranks)" >&2
  exit 2
fi
ranks=$1; shift
hostfile=()
if [ "${1:-}" = "--hostfile" ]; then
  [ -f "${2:-}" ] || { echo "train-mpi.sh: hostfile '${2:-}' not found" >&2; exit 2; }
  hostfile=(--hostfile "$2"); shift 2
fi

if ! command -v mpirun > /dev/null || ! ldconfig -p | grep -q 'libmpi\.so\.40 '; then
  echo "Open MPI not found: installing Debian's openmpi-bin" >&2
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq openmpi-bin > /dev/null
fi

dll="${REVNET_DLL:-}"
if [ -z "$dll" ]; then
  # Built once here: N concurrent `dotnet run`s would race on the same build output.
  dotnet build Examples/Cli -c Release -v quiet -nologo > /dev/null
  dll="$(pwd)/Examples/Cli/bin/Release/net10.0/revnet.dll"
fi
cores=$(nproc)
threads="${REVNET_THREADS:-$(( cores / ranks > 0 ? cores / ranks : 1 ))}"
passed=(-x REVNET_THREADS="$threads")
[ -n "${REVNET_DEVICE:-}" ] && passed+=(-x REVNET_DEVICE)

# --quiet: mpirun's own multi-line reports are left out; each rank prints one line for what stopped it.
# --bind-to none: ranks share the cores through REVNET_THREADS instead of being pinned to one core each.
# --oversubscribe: more ranks than cores still start (slowly) rather than being refused.
# btl_vader_single_copy_mechanism none: no cross-process memory reads (CMA), which containers often forbid and which
# print "Read -1" noise when a peer has gone. mpi_yield_when_idle: a rank waiting for the others yields its core
# instead of spinning on it (ranks share cores with each other and with the host kernels' threads).
# Root (containers, CI) must be allowed explicitly.
exec mpirun -np "$ranks" "${hostfile[@]}" --quiet --bind-to none --oversubscribe \
  --mca btl_vader_single_copy_mechanism none --mca mpi_yield_when_idle 1 \
  --allow-run-as-root "${passed[@]}" \
  dotnet "$dll" train "$@"
