#!/bin/sh
# lab.sh up|down|status|env|run-dir|clean - run the test lab by hand (make
# lab-up, make lab-down). LAB_NAME and LAB_DIR as in lib.sh. "env" prints
# the lab's shell variables (addresses, CA, engine config); "run-dir"
# prints the checkout's run folder (LAB_RUN) and "clean" removes it
# (make clean), unless a lab in it is still up.
LAB_SRC=$(cd "$(dirname "$0")" && pwd)
. "$LAB_SRC/lib.sh" || exit 1
case ${1:-} in
up)	lab_up || { lab_down >/dev/null 2>&1; exit 1; }
	echo "lab $LAB_NAME is up: ip netns exec $LAB_NAME CMD;" \
	    "engine config $LAB_CONF; variables in $LAB_DIR/env" ;;
down)	lab_down ;;
status)	lab_status ;;
env)	cat "$LAB_DIR/env" ;;
run-dir) echo "$LAB_RUN" ;;
clean)	lab_run_clean ;;
*)	echo "usage: $0 up|down|status|env|run-dir|clean" >&2; exit 2 ;;
esac
