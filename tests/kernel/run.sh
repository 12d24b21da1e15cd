#!/usr/bin/env bash
# make test-kernel, host side: runs the project's already-built tests on
# Debian bookworm's stock kernel (linux-image-amd64, 6.1) under qemu with
# software emulation (TCG), for what the host kernel cannot do (it refuses
# bpf_xdp_adjust_meta in XDP programs, so the metadata stamp mode is only
# testable elsewhere).
#
#   1. Resolves linux-image-amd64 to its linux-image-6.1.0-NN-amd64, and the
#      first time only, apt-get downloads it into $BUILD/kernel/ and unpacks
#      it there (never installed on the host: /boot stays untouched).
#   2. Packs an initramfs: static busybox, tests/kernel/init, the modules to
#      reach the host root (virtio PCI, 9p, overlayfs), settings, case list.
#   3. Boots it: the host's / is shared read-only over virtio-9p, the guest
#      writes into a tmpfs overlay and runs tests/kernel/guest.sh, which
#      reports on the second serial port; the console goes to a log file.
#   4. Prints a line per case as results arrive, the guest kernel, and
#      "test-kernel: P passed, F failed, S skipped"; exits 1 on any failure.
#
# Environment (all optional):
#   FGK_CASES='KIND PATH; ...'  cases instead of tests/kernel/cases
#   FGK_TIMEOUT=S       hard limit on the whole qemu run (default 560)
#   FGK_CASE_TIMEOUT=S  limit on one case inside the guest (default 420)
#   FGK_MEM=MB FGK_SMP=N  guest size (default 2048, 2)
#   FG_SLOW=N           passed to the tests in the guest (default 4): the
#                       guest is ~N times slower than the host; scripts may
#                       stretch their waits by it
#   FGK_9P_OPTS=OPTS    9p mount options for the host root (default
#                       cache=loose,msize=512000)
#   BUILD=DIR           the build directory (default: build beside tests/)
# Nothing is left on the host but $BUILD/kernel/ (the kernel cache, the
# initramfs, console.log and results.log of the last run).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$top/build}
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
KDIR=$BUILD/kernel
META=linux-image-amd64
TIMEOUT=${FGK_TIMEOUT:-560}
CASE_TIMEOUT=${FGK_CASE_TIMEOUT:-420}
MEM=${FGK_MEM:-2048}
SMP=${FGK_SMP:-2}
FG_SLOW=${FG_SLOW:-4}
# Modules in the initramfs (with their dependencies), loaded in this order.
INITRD_MODULES="virtio_pci virtio_rng 9pnet_virtio 9p overlay"
# Loaded in the guest before the cases (module autoloading works too).
PRELOAD="veth"

die() {
	echo "test-kernel: $*" >&2
	exit 1
}
say() { printf '  %-8s %s\n' "$1" "$2"; }

for t in qemu-system-x86_64 busybox apt-get apt-cache dpkg-deb timeout; do
	command -v "$t" >/dev/null || die "$t not found (make test-kernel installs qemu-system-x86 and busybox-static)"
done
[ -x "$BUILD/feedgate" ] || die "$BUILD/feedgate not built (make test-build)"
mkdir -p "$KDIR" || die "cannot create $KDIR"
# No symlinks in it: the guest resolves FGK_MODULES from its initramfs too.
KDIR=$(cd -P "$KDIR" && pwd)

