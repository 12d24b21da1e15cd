#!/usr/bin/env bash
# libfeedgate as a user's strategy sees it: `make install` into a temporary
# prefix, then, against that tree only:
#   - the install holds the public headers (include/feedgate.h and
#     include/feedgate/*.h), the libraries and feedgate.pc, nothing internal;
#   - every installed header compiles on its own (a file that includes just
#     it; C11, -Wall -Wextra -Werror; gcc and clang, and as C++);
#   - the README's example (tests/example/bbo_watch.c) builds with pkg-config
#     against the shared and the static library and runs on a real NASDAQ
#     capture; a C++ program links (extern "C" where it must be);
#   - tests/example/print_hook.c takes the library's messages with
#     fg_set_print(), silences them, and gives them back to stderr.
# No namespace, no traffic; the prefix is removed at exit.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$root/build}
tmp=$(mktemp -d /tmp/fg-lib-$$.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/usr
cap=$root/tests/data/itch-real/Nasdaq.Equities.TotalView.Itch.v5.0/Multiple.Packets.pcap

if ! make -C "$root" --no-print-directory -s BUILD="$BUILD" PREFIX="$prefix" install >"$tmp/install.log" 2>&1; then
	echo "FAIL install: make install failed"; tail -5 "$tmp/install.log"; exit 1
fi
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig

# --- what is installed ------------------------------------------------------------------------
# Exactly the public headers of the source tree, no more (fg_maps.h and
# fg_gen_layout.h are the BPF ABI, user/lib/*.h internal) and no fewer.
(cd "$root/include" && ls feedgate.h feedgate/*.h) | sort >"$tmp/want_headers"
(cd "$prefix/include" && find . -type f | sed 's|^\./||') | sort >"$tmp/got_headers"
if diff -u "$tmp/want_headers" "$tmp/got_headers" >"$tmp/hdiff"; then
	echo "PASS install_headers ($(wc -l <"$tmp/got_headers") headers)"
else
	echo "FAIL install_headers: installed headers differ from include/feedgate*:"
	sed 's/^/  | /' "$tmp/hdiff" | tail -n +3 | head -20
fi
missing=""
for f in bin/feedgate lib/libfeedgate.a lib/libfeedgate.so lib/libfeedgate.so.0 lib/pkgconfig/feedgate.pc; do
	[ -e "$prefix/$f" ] || missing="$missing $f"
done
if [ -n "$missing" ]; then
	echo "FAIL install_files: missing:$missing"
elif [ "$(readlink "$prefix/lib/libfeedgate.so")" != libfeedgate.so.0 ]; then
	echo "FAIL install_files: libfeedgate.so is not a link to libfeedgate.so.0"
elif [ "$(pkg-config --cflags feedgate | tr -d " ")" != "-I$prefix/include" ]; then
	echo "FAIL install_files: pkg-config --cflags feedgate: $(pkg-config --cflags feedgate)"
else
	echo "PASS install_files"
fi

# --- each header on its own ------------------------------------------------------------------
# A header that leans on another include of its user's, on a GNU extension
# hidden under -std=c11, or that warns, fails here.
compilers=()
for c in gcc clang; do command -v "$c" >/dev/null && compilers+=("$c"); done
bad=""
while read -r h; do
	printf '#include <%s>\n' "$h" >"$tmp/one.c"
	for c in "${compilers[@]}"; do
		if ! "$c" -std=c11 -Wall -Wextra -Werror $(pkg-config --cflags feedgate) \
			-c "$tmp/one.c" -o "$tmp/one.o" 2>"$tmp/one.err"; then
			bad="$bad $h($c)"; sed 's/^/  | /' "$tmp/one.err" | head -5
		fi
	done
	cp "$tmp/one.c" "$tmp/one.cc"
	if command -v g++ >/dev/null && ! g++ -std=c++11 -Wall -Wextra -Werror \
		$(pkg-config --cflags feedgate) -c "$tmp/one.cc" -o "$tmp/one.o" 2>"$tmp/one.err"; then
		bad="$bad $h(g++)"; sed 's/^/  | /' "$tmp/one.err" | head -5
	fi
done <"$tmp/got_headers"
if [ -z "$bad" ]; then
	echo "PASS headers_standalone ($(wc -l <"$tmp/got_headers") headers: ${compilers[*]} -std=c11, g++ -std=c++11)"
else
	echo "FAIL headers_standalone:$bad"
fi

# --- the README's example ----------------------------------------------------------------------
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
	$(pkg-config --cflags --libs feedgate) -Wl,-rpath,"$prefix/lib" 2>"$tmp/cc.log"; then
	if ! ldd "$tmp/bbo_shared" | grep -q "$prefix/lib/libfeedgate.so.0"; then
		echo "FAIL example_shared_library: not linked to the installed libfeedgate.so.0"
	else
		"$tmp/bbo_shared" "$cap" META >"$tmp/out_shared" 2>&1
		check_output example_shared_library "$tmp/out_shared"
	fi
else
	echo "FAIL example_shared_library: does not build"; head -5 "$tmp/cc.log"
fi

# Static: libfeedgate.a by name (a plain -lfeedgate takes the .so when both
# are there), then its own dependencies from Libs.private.
if cc -Wall -Wextra -Werror "$root/tests/example/bbo_watch.c" -o "$tmp/bbo_static" \
	$(pkg-config --cflags feedgate) "$prefix/lib/libfeedgate.a" \
	$(pkg-config --libs-only-l --static feedgate | sed 's/-lfeedgate//') 2>"$tmp/cc2.log"; then
	if ldd "$tmp/bbo_static" | grep -q libfeedgate; then
		echo "FAIL example_static_library: links libfeedgate.so"
	else
		"$tmp/bbo_static" "$cap" META >"$tmp/out_static" 2>&1
		check_output example_static_library "$tmp/out_static"
	fi
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

# A subscription the pipeline refuses: the library says why, once, on stderr.
if "$tmp/bbo_shared" "$cap" 'NOT-A-VALID-SYMBOL' >/dev/null 2>"$tmp/err2"; then
	echo "FAIL example_bad_symbol: exit 0"
elif [ "$(wc -l <"$tmp/err2")" -eq 1 ] && grep -q '^feedgate: ' "$tmp/err2"; then
	echo "PASS example_bad_symbol"
else
	echo "FAIL example_bad_symbol: want one 'feedgate: ' line on stderr, got: $(tr '\n' '|' <"$tmp/err2")"
fi

# --- C++ ---------------------------------------------------------------------------------------
# A strategy in C++ calls the C library: a symbol without extern "C" fails
# to link here, whatever compiles.
cat >"$tmp/cxx.cc" <<'EOF'
#include <feedgate.h>
#include <cstdio>

int main()
{
	fg_print_fn_t def = fg_set_print(nullptr);

	fg_set_print(def);
	fg_books_free(nullptr);
	fg_itchgen_free(nullptr);
	std::printf("%zu %s %s %s\n", fg_itch_msg_len('A'), fg_mold_bad_name(0),
		    fg_capfile_format_name(FG_CAPFILE_PCAP), fg_filter_impl_name(FG_FILTER_SCALAR));
	return 0;
}
EOF
if ! command -v g++ >/dev/null; then
	echo "SKIPPED cxx_link: no g++"
elif ! g++ -std=c++11 -Wall -Wextra -Werror "$tmp/cxx.cc" -o "$tmp/cxx" \
	$(pkg-config --cflags --libs feedgate) -Wl,-rpath,"$prefix/lib" 2>"$tmp/cxx.log"; then
	echo "FAIL cxx_link: does not build"; grep -m5 'undefined\|error' "$tmp/cxx.log" | sed 's/^/  | /'
elif "$tmp/cxx" >"$tmp/cxx.out" 2>&1 && grep -q '^36 short_header pcap scalar$' "$tmp/cxx.out"; then
	echo "PASS cxx_link"
else
	echo "FAIL cxx_link: $(head -3 "$tmp/cxx.out")"
fi

# --- messages through the caller's print function ----------------------------------------------
if ! cc -Wall -Wextra -Werror "$root/tests/example/print_hook.c" -o "$tmp/print_hook" \
	$(pkg-config --cflags --libs feedgate) -Wl,-rpath,"$prefix/lib" 2>"$tmp/cc3.log"; then
	echo "FAIL print_hook: does not build"; head -5 "$tmp/cc3.log"
elif ! "$tmp/print_hook" >"$tmp/hook.out" 2>"$tmp/hook.err"; then
	echo "FAIL print_hook: exit status $?"; sed 's/^/  | /' "$tmp/hook.out" "$tmp/hook.err" | head -10
else
	# One warning (level 0) captured, naming what failed and the errno, no
	# command-line flag and no "feedgate: " prefix (the default printer adds it).
	want="^captured 0 Couldn't use FG_FILTER_IMPL='no-such-impl' .*: Invalid argument; using "
	if [ "$(grep -c '^captured' "$tmp/hook.out")" -ne 1 ] || ! grep -q "$want" "$tmp/hook.out"; then
		echo "FAIL print_hook: captured: $(tr '\n' '|' <"$tmp/hook.out")"
	elif ! grep -q '^silenced$' "$tmp/hook.out" || ! grep -q '^restored$' "$tmp/hook.out"; then
		echo "FAIL print_hook: $(tr '\n' '|' <"$tmp/hook.out")"
	elif [ "$(wc -l <"$tmp/hook.err")" -ne 1 ] ||
		! grep -q "^feedgate: Couldn't use FG_FILTER_IMPL='no-such-impl'" "$tmp/hook.err"; then
		# silenced printed nothing, the default printer exactly one line
		echo "FAIL print_hook: stderr: $(tr '\n' '|' <"$tmp/hook.err")"
	else
		echo "PASS print_hook"
	fi
fi
