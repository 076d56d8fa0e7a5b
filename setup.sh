#!/usr/bin/env bash
# Installs the Debian 12 packages rlcade needs, only those that are missing. Quiet when
# everything is already there. Usage: ./setup.sh
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libtorch-dev libgloo-dev libopenblas0-pthread libyaml-cpp-dev doctest-dev libboost-dev
  libsfml-dev libgif-dev fonts-dejavu-core xvfb xauth python3 clang libclang-rt-14-dev
  nlohmann-json3-dev libcli11-dev python3-protobuf python3-numpy python3-scipy
  python3-torch python3-onnx chromium
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

echo "setup.sh: installing ${missing[*]}" >&2
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
