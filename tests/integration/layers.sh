#!/usr/bin/env bash
# The layer rules of DESIGN.md hold (scripts/check-layers.sh).
exec bash "$SRC/scripts/check-layers.sh"