# --- 1. the kernel ---------------------------------------------------------------
resolve() { # the versioned image package linux-image-amd64 depends on
	apt-cache depends "$META" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

fetch() { # PKG: download and unpack into $KDIR/PKG, unless done already
	local pkg=$1 dir=$KDIR/$1 dl=$KDIR/download deb kver
	[ -f "$dir/.fgk-ok" ] && return 0
	say KERNEL "downloading $pkg from the Debian archive into ${KDIR#"$top"/}/"
	rm -rf "$dir" "$dl"
	mkdir -p "$dl"
	if ! (cd "$dl" && apt-get download -q=2 -o APT::Sandbox::User=root "$pkg"); then
		# The package lists may be older than the archive: refresh, try again.
		apt-get update -qq || die "apt-get update failed"
		(cd "$dl" && apt-get download -q=2 -o APT::Sandbox::User=root "$pkg") ||
			die "apt-get download $pkg failed"
	fi
	deb=$(ls "$dl"/"${pkg}"_*.deb 2>/dev/null | head -n 1)
	[ -n "$deb" ] || die "apt-get download left no $pkg .deb"
	dpkg-deb -x "$deb" "$dir" || die "dpkg-deb -x $deb failed"
	dpkg-deb -f "$deb" Version >"$dir/.fgk-version"
	kver=$(ls "$dir/lib/modules" | head -n 1)
	if [ -z "$kver" ] || [ ! -f "$dir/boot/vmlinuz-$kver" ]; then
		die "$deb holds no kernel image or modules"
	fi
	# The package ships no modules.dep (its postinst makes it); busybox's
	# depmod writes the text format that busybox modprobe reads in the guest.
	busybox depmod -b "$dir" "$kver" || die "busybox depmod failed for $kver"
	rm -rf "$dl"
	touch "$dir/.fgk-ok"
	# Only the kernel in use is kept.
	for old in "$KDIR"/linux-image-*; do
		[ "$old" = "$dir" ] || rm -rf "$old"
	done
}

pkg=$(resolve)
if [ -z "$pkg" ]; then
	cached=$(ls -d "$KDIR"/linux-image-*/.fgk-ok 2>/dev/null | tail -n 1)
	if [ -n "$cached" ]; then
		pkg=$(basename "$(dirname "$cached")") # no package lists: the cache will do
	else
		say DEPS "apt-get update (to resolve $META)"
		apt-get update -qq || die "apt-get update failed"
		pkg=$(resolve)
		[ -n "$pkg" ] || die "cannot resolve $META to a linux-image-6.1... package (apt-cache depends $META)"
	fi
fi
fetch "$pkg"
KROOT=$KDIR/$pkg
KVER=$(ls "$KROOT/lib/modules" | head -n 1)
KDEBVER=$(cat "$KROOT/.fgk-version" 2>/dev/null)
VMLINUZ=$KROOT/boot/vmlinuz-$KVER
MODDIR=$KROOT/lib/modules/$KVER

# --- 2. the initramfs ----------------------------------------------------------------
STAGE=$KDIR/initramfs.d
INITRD=$KDIR/initramfs.cpio
rm -rf "$STAGE" "$INITRD"
mkdir -p "$STAGE/bin" "$STAGE/lib/modules/$KVER" || die "cannot create $STAGE"
# busybox-static's (linked statically: the initramfs has no libraries).
bb=/bin/busybox
if ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || [ ! -x "$bb" ]; then
	die "busybox-static is not installed (make test-kernel-deps)"
fi
cp "$bb" "$STAGE/bin/busybox"
install -m 0755 "$here/init" "$STAGE/init"

# The modules asked for and everything they depend on, from modules.dep.
mods=$(awk -v want="$INITRD_MODULES" '
	{
		k = $1; sub(/:$/, "", k)
		n = k; sub(/.*\//, "", n); sub(/\.ko.*$/, "", n); gsub(/-/, "_", n)
		path[n] = k; deps[k] = ""
		for (i = 2; i <= NF; i++) deps[k] = deps[k] " " $i
	}
	END {
		nw = split(want, w, " ")
		for (i = 1; i <= nw; i++) {
			if (!(w[i] in path)) { print "MISSING:" w[i]; continue }
			todo[++t] = path[w[i]]
		}
		while (t > 0) {
			k = todo[t--]
			if (k in seen) continue
			seen[k] = 1; print k
			nd = split(deps[k], d, " ")
			for (j = 1; j <= nd; j++) if (!(d[j] in seen)) todo[++t] = d[j]
		}
	}' "$MODDIR/modules.dep")
case $mods in *MISSING:*) die "modules not in $KVER: $(echo "$mods" | sed -n 's/^MISSING://p' | tr '\n' ' ')" ;; esac
for m in $mods; do
	mkdir -p "$STAGE/lib/modules/$KVER/$(dirname "$m")"
	cp "$MODDIR/$m" "$STAGE/lib/modules/$KVER/$m"
done
busybox depmod -b "$STAGE" "$KVER" || die "busybox depmod failed on the initramfs"

{
	printf 'FGK_DIR=%q\n' "$top"
	printf 'FGK_BUILD=%q\n' "$BUILD"
	printf 'FGK_MODULES=%q\n' "$MODDIR"
	printf 'FGK_INITRD_MODULES=%q\n' "$INITRD_MODULES"
	printf 'FGK_PRELOAD=%q\n' "$PRELOAD"
	printf 'FGK_CASE_TIMEOUT=%q\n' "$CASE_TIMEOUT"
	printf 'FG_SLOW=%q\n' "$FG_SLOW"
	printf 'FGK_9P_OPTS=%q\n' "${FGK_9P_OPTS:-cache=loose,msize=512000}"
} >"$STAGE/fgk.env"
if [ -n "${FGK_CASES:-}" ]; then
	echo "$FGK_CASES" | tr ';' '\n' >"$STAGE/fgk.cases"
else
	cp "$here/cases" "$STAGE/fgk.cases"
fi
(cd "$STAGE" && find . | LC_ALL=C sort | busybox cpio -o -H newc -R 0:0 2>/dev/null) >"$INITRD" ||
	die "cannot pack the initramfs"
rm -rf "$STAGE"

# --- 3. boot -----------------------------------------------------------------------------
CONSOLE=$KDIR/console.log
RESULTS=$KDIR/results.log
: >"$CONSOLE"
: >"$RESULTS"
say KERNEL "booting $KVER ($KDEBVER) under qemu, TCG, ${SMP} CPUs, ${MEM} MB; limit ${TIMEOUT} s"
t0=$(date +%s)
# -nodefaults: no network card, no display; ttyS0 is the console (log
# file), ttyS1 carries the results. The host root goes in read-only.
timeout -k 10 "$TIMEOUT" qemu-system-x86_64 -nodefaults -no-user-config \
	-machine pc -accel tcg,thread=multi -cpu max -smp "$SMP" -m "$MEM" \
	-display none -no-reboot \
	-kernel "$VMLINUZ" -initrd "$INITRD" \
	-append "console=ttyS0 loglevel=4 panic=-1 oops=panic rdinit=/init" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-device virtio-rng-pci \
	-serial "file:$CONSOLE" -serial "file:$RESULTS" \
	</dev/null >"$KDIR/qemu.out" 2>&1 &
qpid=$!
trap 'kill "$qpid" 2>/dev/null; wait "$qpid" 2>/dev/null' EXIT
trap 'exit 130' INT TERM

# --- 4. results, as they arrive ------------------------------------------------------
pass=0 fail=0 skip=0 guest_kver="" done=0 fatal="" boot_s="" guest_s="" cases_s="" failed_names=""

bad() { # NAME: remember a failed case name once
	case " $failed_names " in *" $1 "*) ;; *) failed_names="$failed_names $1" ;; esac
}

