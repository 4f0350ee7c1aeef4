#!/usr/bin/env bash
# Checks the one-way layer dependencies of DESIGN.md: a source file under src/<layer>/
# may include only the public headers of the layers it depends on. Prints every
# violation; exit 1 if there is one. Run as a test.
set -u
cd "${SRC:-$(dirname "$0")/..}"
# layer -> headers it may include (besides its own and base's: base.h category.h thread.h)
declare -A allow=(
  [base]=""
  [evidence]=""
  [media]=""
  [hash]="media decode"
  [index]="hash"
  [artefact]="evidence"
  [store]="hash index evidence media"
  [pipeline]="evidence media hash index store artefact decode pdq"
  [review]="store media decode pdq"
  [report]="store evidence media hash index category"
  [cli]="*"
)
# which public header belongs to which layer
declare -A owner=(
  [base]=base [category]=base [thread]=base [evidence]=evidence [media]=media [decode]=media
  [exif]=media [hash]=hash [pdq]=hash [index]=index [store]=store [store_review]=store [store_video]=store [pipeline]=pipeline [review]=review
  [report]=report [artefact]=artefact [video]=media [video_frames]=media [vpdq]=hash [tmk]=hash
)
bad=0
for f in src/*/*.c src/*/*.h; do
  [ -e "$f" ] || continue
  layer=$(basename "$(dirname "$f")")
  [ "${allow[$layer]+x}" ] || { echo "$f: unknown layer $layer"; bad=1; continue; }
  [ "${allow[$layer]}" = "*" ] && continue
  for h in $(grep -oE '#include "kestrel/[a-z_]+\.h"' "$f" | sed -E 's/.*kestrel\/([a-z_]+)\.h"/\1/'); do
    o=${owner[$h]:-?}
    [ "$o" = "base" ] || [ "$o" = "$layer" ] && continue
    case " ${allow[$layer]} " in *" $h "*|*" $o "*) continue ;; esac
    echo "$f: layer '$layer' must not include kestrel/$h.h (layer '$o')"
    bad=1
  done
done
[ $bad -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $bad
