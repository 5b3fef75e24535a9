#!/bin/sh
# kill-mid-write.sh SIGNAL DIR CMD...: runs CMD in the background and sends
# it SIGNAL as soon as the files in DIR have grown by more than 1 MB, i.e.
# in the middle of writing its output there. Fails when CMD ends first.
sig=$1
dir=$2
shift 2
size() { du -sb "$dir" | cut -f1; }
start=$(size)
"$@" &
pid=$!
tries=0
while kill -0 "$pid" 2>/dev/null; do
  if [ $(($(size) - start)) -gt 1000000 ]; then
    kill "-$sig" "$pid"
    wait "$pid"
    echo "killed with SIG$sig mid-write"
    exit 0
  fi
  tries=$((tries + 1))
  if [ "$tries" -gt 12000 ]; then
    kill -KILL "$pid"
    echo "no output after 120 s"
    exit 1
  fi
  sleep 0.01
done
echo "the command ended before it could be killed"
exit 1
