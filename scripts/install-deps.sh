#!/usr/bin/env bash
# Installs every Debian package kestrel needs to build, test and demo.
# Idempotent: installs only what is missing. Run as root (or with sudo available).
set -euo pipefail

BUILD_PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev
  libtsk-dev libewf-dev libarchive-dev libssl-dev libsqlite3-dev libyajl-dev
  libjpeg62-turbo-dev libpng-dev zlib1g-dev
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev
  libwebp-dev libtiff-dev libheif-dev
  libmicrohttpd-dev libsodium-dev"
TOOL_PKGS="sqlite3 sleuthkit ewf-tools unzip zip p7zip-full mtools dosfstools e2fsprogs
  ntfs-3g fdisk imagemagick webp ffmpeg img2pdf pandoc libimage-exiftool-perl
  python3 openssl xxd time cpio xorriso chromium testdisk"

want=""
for p in $BUILD_PKGS $TOOL_PKGS; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    want="$want $p"
  fi
done
[ -z "$want" ] && { echo "install-deps: all packages present"; exit 0; }

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install-deps: installing$want"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $want
