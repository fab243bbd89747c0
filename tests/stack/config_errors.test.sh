#!/usr/bin/env bash
# Stack configuration errors: where libpam would quietly turn a broken
# line into a must-fail entry (or load a loop until its depth limit),
# bast refuses the whole config with exit 2 and a message naming
# file:line.  Covers unknown keys and words, `=0`, repeated keys and
# sections, missing and unsafe plugins, bad booleans, long lines, include
# cycles and nesting depth, and the file-mode rules.
. "$TOP/tests/lib.sh"
. "$TOP/tests/stack/stacklib.sh"

bad() { # bad LABEL PATTERN: conf.d/bad.conf must fail to load, then reset
    expect_load_error "$1" bad "$2"
    fresh
}

app bad; mod m0 required success colour=red
bad "unknown key goes to the plugin, which names it" 'bad\.conf:[0-9]+.*colour'
app bad; mod m0 '[success=donee default=bad]' success
bad "unknown action 'donee'" "bad\.conf:[0-9]+.*donee"
app bad; mod m0 '[succes=ok default=bad]' success
bad "unknown result word in a bracket" "bad\.conf:[0-9]+.*succes"
app bad; mod m0 '[success=0 default=ignore]' success
bad "jump of 0" 'bad\.conf:[0-9]+.*control'
app bad; mod m0 '[success=ok default=bad' success
bad "bracket without ]" 'bad\.conf:[0-9]+.*control'
app bad; mod m0 '[success=256]' success
bad "jump over 255" 'bad\.conf:[0-9]+.*control'
app bad; mod m0 '[]' success
bad "empty bracket" 'bad\.conf:[0-9]+.*control'
app bad; mod m0 '[success=ok default=]' success
bad "trailing default= without action" 'bad\.conf:[0-9]+.*control'
app bad; mod m0 required success control=optional
bad "repeated key" 'bad\.conf:[0-9]+.*control'
app bad; mod m0 required success; mod m0 optional success
bad "repeated section" 'bad\.conf:[0-9]+.*m0'
app bad; sec m0 plugin=nosuchplugin control=required
bad "missing plugin without '-'" 'bad\.conf:[0-9]+.*nosuchplugin'
app bad; mod m0 required success bind_identity=maybe
bad "bad boolean" 'bad\.conf:[0-9]+.*bind_identity'
app bad; sec m0 plugin=fixed result=success
bad "missing control" 'bad\.conf:[0-9]+.*control'
app bad; sec m0 plugin=fixed control=required
bad "fixed without result" 'bad\.conf:[0-9]+.*result'
app bad; sec m0 plugin=fixed control=required result=success include=other
bad "plugin and include in one section" 'bad\.conf:[0-9]+.*m0'
app bad; sec i include=empty control=required
bad "include section with another key" 'bad\.conf:[0-9]+.*control'
app bad; sec i include=../etc/passwd
bad "include of something that is not an app name" 'bad\.conf:[0-9]+.*include'
app bad; mod m0 required success "identity=$(printf 'a%.0s' $(seq 220))"
bad "line over 199 characters" 'bad\.conf:[0-9]+.*(long|199)'

# include cycles and depth
app bad; sec i include=loop2
app loop2; sec s substack=bad
bad "include/substack cycle" 'loop2\.conf:[0-9]+.*(cycle|itself)|bad\.conf:[0-9]+.*(cycle|itself)'
app bad; sec i include=bad
bad "a file that includes itself" 'bad\.conf:[0-9]+.*(cycle|itself)'
chain() { # chain N: conf.d/bad.conf includes d1, d1 includes d2 ... dN
    local i
    app bad; sec i include=d1
    for i in $(seq 1 "$1"); do
        app "d$i"
        if [ "$i" -lt "$1" ]; then sec s substack="d$((i + 1))"; else mod m0 required success; fi
    done
}
chain 16
expect "16 nested includes/substacks load" bad allow 200 null m0
fresh
chain 17
bad "17 nested includes/substacks: too deep" 'd16\.conf:[0-9]+.*(deep|16)'

# file modes: a stack file others could change is refused; a plugin too
app bad; mod m0 required success
chmod 664 "$CONF/conf.d/bad.conf"
bad "group-writable stack file refused" 'bad\.conf.*writable'
app good; mod m0 required success
chmod 644 "$CONF/conf.d/good.conf"
expect "a world-readable stack file (nothing secret) is fine" good allow 200 null m0
mkdir -p "$T/plug"
cp "$BAST_PLUGIN_DIR/fixed.so" "$T/plug/fixed.so"
chmod 0757 "$T/plug"; chmod 0646 "$T/plug/fixed.so"
out=$(BAST_PLUGIN_DIR=$T/plug "$BAST" verify --app good --confdir "$CONF" 2>"$T/stack.err"); rc=$?
if [ "$rc" = 2 ] && grep -q 'good\.conf:[0-9]*.*writable' "$T/stack.err"; then
    ok "world-writable plugin .so refused ($(head -c 120 "$T/stack.err"))"
else
    not_ok "world-writable plugin .so: exit $rc $(head -c 200 "$T/stack.err")"
fi
chmod 0755 "$T/plug"; chmod 0755 "$T/plug/fixed.so"
out=$(BAST_PLUGIN_DIR=$T/plug "$BAST" verify --app good --confdir "$CONF" 2>"$T/stack.err"); rc=$?
check_eq "the same plugin with mode 0755 loads" 0 "$rc"

# `bast check` reports the same errors
app bad; mod m0 '[success=donee]' success
"$BAST" check --confdir "$CONF" >"$T/check.txt" 2>&1; rc=$?
check_eq "bast check: exit 2 on a broken stack" 2 "$rc"
check "bast check: names file:line" grep -Eq 'bad\.conf:[0-9]+' "$T/check.txt"
fresh
app empty
"$BAST" check --confdir "$CONF" >"$T/check.txt" 2>&1; rc=$?
check_eq "bast check: an empty stack loads" 0 "$rc"
check "bast check: warns about the empty stack" grep -qi 'empty\|no modules' "$T/check.txt"
