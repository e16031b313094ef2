#!/usr/bin/env python3
"""Reads a build log on stdin and records RS0016 (new public API) in PublicAPI.Unshipped.txt and RS0017
(API removed) as *REMOVED* lines, per project. Run after a change to the public surface, then review the diff."""
import re, sys, os, collections
adds = collections.defaultdict(set)
removes = collections.defaultdict(set)
for line in sys.stdin:
    m = re.search(r"error RS0016: Symbol '(.+?)' is not part of the declared public API.*\[(.+?\.csproj)\]", line)
    if m:
        adds[os.path.dirname(m.group(2))].add(m.group(1))
    m = re.search(r"error RS0017: Symbol '(.+?)' is part of the declared API.*\[(.+?\.csproj)\]", line)
    if m:
        removes[os.path.dirname(m.group(2))].add(m.group(1))
for project in set(adds) | set(removes):
    path = os.path.join(project, "PublicAPI.Unshipped.txt")
    lines = [l.rstrip("\n") for l in open(path)] if os.path.exists(path) else ["#nullable enable"]
    body = [l for l in lines[1:] if l.strip()]
    # A symbol added in Unshipped and now gone is simply dropped.
    body = [l for l in body if l not in removes[project]]
    shipped = {l.rstrip("\n") for l in open(os.path.join(project, "PublicAPI.Shipped.txt"))}
    body += ["*REMOVED*" + s for s in removes[project] if s in shipped]
    body += sorted(adds[project])
    open(path, "w").write("\n".join([lines[0]] + sorted(set(body))) + "\n")
    print(f"{path}: +{len(adds[project])} -{len(removes[project])}")
