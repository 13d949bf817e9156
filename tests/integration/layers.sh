#!/bin/sh
# layers.sh - the core's layering, checked on the tree and on the built
# objects (docs/architecture.md). TAP: "ok - ..." / "not ok - ...".
#
#  - includes: a file in common/LAYER/ includes "mtasts.h", headers of
#    its own folder, or headers of a folder before it in LAYERS (the
#    GNUmakefile's list), always as "folder/name.h"; the adapters and
#    the CLI include "mtasts.h" and their own headers only;
#  - symbols: an object of common/LAYER/ uses no symbol defined in a
#    later layer, and no two objects of the library use each other,
#    directly or through others (nm on BUILD/common, default build).
# No lab, no root.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
exec python3 - "$BUILD" <<'PY'
import glob, os, re, subprocess, sys

build = sys.argv[1]
layers = None
for line in open("GNUmakefile"):
    m = re.match(r"LAYERS\s*:=\s*(.*)", line)
    if m:
        layers = m.group(1).split()
if not layers:
    print("not ok - the GNUmakefile names the layers (LAYERS)")
    sys.exit(1)
rank = {l: i for i, l in enumerate(layers)}
bad = []

inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
for layer in layers:
    for f in sorted(glob.glob("common/%s/*.[ch]" % layer)):
        for h in inc.findall(open(f).read()):
            if h == "mtasts.h":
                continue
            d = h.split("/")[0] if "/" in h else None
            if d is None or d not in rank:
                bad.append('%s includes "%s": not "folder/name.h" of '
                    'a layer' % (f, h))
            elif rank[d] > rank[layer]:
                bad.append('%s includes "%s": %s is above %s' %
                    (f, h, d, layer))
            elif not os.path.exists("common/" + h):
                bad.append('%s includes "%s": no such header' % (f, h))
print(("ok" if not bad else "not ok") + " - common/: each folder includes "
    "only its own and lower layers' headers")
for b in bad:
    print("#   " + b)
nbad = len(bad)

bad = []
for d in ("cli", "exim-dlfunc", "opensmtpd-filter", "relay"):
    for f in sorted(glob.glob(d + "/*.[ch]")):
        for h in inc.findall(open(f).read()):
            if h != "mtasts.h" and not os.path.exists(os.path.join(d, h)):
                bad.append('%s includes "%s"' % (f, h))
print(("ok" if not bad else "not ok") + " - adapters and the CLI include "
    "only mtasts.h of the core")
for b in bad:
    print("#   " + b)
nbad += len(bad)

objs = sorted(o for o in glob.glob(build + "/common/*/*.o")
    if not o.endswith("/netload.o") and
    os.path.basename(os.path.dirname(o)) in rank)
if len(objs) < 10:
    print("not ok - objects of the core built under %s/common" % build)
    sys.exit(1)
defs, uses = {}, {}
for o in objs:
    out = subprocess.run(["nm", "-g", o], capture_output=True, text=True,
        check=True).stdout
    uses[o] = set()
    for line in out.splitlines():
        p = line.split()
        if len(p) == 2 and p[0] == "U":
            uses[o].add(p[1])
        elif len(p) == 3 and p[1] in "TDBRCVW":
            defs[p[2]] = o
edges = {o: set() for o in objs}
bad = []
def name(o):
    return os.path.relpath(o, build)[:-2] + ".c"
def layer(o):
    return os.path.basename(os.path.dirname(o))
for o in objs:
    for s in uses[o]:
        t = defs.get(s)
        if t is None or t == o:
            continue
        edges[o].add(t)
        if rank[layer(t)] > rank[layer(o)]:
            bad.append("%s uses %s of %s, a higher layer" %
                (name(o), s, name(t)))
print(("ok" if not bad else "not ok") + " - no object uses a symbol of a "
    "higher layer")
for b in sorted(set(bad)):
    print("#   " + b)
nbad += len(bad)

# Tarjan's strongly connected components: a component of more than one
# object is a cycle.
index, low, stack, onstack, sccs = {}, {}, [], set(), []
sys.setrecursionlimit(10000)
def visit(v):
    index[v] = low[v] = len(index)
    stack.append(v)
    onstack.add(v)
    for w in edges[v]:
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in onstack:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        c = []
        while True:
            w = stack.pop()
            onstack.discard(w)
            c.append(w)
            if w == v:
                break
        if len(c) > 1:
            sccs.append(c)
for v in objs:
    if v not in index:
        visit(v)
print(("ok" if not sccs else "not ok") + " - no cycle among the core's "
    "objects (%d objects)" % len(objs))
for c in sccs:
    print("#   cycle: " + " <-> ".join(sorted(name(o) for o in c)))
nbad += len(sccs)
sys.exit(1 if nbad else 0)
PY