on_line() { # one "@@FGK ..." line, without the prefix
	local kind=${1%% *} rest=${1#* } name p f s rc secs st text
	case $kind in
	kernel)
		guest_kver=$rest
		echo "test-kernel: guest kernel $rest"
		;;
	uptime) boot_s=${rest%%.*} ;;
	info) echo "test-kernel: $rest" ;;
	cunit)
		name=${rest%% *}
		rc=$(sed -n 's/.* rc=\([0-9]*\).*/\1/p' <<<"$rest")
		secs=$(sed -n 's/.* secs=\([0-9]*\).*/\1/p' <<<"$rest")
		p=$(sed -n 's/.*passed=\([0-9]*\).*/\1/p' <<<"$rest")
		f=$(sed -n 's/.*failed=\([0-9]*\).*/\1/p' <<<"$rest")
		s=$(sed -n 's/.*skipped=\([0-9]*\).*/\1/p' <<<"$rest")
		if [ -z "$p" ] || [ -z "$f" ] || [ -z "$s" ]; then
			fail=$((fail + 1))
			bad "$name"
			echo "FAIL $name: crashed or timed out (exit status $rc after $secs s, no RESULT line)"
			return
		fi
		# A suite whose setup failed reports run - failed in an unsigned:
		# passed=4294967295. Nothing passed there.
		[ "${#p}" -le 9 ] || p=0
		pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
		if [ "$f" -gt 0 ]; then
			st=FAIL
			bad "$name"
		elif [ "$rc" != 0 ]; then
			st=FAIL
			fail=$((fail + 1))
			bad "$name"
		elif [ "$p" -eq 0 ] && [ "$s" -gt 0 ]; then
			st=SKIP
		else
			st=PASS
		fi
		[ "$rc" = 0 ] && rc="" || rc=", exit status $rc"
		echo "$st $name: passed=$p failed=$f skipped=$s ($secs s$rc)"
		;;
	line)
		name=${rest%% *}
		text=${rest#* }
		st=${text%% *}
		text=${text#* }
		case $st in
		PASS) pass=$((pass + 1)) ;;
		FAIL) fail=$((fail + 1)) && bad "$name" ;;
		SKIPPED) skip=$((skip + 1)) && st=SKIP ;;
		*) return ;;
		esac
		echo "$st $name: $text"
		;;
	script)
		name=${rest%% *}
		rc=$(sed -n 's/.* rc=\([0-9]*\).*/\1/p' <<<"$rest")
		secs=$(sed -n 's/.* secs=\([0-9]*\).*/\1/p' <<<"$rest")
		echo "test-kernel: $name ran in $secs s (exit status $rc)"
		if [ "$rc" != 0 ]; then
			case " $failed_names " in
			*" $name "*) ;; # its FAIL lines said it
			*)
				fail=$((fail + 1))
				bad "$name"
				if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
					echo "FAIL $name: killed after the ${CASE_TIMEOUT} s limit (FGK_CASE_TIMEOUT)"
				else
					echo "FAIL $name: exit status $rc without a FAIL line"
				fi
				;;
			esac
		fi
		;;
	missing)
		skip=$((skip + 1))
		echo "SKIP ${rest#* }: not in the tree (not written or not built yet)"
		;;
	out) echo "    | ${rest#* }" ;;
	fatal) fatal=$rest ;;
	done)
		done=1
		guest_s=${rest%%.*}
		;;
	esac
}

