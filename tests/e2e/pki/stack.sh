#!/usr/bin/env bash
# A real directory and revocation infrastructure on 127.0.0.1 for the end-to-end suite:
# OpenLDAP slapd (Debian 12 package, own slapd.conf, back_mdb) holding S/MIME certificates,
# a CRL + caIssuers HTTP server (python3 -m http.server) and an OCSP responder
# (ocsp_responder.py: openssl ocsp per request). TEST FIXTURES only: a throwaway PKI made
# with openssl, throwaway passwords, everything on loopback.
#
#   tests/e2e/pki/stack.sh install|configure|start|stop|restart|status|env|ocsp-down|ocsp-up|all
#
#   install    Debian packages (slapd, ldap-utils, openssl, python3, curl); no daemon is started
#   configure  throwaway PKI (only when missing), CRL (always), slapd.conf, LDIF; loads the
#              directory with slapadd when it is empty or the PKI changed
#   start      regenerate the CRL, start what is not running, wait (bounded) for every service
#   stop       stop every daemon of this stack (TERM, KILL after 5 s)
#   status     one line per service (slapd, ldaps, crl-http, ocsp); exit 1 if anything is down
#   env        KEY=VALUE lines for the suite
#   ocsp-down  stop only the OCSP responder (connections to 18888 are then refused)
#   ocsp-up    start the OCSP responder again
#   all        install + configure + start (idempotent; also recovers from killed daemons)
#
# Addresses (all 127.0.0.1 only):
#   ldap://127.0.0.1:13890    slapd, StartTLS available (server cert from the root)
#   ldaps://127.0.0.1:16360   slapd over TLS
#   http://127.0.0.1:18080/   ca.crl (DER CRL of the intermediate), ca.der, root.der
#   http://127.0.0.1:18888/   OCSP responder for the intermediate (POST and GET)
# Directory: base ou=people,dc=example,dc=test; anonymous read, or simple bind as
# cn=reader,dc=example,dc=test with the password in pki/ldap-reader-password.txt.
#
# Identities (issued by "smime-proxy e2e Directory CA", under "smime-proxy e2e Directory Root"):
#   carol@example.test  good     OCSP + CDP + caIssuers  LDAP: userCertificate;binary + userSMIMECertificate
#   dave@example.test   revoked  OCSP only (no CDP)      LDAP: userCertificate;binary
#   erin@example.test   revoked  CRL only (no OCSP URL)  LDAP: userCertificate;binary
#   frank@example.test  good     OCSP only (no CDP)      LDAP: userSMIMECertificate
#   garbage@example.test         LDAP: userSMIMECertificate = 64 random bytes
#
# State: $E2E_DIRPKI_DIR (default /tmp/smime-proxy-e2e-pki): pki/ (keys, certs, p12, CA database
# in pki/db/) ldap/ (slapd.conf, data.ldif, db/) www/ (served on 18080) ocsp/ (responder
# scratch) log/ run/ (pid files). Nothing outside it is changed; every daemon runs as root
# from its own files (slapd without -u/-g, so the 0600 root TLS key is readable).
set -euo pipefail

P=${E2E_DIRPKI_DIR:-/tmp/smime-proxy-e2e-pki}
DOMAIN=example.test
SUFFIX=dc=example,dc=test
LDAP_PORT=13890
LDAPS_PORT=16360
HTTP_PORT=18080
OCSP_PORT=18888
OCSP_URL=http://127.0.0.1:$OCSP_PORT/
CRL_URL=http://127.0.0.1:$HTTP_PORT/ca.crl
CAISSUERS_URL=http://127.0.0.1:$HTTP_PORT/ca.der
START_TIMEOUT=${E2E_START_TIMEOUT:-30}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# shellcheck disable=SC2034 # read by stack_install (stack-lib.sh)
PACKAGES=(slapd ldap-utils openssl python3 curl)
# Debian's python3 (what `install` guarantees), not whatever python3 comes first in PATH.
PY=/usr/bin/python3
LEAVES=(carol dave erin frank)

