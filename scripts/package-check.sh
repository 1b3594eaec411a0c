#!/usr/bin/env bash
# What a user of the library does, checked end to end: packs the solution into a folder feed (a prerelease version
# unique to this run, so no package cached by an earlier run can stand in), copies Examples/CustomRevNet/*.cs into a
# fresh console project outside the repository that references only the package RevNetIlgpu from that feed (version *-*),
# builds it and runs it for a few steps on Fashion-MNIST, with additive and with affine blocks. Passes when both runs exit 0
# with RESULT lines saying reload_equal=true and grad_rel_l2 at most 1e-4 (an affine network that diverges stops with a
# NaN error instead). Usage: bash scripts/package-check.sh [STEPS] (default 30). Run by CI.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
steps="${1:-30}"
data=/usr/share/datasets/fashion-mnist
if [ ! -f "$data/t10k-images-idx3-ubyte.gz" ] && [ ! -f "$data/t10k-images-idx3-ubyte" ]; then
  echo "Fashion-MNIST not found in $data: installing Debian's dataset-fashion-mnist package" >&2
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq dataset-fashion-mnist >/dev/null
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
version="0.0.0-check.$(date +%s)"
echo "packing RevNetIlgpu $version into $work/feed"
if ! dotnet pack "$repo/RevNetIlgpu.sln" -c Release -o "$work/feed" -p:Version="$version" > "$work/pack.log" 2>&1; then
  tail -n 30 "$work/pack.log"; echo "package-check: dotnet pack failed"; exit 1
fi

mkdir "$work/app"
cp "$repo"/Examples/CustomRevNet/*.cs "$work/app/"
cat > "$work/app/CustomRevNet.csproj" <<'PROJECT'
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="RevNetIlgpu" Version="*-*" />
  </ItemGroup>
</Project>
PROJECT
cat > "$work/app/nuget.config" <<CONFIG
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="revnet-feed" value="$work/feed" />
  </packageSources>
</configuration>
CONFIG

echo "building a fresh project on the package alone"
if ! dotnet build "$work/app" -c Release > "$work/build.log" 2>&1; then
  tail -n 30 "$work/build.log"; echo "package-check: the example does not build against the package"; exit 1
fi
resolved="$(grep -o '"RevNetIlgpu/[^"]*"' "$work/app/obj/project.assets.json" | head -n 1)"
echo "resolved $resolved"

for variant in "" "--affine"; do
  echo "running it for $steps steps ${variant:-(additive blocks)}"
  output="$(dotnet "$work/app/bin/Release/net10.0/CustomRevNet.dll" --steps "$steps" $variant 2>&1)" || { echo "$output" | grep -v '^   at ' | tail -n 20; echo "package-check: the example failed"; exit 1; }
  result="$(grep '^RESULT ' <<<"$output" | tail -n 1)"
  echo "$result"
  grad="$(sed -n 's/.* grad_rel_l2=\([^ ]*\).*/\1/p' <<<"$result")"
  if [[ "$result" != *"reload_equal=true"* ]] || ! awk -v g="$grad" 'BEGIN { exit !(g != "" && g <= 1e-4) }'; then
    echo "package-check: FAILED (needs reload_equal=true and grad_rel_l2 <= 1e-4)"; exit 1
  fi
done
echo "package-check: OK (the example built on package $resolved alone)"
