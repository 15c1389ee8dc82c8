#!/usr/bin/env bash
# Prints the path of a working Python 3.10 (lava-nc 0.10 installs only there), or fails in one line.
set -u
for candidate in "${PYTHON310:-}" python3.10; do
    [ -n "$candidate" ] || continue
    if path=$(command -v "$candidate" 2>/dev/null) && "$path" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
        echo "$path"; exit 0
    fi
done
# pyenv installs shims that refuse to run a version that is not selected: look for the real binary.
root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
for path in "$root"/versions/3.10*/bin/python3.10; do
    if [ -x "$path" ] && "$path" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
        echo "$path"; exit 0
    fi
done
echo "snnc: Python 3.10 not found (lava-nc needs it): install it (e.g. 'pyenv install 3.10') or set PYTHON310=/path/to/python3.10" >&2
exit 1
