#!/usr/bin/env bash
# libfeedgate as a user's strategy sees it: `make install` into a temporary
# prefix, then the README's example (tests/example/bbo_watch.c) built with
# pkg-config against the shared and the static library, run on a real NASDAQ
# capture. No namespace, no traffic; the prefix is removed at exit.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$root/build}
tmp=$(mktemp -d /tmp/fg-lib-$$.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cap=$root/tests/data/itch-real/Nasdaq.Equities.TotalView.Itch.v5.0/Multiple.Packets.pcap

if ! make -C "$root" --no-print-directory -s BUILD="$BUILD" PREFIX="$tmp/usr" install >"$tmp/install.log" 2>&1; then
	echo "FAIL install: make install failed"; tail -5 "$tmp/install.log"; exit 1
fi
export PKG_CONFIG_PATH=$tmp/usr/lib/pkgconfig

# Expected from the capture (read against the spec): META (locate 6514) gets
# its first bid and offer in the 2 packets (39 messages, 38 of them in the first).
check_output() { # $1 = case, $2 = output file
	if grep -q '^messages 39$' "$2" && grep -q '^6514 bbo 1@80.5200 / 100@357.3300$' "$2"; then
		echo "PASS $1"
	else
		echo "FAIL $1: unexpected output"; sed 's/^/  | /' "$2" | head -10
	fi
}

if cc -Wall -Wextra -Werror "$root/tests/example/bbo_watch.c" -o "$tmp/bbo_shared" \
	$(pkg-config --cflags --libs feedgate) -Wl,-rpath,"$tmp/usr/lib" 2>"$tmp/cc.log"; then
	"$tmp/bbo_shared" "$cap" META >"$tmp/out_shared" 2>&1
	check_output example_shared_library "$tmp/out_shared"
else
	echo "FAIL example_shared_library: does not build"; head -5 "$tmp/cc.log"
fi

if cc -Wall -Wextra -Werror "$root/tests/example/bbo_watch.c" -o "$tmp/bbo_static" \
	$(pkg-config --cflags feedgate) "$tmp/usr/lib/libfeedgate.a" \
	$(pkg-config --libs-only-l --static feedgate | sed 's/-lfeedgate//') 2>"$tmp/cc2.log"; then
	"$tmp/bbo_static" "$cap" META >"$tmp/out_static" 2>&1
	check_output example_static_library "$tmp/out_static"
else
	echo "FAIL example_static_library: does not build"; head -5 "$tmp/cc2.log"
fi

if "$tmp/bbo_shared" /nonexistent META >/dev/null 2>"$tmp/err"; then
	echo "FAIL example_bad_file: exit 0"
elif [ "$(wc -l <"$tmp/err")" -eq 1 ]; then
	echo "PASS example_bad_file"
else
	echo "FAIL example_bad_file: want one line on stderr"
fi
