# Shared by the benchmark scripts (imported from their embedded python):
# bench/RESULTS.md holds one section per benchmark between
# <!-- NAME:begin --> and <!-- NAME:end -->; each run replaces its own.
import os


def splice_results(here, name, body):
    """Put body between the NAME markers of here/RESULTS.md (appended when missing)."""
    path = os.path.join(here, "RESULTS.md")
    begin, end = "<!-- %s:begin -->" % name, "<!-- %s:end -->" % name
    sec = begin + "\n" + body.rstrip("\n") + "\n" + end + "\n"
    try:
        cur = open(path).read()
    except OSError:
        cur = "# feedgate benchmark results\n\n"
    if begin in cur and end in cur:
        a = cur.index(begin)
        b = cur.index(end) + len(end)
        if cur[b:b + 1] == "\n":
            b += 1
        cur = cur[:a] + sec + cur[b:]
    else:
        cur = cur.rstrip("\n") + "\n\n" + sec
    with open(path, "w") as f:
        f.write(cur)