log() { printf 'pki-stack: %s\n' "$*" >&2; }
die() { printf 'pki-stack: error: %s\n' "$*" >&2; exit 1; }
# shellcheck source-path=SCRIPTDIR source=../stack-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../stack-lib.sh"

timed() { stack_timed "$P/log" "$@"; }

# --- install -------------------------------------------------------------------------------

cmd_install() {
  # slapd's postinst would start the system slapd (all interfaces): stack_install keeps it
  # from starting. The postinst also creates /etc/ldap/slapd.d and /var/lib/ldap; this
  # stack uses neither.
  stack_install "${TMPDIR:-/tmp}/smime-proxy-e2e-pki-apt.log"
}

# --- configure: the throwaway PKI ----------------------------------------------------------

write_if_changed() { # path [mode] (content on stdin)
  local tmp
  tmp=$(mktemp "$1.XXXXXX")
  cat > "$tmp"
  if [[ -f $1 ]] && cmp -s "$tmp" "$1"; then rm -f "$tmp"; return; fi
  chmod "${2:-644}" "$tmp"
  mv "$tmp" "$1"
}

# Everything a complete PKI has; any of them missing (or a certificate expiring within 30
# days) regenerates all of it, CA database included.
pki_complete() {
  local k=$P/pki f
  for f in root.pem root.key ca.pem ca.key ocsp-responder.pem ocsp-responder.key ldap-tls.pem \
    ldap-tls.key passphrase.txt ldap-reader-password.txt ldap-admin-password.txt garbage.bin \
    db/index.txt db/serial db/crlnumber ca.cnf; do
    [[ -s $k/$f ]] || return 1
  done
  for f in "${LEAVES[@]}"; do
    [[ -s $k/$f.pem && -s $k/$f.key && -s $k/$f.p12 && -s $k/$f.der && -s $k/$f.p7c ]] || return 1
  done
  for f in root ca ocsp-responder ldap-tls "${LEAVES[@]}"; do
    openssl x509 -in "$k/$f.pem" -noout -checkend $((30 * 86400)) >/dev/null 2>&1 || return 1
  done
  [[ -s $P/www/ca.der && -s $P/www/root.der ]]
}

# The openssl configuration: [req] for CSRs, the intermediate's `openssl ca` section, and
# one extension section per certificate profile.
ca_cnf() {
  local k=$P/pki name
  cat <<EOF
# smime-proxy e2e PKI stack: TEST FIXTURE openssl configuration (generated by tests/e2e/pki/stack.sh)
[req]
distinguished_name = req_dn
prompt = no
utf8 = yes
string_mask = utf8only
[req_dn]
CN = unused

[ca]
default_ca = ca_int
# The intermediate's database: every certificate it issues is in index.txt, so the OCSP
# responder answers good/revoked (never "unknown") and the CRL lists the revoked ones.
[ca_int]
database = $k/db/index.txt
new_certs_dir = $k/db/newcerts
serial = $k/db/serial
crlnumber = $k/db/crlnumber
certificate = $k/ca.pem
private_key = $k/ca.key
default_md = sha256
default_days = 730
default_crl_days = 7
policy = policy_leaf
unique_subject = no
copy_extensions = none
email_in_dn = yes
preserve = no
crl_extensions = crl_ext
[policy_leaf]
commonName = supplied
emailAddress = optional
[crl_ext]
authorityKeyIdentifier = keyid:always

[root_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ca_ext]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ocsp_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = OCSPSigning
noCheck = ignored
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ldap_tls_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = IP:127.0.0.1, DNS:ldap.$DOMAIN, DNS:localhost
EOF
  for name in "${LEAVES[@]}"; do
    cat <<EOF
[leaf_$name]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation, keyEncipherment
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = email:$name@$DOMAIN
EOF
    case $name in
      dave | frank) # only OCSP can tell (dave revoked, frank good): no CDP
        printf 'authorityInfoAccess = OCSP;URI:%s, caIssuers;URI:%s\n' "$OCSP_URL" "$CAISSUERS_URL" ;;
      erin) # revoked, only the CRL can tell: no OCSP URL
        printf 'authorityInfoAccess = caIssuers;URI:%s\n' "$CAISSUERS_URL"
        printf 'crlDistributionPoints = URI:%s\n' "$CRL_URL" ;;
      *)
        printf 'authorityInfoAccess = OCSP;URI:%s, caIssuers;URI:%s\n' "$OCSP_URL" "$CAISSUERS_URL"
        printf 'crlDistributionPoints = URI:%s\n' "$CRL_URL" ;;
    esac
  done
}

