#!/usr/bin/env bash
# End to end with real components on free loopback ports: Debian's nginx
# (auth_request to bastd, TLS with `ssl_verify_client optional_no_ca` and
# $ssl_client_escaped_cert forwarded), an nginx server as the protected
# upstream echoing the identity it received, and curl as the client.
# fixed (always), and when built: apikey, jwt (HS256 minted by python3-jwt),
# hmac (`bast sign`) and mtls (certificates made with openssl) — each
# allowed and denied with the right status and WWW-Authenticate; the
# client's own X-Bast-Identity overridden; a spoofed X-Client-Cert refused
# through nginx and from an untrusted address straight to bastd.  The
# subrequest location is the shipped daemon/nginx-bast.conf.
. "$TOP/tests/lib.sh"
. "$TOP/tests/e2e/e2elib.sh"
cd "$T" || exit 1
umask 022
command -v nginx >/dev/null || { skip "nginx not installed"; exit 0; }
nginx -V 2>&1 | grep -q http_auth_request_module || { skip "nginx without auth_request"; exit 0; }

# ---- PKI ------------------------------------------------------------------
mkdir pki
cd pki || exit 1
ossl() { openssl "$@" 2>/dev/null; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
    -subj "/CN=bast test CA" -days 2 -addext basicConstraints=critical,CA:true \
    -addext keyUsage=critical,keyCertSign,cRLSign
leaf() { # leaf NAME CN EKU [CA]
    local ca=${4:-ca}
    ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$2"
    printf 'basicConstraints=CA:false\nextendedKeyUsage=%s\nsubjectAltName=IP:127.0.0.1\n' "$3" >"$1.ext"
    ossl x509 -req -in "$1.csr" -CA "$ca.pem" -CAkey "$ca.key" -CAcreateserial -out "$1.pem" -days 2 -extfile "$1.ext"
}
leaf srv localhost serverAuth
leaf client partner-a clientAuth
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout evil.key -out evil.pem \
    -subj "/CN=partner-a" -days 2 -addext extendedKeyUsage=clientAuth
cd "$T" || exit 1
check "test PKI made" test -s pki/srv.pem -a -s pki/client.pem -a -s pki/evil.pem

# ---- configuration ------------------------------------------------------
mkconf c
chmod 700 c
app() { local n=$1; shift; printf '%s\n' '[app]' "realm = $n" '' "$@" >"c/conf.d/$n.conf"; chmod 600 "c/conf.d/$n.conf"; }
app fx '[m]' 'plugin = fixed' 'control = required' 'result = success' 'identity = fixed-user'
app down '[m]' 'plugin = fixed' 'control = required' 'result = unavailable' 'error = store_unavailable'
app ask '[m]' 'plugin = fixed' 'control = required' 'result = absent' 'challenge = Bearer realm="ask"'
if have_plugin apikey; then
    app ak '[keys]' 'plugin = apikey' 'control = required' 'store = sqlite:keys.db'
fi
if have_plugin jwt; then
    head -c 48 /dev/urandom | base64 | tr -d '\n=+/' >c/jwt.secret
    chmod 600 c/jwt.secret
    app jwt '[bearer]' 'plugin = jwt' 'control = required' 'algorithms = HS256' 'hmac_secret_file = jwt.secret'
fi
if have_plugin hmac; then
    printf 'sig-secret-0123456789abcdef\n' >hsecret
    chmod 600 hsecret
    printf 'k1 alice sig-secret-0123456789abcdef\n' >c/hmac.secrets
    chmod 600 c/hmac.secrets
    app hm '[sig]' 'plugin = hmac' 'control = required' 'secrets_file = hmac.secrets' 'trust_declared_body_hash = yes'
fi
if have_plugin mtls; then
    cp pki/ca.pem c/ca.pem
    app mt '[cert]' 'plugin = mtls' 'control = required' 'ca_file = ca.pem' 'identity = cn'
fi

BP=$(free_port)
start_bastd "$T/bastd.log" --confdir c --listen "127.0.0.1:$BP" --trusted-proxies 127.0.0.1/32
check "bastd up" wait_http "http://127.0.0.1:$BP/healthz"

# ---- nginx ----------------------------------------------------------------
AP=$(free_port) HP=$(free_port) SP=$(free_port)
mkdir -p ngx/tmp
{
    [ "$(id -u)" = 0 ] && echo "user root;"
    cat <<EOF
daemon off;
worker_processes 1;
pid $T/ngx/nginx.pid;
error_log $T/ngx/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $T/ngx/tmp/body;
    proxy_temp_path $T/ngx/tmp/proxy;
    fastcgi_temp_path $T/ngx/tmp/fastcgi;
    uwsgi_temp_path $T/ngx/tmp/uwsgi;
    scgi_temp_path $T/ngx/tmp/scgi;
    upstream bastd { server 127.0.0.1:$BP; keepalive 8; }
    server {    # the protected application
        listen 127.0.0.1:$AP;
        location / {
            return 200 "id=\$http_x_bast_identity scheme=\$http_x_bast_scheme uri=\$request_uri\n";
        }
    }
    server {
        listen 127.0.0.1:$HP;
        listen 127.0.0.1:$SP ssl;
        ssl_certificate $T/pki/srv.pem;
        ssl_certificate_key $T/pki/srv.key;
        ssl_verify_client optional_no_ca;
        location ~ ^/(?<bast_app>[a-z]+)/ {
            auth_request /_bast;
            auth_request_set \$bast_identity \$upstream_http_x_bast_identity;
            auth_request_set \$bast_scheme \$upstream_http_x_bast_scheme;
            proxy_set_header X-Bast-Identity \$bast_identity;
            proxy_set_header X-Bast-Scheme \$bast_scheme;
            proxy_pass http://127.0.0.1:$AP;
        }
        include $TOP/daemon/nginx-bast.conf;   # the shipped snippet
    }
}
EOF
} >ngx/nginx.conf
nginx -t -c "$T/ngx/nginx.conf" -p "$T/ngx" -e "$T/ngx/error.log" >ngx/t.out 2>&1
check "nginx accepts the configuration" grep -q 'test is successful' ngx/t.out
nginx -c "$T/ngx/nginx.conf" -p "$T/ngx" -e "$T/ngx/error.log" &
NGX=$!
at_exit "kill $NGX; wait $NGX"
for i in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$HP/" && break; sleep 0.05; done

