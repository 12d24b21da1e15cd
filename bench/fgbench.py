# Shared by the benchmark scripts (imported from their embedded python, or
# run as `python3 bench/fgbench.py splice NAME BODY_FILE [RESULTS [AFTER]]`):
# bench/RESULTS.md holds one section per benchmark between
# <!-- NAME:begin --> and <!-- NAME:end -->; each run replaces its own.
import os
import subprocess
import sys


def splice_results(here, name, body, path=None, after=None):
    """Put body between the NAME markers of the results file: path, or
    here/RESULTS.md. A section not there yet goes right after section AFTER
    when that one is there, else at the end."""
    path = path or os.path.join(here, "RESULTS.md")
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
    elif after and "<!-- %s:end -->\n" % after in cur:
        a = cur.index("<!-- %s:end -->\n" % after) + len("<!-- %s:end -->\n" % after)
        cur = cur[:a] + "\n" + sec + cur[a:]
    else:
        cur = cur.rstrip("\n") + "\n\n" + sec
    with open(path, "w") as f:
        f.write(cur)


def gnuplot(script, who):
    """Run gnuplot on script. False, with a line on stderr naming who, when
    gnuplot is missing or fails: the tables stand without their plot."""
    try:
        subprocess.run(["gnuplot"], input=script.encode(), check=True)
        return True
    except (OSError, subprocess.CalledProcessError) as e:
        print("%s: gnuplot failed (%s): no plot" % (who, e), file=sys.stderr)
        return False


if __name__ == "__main__":
    if len(sys.argv) < 4 or sys.argv[1] != "splice":
        sys.exit("usage: fgbench.py splice NAME BODY_FILE [RESULTS [AFTER]]")
    splice_results(os.path.dirname(os.path.abspath(__file__)), sys.argv[2],
                   open(sys.argv[3]).read(), *sys.argv[4:6])
