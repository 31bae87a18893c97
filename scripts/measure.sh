# Sourced by the bench scripts: `measure LABEL COMMAND...` runs the command once under
# /usr/bin/time -v and prints its CPU time, wall time, peak memory and exit code on one line.
# Needs $work, a scratch folder.
measure() {
  local label="$1"; shift
  local code=0
  /usr/bin/time -v "$@" >/dev/null 2>"$work/time.txt" || code=$?
  local wall user sys rss
  wall="$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time.txt")"
  user="$(sed -n 's/.*User time (seconds): //p' "$work/time.txt")"
  sys="$(sed -n 's/.*System time (seconds): //p' "$work/time.txt")"
  rss="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.txt")"
  # CPU time (user + sys) is the fair figure on a machine shared with other builds; wall
  # time there depends on the load.
  printf '%-40s cpu %ss user + %ss sys  wall %-8s max RSS %6d MB  exit %d\n' \
    "$label" "$user" "$sys" "$wall" "$((rss / 1024))" "$code"
}