# A positive 16-byte serial (32 hex digits, first byte 0x10-0x7f).
rand_serial() { printf '%02x%s' $((RANDOM % 112 + 16)) "$(openssl rand -hex 15)"; }

make_pki() {
  local k=$P/pki name
  local ossl_log=$P/log/pki.log
  log "configure: generating the throwaway PKI in $k (TEST FIXTURES)"
  rm -rf "$k"
  mkdir -p "$k/db/newcerts"
  chmod 700 "$k/db"
  : > "$ossl_log"
  ca_cnf > "$k/ca.cnf"
  : > "$k/db/index.txt"
  echo 'unique_subject = no' > "$k/db/index.txt.attr"
  rand_serial > "$k/db/serial"; echo >> "$k/db/serial"
  echo 1000 > "$k/db/crlnumber"
  (
    cd "$k"
    umask 077
    ossl() { openssl "$@" >>"$ossl_log" 2>&1 || { tail -20 "$ossl_log" >&2; die "openssl $1 failed (log: $ossl_log)"; }; }
    # Root: self-signed, 10 years. (No "/" inside a -subj value: it would start a new RDN.)
    ossl req -x509 -new -config ca.cnf -extensions root_ext -newkey rsa:2048 -nodes -sha256 \
      -days 3650 -subj "/CN=smime-proxy e2e Directory Root" -keyout root.key -out root.pem
    # Intermediate: issued by the root, pathlen 0.
    ossl req -new -config ca.cnf -newkey rsa:2048 -nodes -subj "/CN=smime-proxy e2e Directory CA" \
      -keyout ca.key -out ca.csr
    ossl x509 -req -in ca.csr -CA root.pem -CAkey root.key -set_serial "0x$(rand_serial)" -sha256 \
      -days 3600 -extfile ca.cnf -extensions ca_ext -out ca.pem
    # Leaves and the delegated OCSP responder: through `openssl ca`, so they are in index.txt.
    for name in "${LEAVES[@]}"; do
      ossl req -new -config ca.cnf -newkey rsa:2048 -nodes \
        -subj "/CN=${name^} Example/emailAddress=$name@$DOMAIN" -keyout "$name.key" -out "$name.csr"
      ossl ca -batch -config ca.cnf -extensions "leaf_$name" -days 730 -notext -in "$name.csr" -out "$name.pem"
    done
    ossl req -new -config ca.cnf -newkey rsa:2048 -nodes -subj "/CN=smime-proxy e2e Directory OCSP Responder" \
      -keyout ocsp-responder.key -out ocsp-responder.csr
    ossl ca -batch -config ca.cnf -extensions ocsp_ext -days 730 -notext -in ocsp-responder.csr -out ocsp-responder.pem
    ossl ca -config ca.cnf -revoke dave.pem -crl_reason keyCompromise
    ossl ca -config ca.cnf -revoke erin.pem -crl_reason keyCompromise
    # slapd's TLS certificate: issued by the ROOT (the suite's single trust anchor for ldaps).
    ossl req -new -config ca.cnf -newkey rsa:2048 -nodes -subj "/CN=ldap.$DOMAIN" \
      -keyout ldap-tls.key -out ldap-tls.csr
    ossl x509 -req -in ldap-tls.csr -CA root.pem -CAkey root.key -set_serial "0x$(rand_serial)" -sha256 \
      -days 730 -extfile ca.cnf -extensions ldap_tls_ext -out ldap-tls.pem
    rm -f ./*.csr
    cat ca.pem root.pem > chain.pem
    printf %s test > passphrase.txt
    for name in "${LEAVES[@]}"; do
      ossl x509 -in "$name.pem" -outform DER -out "$name.der"
      # certs-only PKCS#7 holding ONLY the leaf (the userSMIMECertificate value)
      ossl crl2pkcs7 -nocrl -certfile "$name.pem" -outform DER -out "$name.p7c"
      ossl pkcs12 -export -inkey "$name.key" -in "$name.pem" -certfile chain.pem -name "$name@$DOMAIN" \
        -passout file:passphrase.txt -out "$name.p12"
    done
    head -c 64 /dev/urandom > garbage.bin
    # Throwaway directory passwords, no trailing newline.
    openssl rand -hex 16 | tr -d '\n' > ldap-reader-password.txt
    openssl rand -hex 16 | tr -d '\n' > ldap-admin-password.txt
    chmod 644 ./*.pem ./*.der ./*.p7c ./*.cnf passphrase.txt garbage.bin
  )
  mkdir -p "$P/www"
  openssl x509 -in "$k/ca.pem" -outform DER -out "$P/www/ca.der"
  openssl x509 -in "$k/root.pem" -outform DER -out "$P/www/root.der"
  chmod 644 "$P/www/ca.der" "$P/www/root.der"
}

# The CRL: from the intermediate's database, nextUpdate 7 days. Cheap, so made on every
# configure and start (a long-lived machine never serves a stale one). Replaced atomically.
gen_crl() {
  local k=$P/pki
  openssl ca -config "$k/ca.cnf" -gencrl -crldays 7 -out "$k/ca.crl.pem.tmp" >>"$P/log/pki.log" 2>&1 \
    || { tail -20 "$P/log/pki.log" >&2; die "openssl ca -gencrl failed (log: $P/log/pki.log)"; }
  openssl crl -in "$k/ca.crl.pem.tmp" -outform DER -out "$P/www/ca.crl.tmp"
  chmod 644 "$k/ca.crl.pem.tmp" "$P/www/ca.crl.tmp"
  mv "$k/ca.crl.pem.tmp" "$k/ca.crl.pem"
  mv "$P/www/ca.crl.tmp" "$P/www/ca.crl"
}

# --- configure: the directory --------------------------------------------------------------

slapd_conf() {
  local k=$P/pki
  cat <<EOF
# smime-proxy e2e PKI stack: TEST FIXTURE directory (generated by tests/e2e/pki/stack.sh)
# slapd -f $P/ldap/slapd.conf -h "ldap://127.0.0.1:$LDAP_PORT/ ldaps://127.0.0.1:$LDAPS_PORT/"
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
argsfile $P/run/slapd.args
sizelimit 100
# TLS (ldaps and StartTLS); slapd runs as root, so the 0600 key is readable.
TLSCACertificateFile $k/root.pem
TLSCertificateFile $k/ldap-tls.pem
TLSCertificateKeyFile $k/ldap-tls.key

database mdb
maxsize 33554432
suffix "$SUFFIX"
rootdn "cn=admin,$SUFFIX"
rootpw $(slappasswd -h '{SSHA}' -T "$k/ldap-admin-password.txt")
directory $P/ldap/db
index objectClass eq
index mail,cn eq
# Anonymous and cn=reader read everything but passwords; passwords only serve to bind.
access to attrs=userPassword
  by anonymous auth
  by * none
access to *
  by * read
EOF
}

ldif() {
  local k=$P/pki
  cat <<EOF
# smime-proxy e2e PKI stack: TEST FIXTURE directory content (generated by tests/e2e/pki/stack.sh)
dn: $SUFFIX
objectClass: dcObject
objectClass: organization
dc: example
o: smime-proxy e2e

dn: ou=people,$SUFFIX
objectClass: organizationalUnit
ou: people

dn: cn=reader,$SUFFIX
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
description: read-only account for the smime-proxy e2e suite
userPassword: $(slappasswd -h '{SSHA}' -T "$k/ldap-reader-password.txt")

dn: cn=Directory CA,$SUFFIX
objectClass: applicationProcess
objectClass: pkiCA
cn: Directory CA
cACertificate;binary:< file://$k/ca.der
cACertificate;binary:< file://$P/www/root.der

dn: cn=Carol,ou=people,$SUFFIX
objectClass: inetOrgPerson
cn: Carol
sn: Example
mail: carol@$DOMAIN
userCertificate;binary:< file://$k/carol.der
userSMIMECertificate:< file://$k/carol.p7c

dn: cn=Dave,ou=people,$SUFFIX
objectClass: inetOrgPerson
cn: Dave
sn: Example
mail: dave@$DOMAIN
userCertificate;binary:< file://$k/dave.der

dn: cn=Erin,ou=people,$SUFFIX
objectClass: inetOrgPerson
cn: Erin
sn: Example
mail: erin@$DOMAIN
userCertificate;binary:< file://$k/erin.der

dn: cn=Frank,ou=people,$SUFFIX
objectClass: inetOrgPerson
cn: Frank
sn: Example
mail: frank@$DOMAIN
userSMIMECertificate:< file://$k/frank.p7c

dn: cn=Garbage,ou=people,$SUFFIX
objectClass: inetOrgPerson
cn: Garbage
sn: Garbage
mail: garbage@$DOMAIN
userSMIMECertificate:< file://$k/garbage.bin
EOF
}

# The fingerprint of what slapadd loads: the LDIF and every file it references.
ldif_fingerprint() {
  local k=$P/pki
  cat "$P/ldap/data.ldif" "$k"/{carol,dave,erin}.der "$k"/{carol,frank}.p7c "$k/garbage.bin" \
    "$k/ca.der" "$P/www/root.der" 2>/dev/null | sha256sum | cut -d' ' -f1
}

cmd_configure() {
  [[ -x /usr/sbin/slapd && -x /usr/sbin/slapadd && -x /usr/bin/ldapsearch ]] || die "slapd/ldap-utils not installed (run: $0 install)"
  local tool
  for tool in openssl curl slappasswd "$PY"; do
    command -v "$tool" >/dev/null || die "$tool missing (run: $0 install)"
  done
  mkdir -p "$P"/{pki,ldap/db,www,ocsp,log,run}
  chmod 755 "$P" "$P/www"
  chmod 700 "$P/ldap/db" "$P/ocsp"
  pki_complete || make_pki
  # ca.der under pki/ too (the LDIF's cACertificate reads it from there)
  [[ -s $P/pki/ca.der ]] || openssl x509 -in "$P/pki/ca.pem" -outform DER -out "$P/pki/ca.der"
  gen_crl

  # Client settings for the stack's own checks (and handy for the suite: LDAPCONF=this file).
  write_if_changed "$P/ldap/ldap.conf" <<EOF
# smime-proxy e2e PKI stack (generated by tests/e2e/pki/stack.sh): LDAPCONF for ldapsearch
TLS_CACERT $P/pki/root.pem
TLS_REQCERT demand
EOF
  # slappasswd salts randomly: keep the files when only the hashes would differ.
  local tmp
  tmp=$(mktemp)
  slapd_conf > "$tmp"
  if [[ -f $P/ldap/slapd.conf ]] && diff -q <(grep -v '^rootpw ' "$tmp") <(grep -v '^rootpw ' "$P/ldap/slapd.conf") >/dev/null \
    && [[ ! $P/pki/ldap-admin-password.txt -nt $P/ldap/slapd.conf ]]; then
    rm -f "$tmp"
  else
    chmod 600 "$tmp"; mv "$tmp" "$P/ldap/slapd.conf"
  fi
  tmp=$(mktemp)
  ldif > "$tmp"
  if [[ -f $P/ldap/data.ldif ]] && diff -q <(grep -v '^userPassword: ' "$tmp") <(grep -v '^userPassword: ' "$P/ldap/data.ldif") >/dev/null \
    && [[ ! $P/pki/ldap-reader-password.txt -nt $P/ldap/data.ldif ]]; then
    rm -f "$tmp"
  else
    chmod 600 "$tmp"; mv "$tmp" "$P/ldap/data.ldif"
  fi
  slaptest -u -f "$P/ldap/slapd.conf" >>"$P/log/slapd-tools.log" 2>&1 \
    || { tail -20 "$P/log/slapd-tools.log" >&2; die "slaptest rejected $P/ldap/slapd.conf"; }

  # (Re)load the directory when it is empty or what it was loaded from changed.
  local fp
  fp=$(ldif_fingerprint)
  if [[ ! -s $P/ldap/db/data.mdb || $(cat "$P/ldap/db/loaded.sha256" 2>/dev/null) != "$fp" ]]; then
    if pid_alive "$P/run/slapd.pid"; then
      log "configure: stopping slapd for the reload (start brings it back)"
      stop_pidfile slapd "$P/run/slapd.pid"
    fi
    log "configure: slapadd $P/ldap/data.ldif"
    rm -f "$P/ldap/db/"*.mdb "$P/ldap/db/loaded.sha256"
    slapadd -q -f "$P/ldap/slapd.conf" -l "$P/ldap/data.ldif" >>"$P/log/slapd-tools.log" 2>&1 \
      || { tail -20 "$P/log/slapd-tools.log" >&2; die "slapadd failed (log: $P/log/slapd-tools.log)"; }
    echo "$fp" > "$P/ldap/db/loaded.sha256"
  fi
}

# --- start / stop / status -----------------------------------------------------------------

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# Alive and ours: a recycled PID (stale pid file) never matches, since every command line of
# this stack names a path under $P.
pid_alive() {
  local pid
  [[ -s $1 ]] || return 1
  pid=$(<"$1")
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$P/"
}

ldap_q() { # url [ldapsearch args]: rootDSE read, server cert checked against root.pem
  local url=$1; shift
  LDAPCONF=$P/ldap/ldap.conf timeout 10 ldapsearch -LLL -x -H "$url" -o nettimeout=5 "$@" \
    -s base -b '' namingContexts 2>/dev/null | grep -q "namingContexts: $SUFFIX"
}

check() { # slapd | ldaps | crl-http | ocsp
  case $1 in
    slapd) ldap_q "ldap://127.0.0.1:$LDAP_PORT" -ZZ ;;
    ldaps) ldap_q "ldaps://127.0.0.1:$LDAPS_PORT" ;;
    crl-http) curl -sf -m 5 -o /dev/null "$CRL_URL" ;;
    # (openssl ocsp retries a refused connection until -timeout: probe the port first; a bare
    # connect is harmless to ocsp_responder.py, unlike to `openssl ocsp -port`)
    ocsp) port_open "$OCSP_PORT" && timeout 10 openssl ocsp -issuer "$P/pki/ca.pem" -cert "$P/pki/carol.pem" -url "$OCSP_URL" \
            -CAfile "$P/pki/root.pem" -timeout 5 2>/dev/null | grep -q ': good$' ;;
  esac
}

# name|what the check proves|log
SERVICES=(
  "slapd|ldap://127.0.0.1:$LDAP_PORT + StartTLS|log/slapd.log"
  "ldaps|ldaps://127.0.0.1:$LDAPS_PORT|log/slapd.log"
  "crl-http|$CRL_URL|log/http.log"
  "ocsp|$OCSP_URL (carol: good)|log/ocsp.log"
)

wait_for() { # service deadline
  local svc name what logs
  for svc in "${SERVICES[@]}"; do
    IFS='|' read -r name what logs <<<"$svc"
    [[ $name == "$1" ]] && break
  done
  until check "$1"; do
    ((SECONDS < $2)) || die "$1 did not come up within ${START_TIMEOUT}s ($what); see $P/$logs"
    sleep 0.2
  done
}

start_bg() { # pidfile log cmd...: own session (outlives the caller's process group), no inherited stdio
  local pidfile=$1 out=$2
  shift 2
  setsid "$@" </dev/null >>"$out" 2>&1 &
  echo $! > "$pidfile"
}

port_free_or_die() { # port what
  if port_open "$1"; then die "127.0.0.1:$1 is in use by another process (not this stack's $2): $(ss -Hltnp "sport = :$1" | head -1)"; fi
}

start_slapd() {
  if pid_alive "$P/run/slapd.pid" && [[ $P/ldap/slapd.conf -nt $P/run/slapd.pid || $P/pki/ldap-tls.pem -nt $P/run/slapd.pid \
    || $P/ldap/db/loaded.sha256 -nt $P/run/slapd.pid ]]; then
    log "start: slapd restart (configuration, TLS certificate or data changed)"
    stop_pidfile slapd "$P/run/slapd.pid"
  fi
  pid_alive "$P/run/slapd.pid" && return
  port_free_or_die "$LDAP_PORT" slapd
  port_free_or_die "$LDAPS_PORT" slapd
  log "start: slapd"
  # -d keeps it in the foreground (the pid is the one recorded) and logs to log/slapd.log.
  start_bg "$P/run/slapd.pid" "$P/log/slapd.log" /usr/sbin/slapd -d stats -f "$P/ldap/slapd.conf" \
    -h "ldap://127.0.0.1:$LDAP_PORT/ ldaps://127.0.0.1:$LDAPS_PORT/"
}

start_http() {
  pid_alive "$P/run/http.pid" && return
  port_free_or_die "$HTTP_PORT" crl-http
  log "start: crl-http"
  start_bg "$P/run/http.pid" "$P/log/http.log" "$PY" -m http.server "$HTTP_PORT" --bind 127.0.0.1 --directory "$P/www"
}

start_ocsp() {
  pid_alive "$P/run/ocsp.pid" && return
  port_free_or_die "$OCSP_PORT" ocsp
  log "start: ocsp"
  start_bg "$P/run/ocsp.pid" "$P/log/ocsp-stdio.log" "$PY" "$HERE/ocsp_responder.py" --port "$OCSP_PORT" \
    --index "$P/pki/db/index.txt" --ca "$P/pki/ca.pem" --rsigner "$P/pki/ocsp-responder.pem" \
    --rkey "$P/pki/ocsp-responder.key" --workdir "$P/ocsp" --log "$P/log/ocsp.log" --nmin 60
}

only_loopback() { # every listener on the stack's ports is 127.0.0.1
  local bad
  bad=$(ss -Hltn "( sport = :$LDAP_PORT or sport = :$LDAPS_PORT or sport = :$HTTP_PORT or sport = :$OCSP_PORT )" \
    | awk '$4 !~ /^127\.0\.0\.1:/ { print $4 }')
  [[ -z $bad ]] || die "listening beyond 127.0.0.1: $bad"
}

cmd_start() {
  [[ -s $P/ldap/db/loaded.sha256 && -s $P/pki/ca.cnf ]] || die "not configured (run: $0 configure)"
  gen_crl
  local deadline=$((SECONDS + START_TIMEOUT)) svc name
  start_slapd
  start_http
  start_ocsp
  for svc in "${SERVICES[@]}"; do wait_for "${svc%%|*}" "$deadline"; done
  only_loopback
  log "start: up (ldap://127.0.0.1:$LDAP_PORT ldaps://127.0.0.1:$LDAPS_PORT $CRL_URL $OCSP_URL)"
}

# Running = exists and is not a zombie (the daemons are reparented to PID 1, which here reaps
# only about once a second: kill -0 would see a dead daemon for that long).
proc_running() {
  local st
  st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  st=${st##*) }
  [[ ${st%% *} != Z ]]
}

stop_pidfile() { # name pidfile [reap tenths of a second, 30]: TERM, KILL after 5 s
  local pid i
  pid_alive "$2" || { rm -f "$2"; return 0; }
  pid=$(<"$2")
  kill -TERM "$pid" 2>/dev/null || { rm -f "$2"; return 0; }
  for ((i = 0; i < 50; i++)); do proc_running "$pid" || break; sleep 0.1; done
  if proc_running "$pid"; then
    log "stop: $1 did not exit on TERM within 5 s; KILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 20; i++)); do proc_running "$pid" || break; sleep 0.1; done
  fi
  # Dead (its sockets are closed); give PID 1 up to 3 s to reap it, so that `pgrep slapd`
  # right after a stop is empty. ocsp-down skips this: the suite only needs the refusal.
  for ((i = 0; i < ${3:-30}; i++)); do [[ -e /proc/$pid ]] || break; sleep 0.1; done
  rm -f "$2"
}

wait_port_closed() { # port...
  local i p
  for p in "$@"; do
    for ((i = 0; i < 50; i++)); do port_open "$p" || break; sleep 0.1; done
    if port_open "$p"; then log "stop: port $p still open"; fi
  done
}

cmd_stop() {
  # All at once (slapd takes ~2 s after TERM).
  stop_pidfile slapd "$P/run/slapd.pid" &
  stop_pidfile crl-http "$P/run/http.pid" &
  stop_pidfile ocsp "$P/run/ocsp.pid" &
  wait
  wait_port_closed "$LDAP_PORT" "$LDAPS_PORT" "$HTTP_PORT" "$OCSP_PORT"
  log "stop: stopped"
}

cmd_ocsp_down() {
  stop_pidfile ocsp "$P/run/ocsp.pid" 0
  wait_port_closed "$OCSP_PORT"
  log "ocsp-down: the OCSP responder is stopped ($OCSP_URL refuses connections)"
}

cmd_ocsp_up() {
  [[ -s $P/pki/ocsp-responder.pem ]] || die "not configured (run: $0 configure)"
  start_ocsp
  wait_for ocsp $((SECONDS + START_TIMEOUT))
  log "ocsp-up: the OCSP responder answers on $OCSP_URL"
}

cmd_status() { stack_status "$P" name; }

cmd_env() {
  cat <<EOF
E2E_DIRPKI_DIR=$P
E2E_PKI_ROOT=$P/pki/root.pem
E2E_PKI_CA=$P/pki/ca.pem
E2E_LDAP_URL=ldap://127.0.0.1:$LDAP_PORT
E2E_LDAPS_URL=ldaps://127.0.0.1:$LDAPS_PORT
E2E_LDAP_BASE=ou=people,$SUFFIX
E2E_LDAP_BIND_DN=cn=reader,$SUFFIX
E2E_LDAP_PASSWORD_FILE=$P/pki/ldap-reader-password.txt
E2E_OCSP_URL=$OCSP_URL
E2E_CRL_URL=$CRL_URL
E2E_PKI_PASSPHRASE_FILE=$P/pki/passphrase.txt
E2E_PKI_KEYS=$P/pki
EOF
}

case ${1:-} in
  install) timed install cmd_install ;;
  configure) timed configure cmd_configure ;;
  start) timed start cmd_start ;;
  stop) timed stop cmd_stop ;;
  restart) timed stop cmd_stop; timed start cmd_start ;;
  status) cmd_status ;;
  env) cmd_env ;;
  ocsp-down) timed ocsp-down cmd_ocsp_down ;;
  ocsp-up) timed ocsp-up cmd_ocsp_up ;;
  all) timed install cmd_install; timed configure cmd_configure; timed start cmd_start ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
