#!/bin/sh
# lab.sh up|down|status|env - run the test lab by hand (make lab-up,
# make lab-down). LAB_NAME and LAB_DIR as in lib.sh. "env" prints the
# lab's shell variables (addresses, CA, engine config).
LAB_SRC=$(cd "$(dirname "$0")" && pwd)
. "$LAB_SRC/lib.sh" || exit 1
case ${1:-} in
up)	lab_up || { lab_down >/dev/null 2>&1; exit 1; }
	echo "lab $LAB_NAME is up: ip netns exec $LAB_NAME CMD;" \
	    "engine config $LAB_CONF; variables in $LAB_DIR/env" ;;
down)	lab_down ;;
status)	lab_status ;;
env)	cat "$LAB_DIR/env" ;;
*)	echo "usage: $0 up|down|status|env" >&2; exit 2 ;;
esac
