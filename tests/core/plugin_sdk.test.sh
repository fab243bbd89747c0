#!/usr/bin/env bash
# The plugin author's path: install bast into a temporary DESTDIR, build
# examples/plugin against it with pkg-config alone (its own three-line
# Makefile), drop the .so into a plugin_dir and verify through it with the
# installed `bast`, without rebuilding bast.
. "$TOP/tests/lib.sh"
root=$T/root
make -s -C "$TOP" install B="$B" SAN="$SAN" DESTDIR="$root" PREFIX=/usr/local \
    >"$T/install.log" 2>&1
check "make install into a DESTDIR" test -x "$root/usr/local/bin/bast"
check "headers installed" test -f "$root/usr/local/include/bast_plugin.h"
check "bast.pc installed" test -f "$root/usr/local/lib/pkgconfig/bast.pc"

cp -r "$TOP/examples/plugin" "$T/src"
export PKG_CONFIG_PATH=$root/usr/local/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$root
if make -s -C "$T/src" >"$T/build.log" 2>&1; then ok "example plugin builds with pkg-config"; else not_ok "example plugin builds: $(tail -5 "$T/build.log")"; fi

mkdir -p "$T/pdir" && cp "$T/src/ipallow.so" "$T/pdir/" && chmod 755 "$T/pdir/ipallow.so"
mkconf "$T/c"
cat > "$T/c/conf.d/office.conf" <<'CONF'
[office]
plugin  = ipallow
control = required
allow   = 127.0.0.0/8 203.0.113.0/24
CONF
export LD_LIBRARY_PATH=$root/usr/local/lib BAST_PLUGIN_DIR=$T/pdir
BAST=$root/usr/local/bin/bast
verify office "$T/c" --remote-addr 203.0.113.9 >/dev/null
check_eq "installed bast allows through the out-of-tree plugin" allow "$(json_get "$out" decision)"
verify office "$T/c" --remote-addr 198.51.100.1 >/dev/null
check_eq "... and forbids an address outside (403)" 403 "$(json_get "$out" status)"
check_eq "... with the plugin's error" address_not_allowed "$(json_get "$out" error)"