while IFS= read -r line; do
	line=${line%$'\r'}
	case $line in *"@@FGK "*) on_line "${line#*@@FGK }" ;; esac
done < <(tail -n +1 -s 0.5 -f --pid="$qpid" "$RESULTS" 2>/dev/null)
wait "$qpid"
qrc=$?
trap - EXIT
t1=$(date +%s)

if [ "$done" -ne 1 ]; then
	fail=$((fail + 1))
	if [ -n "$fatal" ]; then
		why="guest init failed: $fatal"
	elif [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
		why="killed after the ${TIMEOUT} s limit (FGK_TIMEOUT) before all cases ran"
	else
		why="qemu exited (status $qrc) before all cases ran"
	fi
	bad guest
	echo "FAIL guest: $why"
	echo "    last console lines (${CONSOLE#"$top"/}):"
	tail -n 20 "$CONSOLE" | tr -d '\r' | sed 's/^/    | /'
	[ -s "$KDIR/qemu.out" ] && sed 's/^/    qemu: /' "$KDIR/qemu.out" | tail -n 5
fi
[ -n "$guest_s" ] && [ -n "$boot_s" ] && cases_s=$((guest_s - boot_s))
[ -n "$guest_kver" ] || guest_kver="unknown (the guest never reported)"
echo "test-kernel: guest kernel $guest_kver ($pkg $KDEBVER); boot ${boot_s:-?} s, cases ${cases_s:-?} s, total $((t1 - t0)) s; console log ${CONSOLE#"$top"/}"
[ -n "$failed_names" ] && echo "test-kernel: failed:$failed_names"
echo "test-kernel: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
