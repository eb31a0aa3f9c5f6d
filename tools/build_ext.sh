#!/usr/bin/env bash
# Build the compiled extensions into build/ and copy them into src/lowprec/ (git-ignored *.so),
# so that `PYTHONPATH=src` picks them up during development.
#
#   tools/build_ext.sh                 # CUDA module too when nvcc is found
#   LOWPREC_CUDA=off tools/build_ext.sh
#   PYTHON=/path/to/python JOBS=4 tools/build_ext.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-$PWD/.venv/bin/python}"
case "$PY" in /*) ;; *) PY="$(command -v "$PY")" ;; esac
GEN=()
# Ninja when available, except for an existing build tree (which keeps its generator)
if [ ! -f build/CMakeCache.txt ] && command -v ninja >/dev/null 2>&1; then GEN=(-G Ninja); fi
# Python_FIND_VIRTUALENV=FIRST: keep the venv interpreter (it has nanobind), not its base
cmake -S . -B build "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DPython_EXECUTABLE="$PY" -DPython_FIND_VIRTUALENV=FIRST \
  -DLOWPREC_CUDA="${LOWPREC_CUDA:-auto}"
cmake --build build -j "${JOBS:-2}"
# a CUDA module left in build/ by an earlier configuration must not be copied when CUDA is off
if [ "${LOWPREC_CUDA:-auto}" = off ]; then rm -f build/_C_cuda*.so build/_C_cuda*.pyd src/lowprec/_C_cuda*.so; fi
shopt -s nullglob
copied=0
# copy then rename: a new inode, so running processes that have the old module mapped do not crash
for so in build/_C*.so build/_C*.pyd; do
  cp -f "$so" "src/lowprec/.$(basename "$so").tmp" && mv -f "src/lowprec/.$(basename "$so").tmp" "src/lowprec/$(basename "$so")"
  echo "copied $so -> src/lowprec/"
  copied=1
done
if [ "$copied" = 0 ]; then echo "no extension modules were built" >&2; exit 1; fi
# an editable install (pip install -e .) loads the modules from site-packages: refresh those copies too
dest="$("$PY" -c 'import importlib.util as u, os; s = u.find_spec("lowprec._C"); print(os.path.dirname(s.origin) if s else "")' 2>/dev/null || true)"
if [ -n "$dest" ] && [ "$dest" != "$PWD/src/lowprec" ]; then
  for so in build/_C*.so; do cp -f "$so" "$dest/.$(basename "$so").tmp" && mv -f "$dest/.$(basename "$so").tmp" "$dest/$(basename "$so")"; echo "copied $so -> $dest/"; done
fi
