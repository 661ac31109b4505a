#!/usr/bin/env bash
# Generates the throwaway test PKI used by the interop tests: everything here is a TEST
# FIXTURE, made fresh on every run, never a real key.
#
#   tests/pki/generate.sh OUTDIR
#
# OUTDIR/
#   ca.pem ca.key                 "smime-proxy Test CA" (RSA-2048), trust anchor
#   alice.pem alice.key           RSA-2048, alice@example.test, emailProtection
#   bob.pem bob.key               RSA-2048, bob@example.test
#   carol.pem carol.key           EC P-256, carol@example.test
#   dave.pem dave.key             EC P-384, dave@example.test
#   erin.pem erin.key             RSA, no EKU at all (allowed by RFC 8550)
#   mallory.pem mallory.key       RSA, issued by an untrusted CA (other-ca.pem)
#   trent.pem trent.key           RSA, serverAuth/clientAuth only (wrong EKU)
#   rita.pem rita.key             RSA, revoked in crl.pem
#   kuenc.pem kuenc.key           RSA, keyUsage keyEncipherment only (cannot sign)
#   crl.pem                       CRL of the test CA revoking rita (keyCompromise)
#   crl-1h.pem                    the same, valid for one hour only
#   ca-db/index.txt               the test CA's `openssl ca` database: alice, bob, carol valid,
#                                 rita revoked; what `openssl ocsp -index` answers from
#   ocsp.pem ocsp.key             delegated OCSP responder of the test CA (OCSPSigning, nocheck)
#   pat.pem pat.key               RSA, names an OCSP responder, a CRL and caIssuers (http://127.0.0.1:9/)
#   alice.p7c                     alice's certificate as a certs-only PKCS#7 (DER)
#   alice.p12 alice-legacy.p12    alice as PKCS#12 (OpenSSL 3 default / -legacy), password "test"
#   bob.p12 carol.p12             bob and carol as PKCS#12, password "test"
#   alice-enc.key                 alice's key as encrypted PKCS#8, passphrase "test"
#   alice-pkcs1.key               alice's key as PKCS#1 "RSA PRIVATE KEY"
#   carol-sec1.key                carol's key as SEC1 "EC PRIVATE KEY"
#   passphrase.txt                "test"
set -euo pipefail
out=${1:?usage: generate.sh OUTDIR}
mkdir -p "$out"
cd "$out"

days=3650
subj_ca="/CN=smime-proxy Test CA/O=smime-proxy tests"

cat > ext.cnf <<'CNF'
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[email]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation, keyEncipherment
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = email:copy
[email_ec]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation, keyAgreement
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = email:copy
[no_eku]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
subjectKeyIdentifier = hash
subjectAltName = email:copy
[server]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
subjectAltName = email:copy
[ocsp]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = OCSPSigning
noCheck = ignored
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[pointers]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation, keyEncipherment
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = email:copy
authorityInfoAccess = OCSP;URI:http://127.0.0.1:9/ocsp, caIssuers;URI:http://127.0.0.1:9/ca.der, caIssuers;URI:ldap://127.0.0.1:9/cn=ca
crlDistributionPoints = URI:http://127.0.0.1:9/ca.crl
[enc_only]
basicConstraints = CA:FALSE
keyUsage = critical, keyEncipherment
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
subjectAltName = email:copy
CNF

make_ca() { # name subject
  openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -days "$days" \
    -subj "$2" -config /dev/null -extensions ca -extfile ext.cnf -sha256 2>/dev/null \
    || openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -days "$days" \
      -subj "$2" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -addext "subjectKeyIdentifier=hash" -sha256 2>/dev/null
}

make_user() { # name keyspec ext issuer
  local name=$1 keyspec=$2 ext=$3 issuer=$4
  case $keyspec in
    rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$name.key" 2>/dev/null ;;
    p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$name.key" 2>/dev/null ;;
    p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$name.key" 2>/dev/null ;;
  esac
  openssl req -new -key "$name.key" -subj "/CN=${name^}/emailAddress=$name@example.test" -out "$name.csr" 2>/dev/null
  openssl x509 -req -in "$name.csr" -CA "$issuer.pem" -CAkey "$issuer.key" -CAcreateserial \
    -days "$days" -sha256 -extfile ext.cnf -extensions "$ext" -out "$name.pem" 2>/dev/null
  rm -f "$name.csr"
}

make_ca ca "$subj_ca"
make_ca other-ca "/CN=Untrusted Test CA/O=elsewhere"

make_user alice rsa email ca
make_user bob rsa email ca
make_user carol p256 email_ec ca
make_user dave p384 email_ec ca
make_user erin rsa no_eku ca
make_user mallory rsa email other-ca
make_user trent rsa server ca
make_user rita rsa email ca
make_user kuenc rsa enc_only ca
make_user ocsp rsa ocsp ca
make_user pat rsa pointers ca

# The CA database (OCSP answers from it) and a CRL revoking rita.
mkdir -p ca-db
: > ca-db/index.txt
echo 1000 > ca-db/crlnumber
cat > crl.cnf <<CNF
[ca]
default_ca = test
[test]
database = ca-db/index.txt
crlnumber = ca-db/crlnumber
default_md = sha256
default_crl_days = $days
CNF
for user in alice bob carol; do
  openssl ca -config crl.cnf -valid "$user.pem" -keyfile ca.key -cert ca.pem 2>/dev/null
done
openssl ca -config crl.cnf -revoke rita.pem -crl_reason keyCompromise -keyfile ca.key -cert ca.pem 2>/dev/null
openssl ca -config crl.cnf -gencrl -keyfile ca.key -cert ca.pem -out crl.pem 2>/dev/null
openssl ca -config crl.cnf -gencrl -crlhours 1 -keyfile ca.key -cert ca.pem -out crl-1h.pem 2>/dev/null
openssl crl2pkcs7 -nocrl -certfile alice.pem -outform DER -out alice.p7c

echo -n test > passphrase.txt
openssl pkcs12 -export -in alice.pem -inkey alice.key -certfile ca.pem -name alice \
  -passout file:passphrase.txt -out alice.p12
openssl pkcs12 -export -legacy -in alice.pem -inkey alice.key -certfile ca.pem -name alice \
  -passout file:passphrase.txt -out alice-legacy.p12 2>/dev/null
openssl pkcs12 -export -in bob.pem -inkey bob.key -certfile ca.pem -name bob \
  -passout file:passphrase.txt -out bob.p12
openssl pkcs12 -export -in carol.pem -inkey carol.key -certfile ca.pem -name carol \
  -passout file:passphrase.txt -out carol.p12
openssl pkcs8 -topk8 -in alice.key -passout file:passphrase.txt -out alice-enc.key
openssl pkey -in alice.key -traditional -out alice-pkcs1.key 2>/dev/null \
  || openssl rsa -in alice.key -traditional -out alice-pkcs1.key 2>/dev/null
openssl ec -in carol.key -out carol-sec1.key 2>/dev/null
rm -rf crl.cnf ext.cnf ./*.srl ca-db/*.old
