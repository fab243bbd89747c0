# pki.sh - a throw-away PKI made with the openssl command, for the mtls
# tests and benchmark (sourced).  newca DIR CN [PARENT]: a root CA, or an
# intermediate signed by PARENT; leaf CA NAME SUBJ EXT [START END]: a key
# and certificate NAME.key/NAME.pem signed by CA with extension lines EXT
# (newline-separated), optional validity YYYYMMDDHHMMSSZ; selfsigned NAME
# SUBJ EXT; revoke CA NAME; gencrl CA OUT.
_pki_cnf() {
    cat >"$1/ca.cnf" <<CNF
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = $1
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
crlnumber = \$dir/crlnumber
default_md = sha256
default_days = 365
default_crl_days = 30
policy = pol
preserve = yes
unique_subject = no
copy_extensions = none
[ pol ]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = optional
emailAddress = optional
[ req ]
distinguished_name = dn
[ dn ]
[ v3_root ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_inter ]
basicConstraints = critical,CA:true,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CNF
}

newca() {
    local d=$1 cn=$2 parent=${3:-}
    mkdir -p "$d/new"
    : >"$d/index.txt"
    echo 1000 >"$d/serial"
    echo 1000 >"$d/crlnumber"
    _pki_cnf "$d"
    if [ -z "$parent" ]; then
        openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
            -nodes -keyout "$d/ca.key" -out "$d/ca.pem" -subj "/CN=$cn" \
            -days 3650 -config "$d/ca.cnf" -extensions v3_root 2>/dev/null
    else
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout "$d/ca.key" -out "$d/ca.csr" -subj "/CN=$cn" \
            -config "$d/ca.cnf" 2>/dev/null &&
            openssl ca -batch -config "$parent/ca.cnf" -cert "$parent/ca.pem" \
                -keyfile "$parent/ca.key" -in "$d/ca.csr" -out "$d/ca.pem" \
                -extensions v3_inter -days 1825 -notext 2>/dev/null
    fi
}

leaf() {
    local ca=$1 name=$2 subj=$3 ext=$4 start=${5:-} end=${6:-}
    printf '[ x ]\n%s\n' "$ext" >"$name.ext"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$name.key" -out "$name.csr" -subj "$subj" -utf8 \
        -config "$ca/ca.cnf" 2>/dev/null &&
        openssl ca -batch -config "$ca/ca.cnf" -cert "$ca/ca.pem" \
            -keyfile "$ca/ca.key" -in "$name.csr" -out "$name.pem" \
            -extfile "$name.ext" -extensions x -notext \
            ${start:+-startdate "$start"} ${end:+-enddate "$end"} 2>/dev/null
}

selfsigned() {
    local name=$1 subj=$2 ext=$3
    printf '[ req ]\ndistinguished_name = dn\n[ dn ]\n[ x ]\n%s\n' "$ext" >"$name.cnf"
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$name.key" -out "$name.pem" -subj "$subj" -days 365 \
        -config "$name.cnf" -extensions x 2>/dev/null
}

revoke() {
    openssl ca -batch -config "$1/ca.cnf" -cert "$1/ca.pem" -keyfile "$1/ca.key" \
        -revoke "$2" 2>/dev/null
}

gencrl() {
    openssl ca -batch -config "$1/ca.cnf" -cert "$1/ca.pem" -keyfile "$1/ca.key" \
        -gencrl -out "$2" 2>/dev/null
}

# Extension lines of a client certificate; $1 = extra lines (SANs...).
CLIENT_EXT='basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid'