H=http://127.0.0.1:$HP
S=https://127.0.0.1:$SP
req() { curl -s -o "$T/body" -D "$T/h" -w '%{http_code}' --cacert pki/ca.pem "$@"; }
body() { cat "$T/body"; }

check_eq "fixed: allowed through nginx" 200 "$(req "$H/fx/orders?id=7")"
check_eq "fixed: upstream got identity, scheme and the original URI" "id=fixed-user scheme=fixed uri=/fx/orders?id=7" "$(body)"
check_eq "client's X-Bast-Identity is overridden" 200 "$(req "$H/fx/x" -H 'X-Bast-Identity: mallory')"
check_eq "upstream sees the verified identity, not the client's" "id=fixed-user scheme=fixed uri=/fx/x" "$(body)"
check_eq "absent: 401 through nginx" 401 "$(req "$H/ask/x")"
check_eq "absent: nginx passes WWW-Authenticate" 'Bearer realm="ask"' "$(hdr h WWW-Authenticate)"
check_eq "unavailable (503): nginx auth_request answers 500" 500 "$(req "$H/down/x")"
check_eq "no such app: 401" 401 "$(req "$H/nosuch/x")"

if have_plugin apikey; then
    j=$("$BAST" apikey --app ak --module keys --confdir c issue --user alice --name e2e --json 2>/dev/null)
    KEY=$($PY -c 'import json,sys; print(json.load(sys.stdin)["key"])' <<<"$j")
    j=$("$BAST" apikey --app ak --module keys --confdir c issue --user bob --name gone --json 2>/dev/null)
    RKEY=$($PY -c 'import json,sys; print(json.load(sys.stdin)["key"])' <<<"$j")
    RID=$($PY -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"$j")
    "$BAST" apikey --app ak --module keys --confdir c revoke "$RID" >/dev/null 2>&1
    kill -HUP "$BASTD_PID"   # pick up the store without waiting for its refresh
    for i in $(seq 50); do curl -s "http://127.0.0.1:$BP/metrics" | grep -q '^bastd_config_generation 2$' && break; sleep 0.1; done
    check_eq "apikey: right key 200" 200 "$(req "$S/ak/v1/orders" -H "Authorization: Bearer $KEY")"
    check_eq "apikey: identity is the key's owner" "id=alice scheme=apikey uri=/ak/v1/orders" "$(body)"
    check_eq "apikey: X-Api-Key header 200" 200 "$(req "$S/ak/v1/orders" -H "X-Api-Key: $KEY")"
    check_eq "apikey: wrong key 401" 401 "$(req "$S/ak/v1/orders" -H "Authorization: Bearer $(tamper "$KEY")")"
    check "apikey: wrong key has a challenge" test -n "$(hdr h WWW-Authenticate)"
    check_eq "apikey: revoked key 401" 401 "$(req "$S/ak/v1/orders" -H "Authorization: Bearer $RKEY")"
    check_eq "apikey: no key 401" 401 "$(req "$S/ak/v1/orders")"
    check "apikey: no key has a challenge" test -n "$(hdr h WWW-Authenticate)"
else
    skip "apikey plugin not built"
fi

if have_plugin jwt && $PY -c 'import jwt' 2>/dev/null; then
    mint() { $PY -c 'import jwt,sys,time
n=int(time.time())
print(jwt.encode({"sub":"svc-a","iat":n+int(sys.argv[2]),"exp":n+int(sys.argv[3])}, sys.argv[1], "HS256"))' "$@"; }
    SEC=$(cat c/jwt.secret)
    TOK=$(mint "$SEC" 0 300)
    check_eq "jwt: valid token 200" 200 "$(req "$S/jwt/me" -H "Authorization: Bearer $TOK")"
    check_eq "jwt: identity is sub" "id=svc-a scheme=jwt uri=/jwt/me" "$(body)"
    check_eq "jwt: expired token 401" 401 "$(req "$S/jwt/me" -H "Authorization: Bearer $(mint "$SEC" -900 -600)")"
    check "jwt: expired has error in the challenge" grep -qi 'WWW-Authenticate: Bearer.*error=' h
    check_eq "jwt: other key 401" 401 "$(req "$S/jwt/me" -H "Authorization: Bearer $(mint "wrong-secret-wrong-secret-wrong-secret" 0 300)")"
    check_eq "jwt: no token 401" 401 "$(req "$S/jwt/me")"
    check "jwt: no token, Bearer challenge" grep -qi '^WWW-Authenticate: Bearer' h
else
    skip "jwt plugin or python3-jwt missing"
fi

if have_plugin hmac; then
    signed() { # signed PATH QUERY -> sets HS to curl -H args
        HS=()
        local l
        while IFS= read -r l; do HS+=(-H "$l"); done < <("$BAST" sign --key-id k1 --secret-file hsecret --method GET --path "$1" --query "$2" 2>/dev/null)
    }
    signed /hm/v1/charges 'a=1&b=%20x'
    check_eq "hmac: signed request 200" 200 "$(req "$S/hm/v1/charges?a=1&b=%20x" "${HS[@]}")"
    check_eq "hmac: identity is the key's owner" "id=alice scheme=hmac uri=/hm/v1/charges?a=1&b=%20x" "$(body)"
    check_eq "hmac: the same signature again (replay) 401" 401 "$(req "$S/hm/v1/charges?a=1&b=%20x" "${HS[@]}")"
    signed /hm/v1/charges 'a=1'
    check_eq "hmac: tampered query 401" 401 "$(req "$S/hm/v1/charges?a=2" "${HS[@]}")"
    check_eq "hmac: no signature 401" 401 "$(req "$S/hm/v1/charges")"
else
    skip "hmac plugin not built"
fi

if have_plugin mtls; then
    check_eq "mtls: client certificate 200" 200 "$(req "$S/mt/x" --cert pki/client.pem --key pki/client.key)"
    check_eq "mtls: identity is the CN" "id=partner-a scheme=mtls uri=/mt/x" "$(body)"
    check_eq "mtls: no certificate 401" 401 "$(req "$S/mt/x")"
    check_eq "mtls: certificate from another CA 401" 401 "$(req "$S/mt/x" --cert pki/evil.pem --key pki/evil.key)"
    ESC=$($PY -c 'import sys,urllib.parse;print(urllib.parse.quote(open(sys.argv[1]).read(),safe=""))' pki/client.pem)
    check_eq "mtls: spoofed X-Client-Cert through nginx (plain HTTP) 401" 401 "$(req "$H/mt/x" -H "X-Client-Cert: $ESC")"
    check_eq "mtls: spoofed X-Client-Cert over TLS without a certificate 401" 401 "$(req "$S/mt/x" -H "X-Client-Cert: $ESC")"
    check_eq "mtls: spoofed X-Client-Cert straight to bastd from an untrusted address 401" 401 \
        "$(req --interface 127.0.0.2 "http://127.0.0.1:$BP/verify/mt" -H 'X-Original-URI: /mt/x' -H "X-Client-Cert: $ESC")"
    check_eq "mtls: the same header from the trusted proxy address is used (control)" 200 \
        "$(req "http://127.0.0.1:$BP/verify/mt" -H 'X-Original-URI: /mt/x' -H "X-Client-Cert: $ESC")"
else
    skip "mtls plugin not built"
fi
check "nginx logged no auth_request errors for allowed requests" bash -c "! grep -q 'auth request unexpected status: 200' '$T/ngx/error.log'"
