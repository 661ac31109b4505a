#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ with PKCS#12 files: the test PKI's, a few `openssl pkcs12`
# variants, and the NSS files of the comm-central corpus when it is beside the repository.
# Each pkcs12 seed is prefixed with the passphrase selector byte (0 = "test", 2 = "nss").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pki=$(mktemp -d)
trap 'rm -rf "$pki"' EXIT
bash "$here/../tests/pki/generate.sh" "$pki" >/dev/null
mkdir -p "$here/corpus/pkcs12_read_identity" "$here/corpus/ber_to_der" "$here/corpus/mime_entity" "$here/corpus/open_message"
seed() { # name selector file
  { printf "\\x$2"; cat "$3"; } > "$here/corpus/pkcs12_read_identity/$1"
  cp "$3" "$here/corpus/ber_to_der/$1"
}
cd "$pki"
for f in alice.p12 alice-legacy.p12 carol.p12; do seed "$f" 00 "$f"; done
i=0
for opts in "-keypbe NONE -certpbe NONE -nomac" "-nomac" "-macalg sha1 -keypbe PBE-SHA1-2DES" \
            "-legacy -certpbe PBE-SHA1-RC2-128" "-keypbe DES-EDE3-CBC -macalg sha512"; do
  # shellcheck disable=SC2086
  openssl pkcs12 -export -in carol.pem -inkey carol.key -certfile ca.pem -passout pass:test $opts \
    -out "variant$i.p12" 2>/dev/null
  seed "variant$i.p12" 00 "variant$i.p12"
  i=$((i + 1))
done
nss="$here/../../shared/corpora/comm-central/mailnews/test/data/smime"
[ -d "$nss" ] || nss="$here/../../../shared/corpora/comm-central/mailnews/test/data/smime"
if [ -d "$nss" ]; then
  for f in "$nss"/*.p12; do seed "nss-$(basename "$f")" 02 "$f"; done
fi
# S/MIME messages for the MIME and open_message targets, and their CMS for ber_to_der.
printf 'From: alice@example.test\r\nTo: bob@example.test\r\nSubject: s\r\n\r\nhello\r\n' > msg.txt
openssl cms -sign -in msg.txt -signer alice.pem -inkey alice.key -out signed.eml
openssl cms -sign -nodetach -in msg.txt -signer carol.pem -inkey carol.key -out opaque.eml
openssl cms -encrypt -in msg.txt -aes256 -out enveloped.eml bob.pem
openssl cms -encrypt -in signed.eml -aes-128-gcm -out signed-enveloped.eml bob.pem carol.pem
openssl cms -encrypt -stream -in msg.txt -outform DER -out stream.der bob.pem
for f in signed.eml opaque.eml enveloped.eml signed-enveloped.eml; do
  cp "$f" "$here/corpus/mime_entity/$f"
  cp "$f" "$here/corpus/open_message/$f"
done
cp stream.der "$here/corpus/ber_to_der/stream.der"
mkdir -p "$here/corpus/address_list" "$here/corpus/certificate_file"
printf 'bob@example.test,' > "$here/corpus/address_list/one"
printf 'Bob Smith <bob@example.test>, "Carol, C." <carol@example.test>; ' > "$here/corpus/address_list/names"
printf '=?utf-8?q?K=C3=B6ln?= <koeln@example.test>, dave@example.test' > "$here/corpus/address_list/encoded"
for f in *.pem *.p7c; do [ -f "$f" ] && cp "$f" "$here/corpus/certificate_file/"; done
mkdir -p "$here/corpus/ca_certificate"
for f in *.pem; do [ -f "$f" ] && cp "$f" "$here/corpus/ca_certificate/"; done
mkdir -p "$here/corpus/answered_message"
for f in "$here/corpus/open_message/"*; do
  for pick in 00 03; do { printf "\\x$pick"; cat "$f"; } > "$here/corpus/answered_message/$pick-$(basename "$f")"; done
done
ls "$here/corpus/"* | wc -l

# The proxy's parsers: captured webmail requests and answers, rule files, SMTP replies.
rules="$here/../rewrite-rules"
mkdir -p "$here/corpus/form_body" "$here/corpus/compose_request" "$here/corpus/json_answer" \
  "$here/corpus/smtp_reply" "$here/corpus/rule_file"
for f in "$rules"/fixtures/*/*-request-raw.txt; do
  name="$(basename "$(dirname "$f")")-$(basename "$f")"
  case "$(grep -aim1 '^content-type:' "$f" || true)" in
    *multipart*) pick=01 ;; *json*) pick=02 ;; *) pick=00 ;;
  esac
  body=$(mktemp)
  python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); i=d.find(b"\r\n\r\n"); j=d.find(b"\n\n"); k=min(x for x in (i+4 if i>=0 else len(d), j+2 if j>=0 else len(d)))
sys.stdout.buffer.write(d[k:])' "$f" > "$body"
  { printf "\\x$pick"; cat "$body"; } > "$here/corpus/form_body/$name"
  { printf "\\x$pick"; head -1 "$f" | cut -d' ' -f1,2; cat "$body"; } > "$here/corpus/compose_request/$name"
  rm -f "$body"
done
cp "$rules"/fixtures/*/*.json "$here/corpus/json_answer/" 2>/dev/null || true
for f in "$rules"/*.toml; do cp "$f" "$here/corpus/rule_file/"; done
printf '220 mail.example.test ESMTP\r\n' > "$here/corpus/smtp_reply/greeting"
printf '250-mail.example.test\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n' > "$here/corpus/smtp_reply/ehlo"
printf '550 5.1.1 <dave@example.test>: Recipient address rejected\r\n' > "$here/corpus/smtp_reply/refused"

# What CAs' servers answer (pki_answer): OpenSSL's OCSP responses for alice and revoked
# rita (to requests with and without a nonce, signed by the CA and by its delegated
# responder), the test CA's CRL and certificate bundles; judged against corpus-pki/.
mkdir -p "$here/corpus/pki_answer" "$here/corpus-pki"
openssl x509 -in "$pki/ca.pem" -outform DER -out "$here/corpus-pki/ca.der"
openssl x509 -in "$pki/alice.pem" -outform DER -out "$here/corpus-pki/alice.der"
for who in alice rita; do
  openssl ocsp -issuer "$pki/ca.pem" -cert "$pki/$who.pem" -no_nonce -reqout "$pki/$who-plain.req" 2>/dev/null
  openssl ocsp -issuer "$pki/ca.pem" -cert "$pki/$who.pem" -nonce -reqout "$pki/$who-nonce.req" 2>/dev/null
  for req in plain nonce; do
    for signer in ca ocsp; do
      (cd "$pki" && openssl ocsp -index ca-db/index.txt -CA ca.pem -rsigner "$signer.pem" -rkey "$signer.key" \
        -reqin "$who-$req.req" -respout "$who-$req-$signer.resp" -nmin 60 2>/dev/null)
      { printf '\x01'; cat "$pki/$who-$req-$signer.resp"; } > "$here/corpus/pki_answer/ocsp-$who-$req-$signer"
    done
  done
done
{ printf '\x02'; openssl crl -in "$pki/crl.pem" -outform DER; } > "$here/corpus/pki_answer/crl"
{ printf '\x03'; cat "$pki/alice.p7c"; } > "$here/corpus/pki_answer/p7c"
{ printf '\x03'; openssl x509 -in "$pki/ca.pem" -outform DER; } > "$here/corpus/pki_answer/ca-der"

# The webmails' pages (webmail_page): every captured HTML page of the rules' fixtures, after
# a byte that picks the rule (low bits: the page's own rule if the bundled rules iterate in
# file name order; any rule is fine) and the rewrite (0x00 the compose controls, 0x80 a
# view's content replaced by the frame, 0xc0 the frame put before it), then the
# Content-Type line it was served with.
mkdir -p "$here/corpus/webmail_page"
index=0
for dir in "$rules"/*.toml; do
  app=$(basename "$dir" .toml)
  for f in "$rules"/fixtures/"$app"/*.html; do
    [[ -e $f ]] || continue
    case "$f" in *.expected.html) continue ;; esac
    for op in 0 128 192; do
      { printf "\\x$(printf '%02x' $((index + op)))"; printf 'text/html; charset=UTF-8\n'; cat "$f"; } \
        > "$here/corpus/webmail_page/$app-$(basename "$f")-$op"
    done
  done
  index=$((index + 1))
done
{ printf '\x80text/html\n'; printf '<meta charset="windows-1252"><div id="messagebody">S/MIME \xe9</div>'; } \
  > "$here/corpus/webmail_page/meta-charset"

# The adapters' answers (adapter_answer; first byte: 0 Roundcube, 1 Horde IMP answer,
# 2 Horde compose page, 3 SOGo draft answer or path), in the formats the adapters read.
mkdir -p "$here/corpus/adapter_answer"
printf '\x00this.display_message("Could not \\"save\\"", "error", 0);' > "$here/corpus/adapter_answer/rc-error"
printf '\x00this.add_message_row(42,{"subject":"s"},{},false);this.set_rowcount("1");' \
  > "$here/corpus/adapter_answer/rc-search"
printf '\x01/*-secure-{"response":{"success":1},"msgs":[{"message":"No","type":"horde.error"}]}*/' \
  > "$here/corpus/adapter_answer/horde-error"
{ printf '\x02'; cat "$rules/fixtures/horde/compose.html"; } > "$here/corpus/adapter_answer/horde-compose"
printf '\x03{"uid":"17","messageID":"<a@b>"}' > "$here/corpus/adapter_answer/sogo-draft"
printf '\x03/SOGo/so/bob/Mail/0/folderDrafts/newDraft1/send' > "$here/corpus/adapter_answer/sogo-path"

# Decrypted messages for the view frame (view_content): plain text, HTML with what the
# sanitiser removes, an inline cid image and an attachment.
mkdir -p "$here/corpus/view_content"
cp "$pki/msg.txt" "$here/corpus/view_content/plain"
printf 'Content-Type: multipart/related; boundary="r"\r\n\r\n--r\r\nContent-Type: text/html\r\n\r\n<p onclick="x()">Hi<script>alert(1)</script><img src="cid:i1"><img src="https://track.example/p.gif"><a href="javascript:x">l</a><form action="https://e.example"><input></form></p>\r\n--r\r\nContent-Type: image/png\r\nContent-ID: <i1>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--r\r\nContent-Type: application/pdf; name="a.pdf"\r\nContent-Disposition: attachment; filename="../a.pdf"\r\n\r\n%%PDF\r\n--r--\r\n' \
  > "$here/corpus/view_content/html-related"

# Private key files (private_key; first byte: 0 no passphrase, 1 "test"): the test PKI's
# PEM keys (some encrypted with "test"), as PKCS#8 DER, and encrypted PKCS#8.
mkdir -p "$here/corpus/private_key"
for f in "$pki"/*.key; do
  b=$(basename "$f" .key)
  pick=00; grep -q ENCRYPTED "$f" && pick=01
  { printf "\\x$pick"; cat "$f"; } > "$here/corpus/private_key/$b-pem"
  { printf '\x00'; openssl pkcs8 -topk8 -nocrypt -passin file:passphrase.txt -in "$f" -outform DER; } \
    > "$here/corpus/private_key/$b-der"
done
{ printf '\x01'; openssl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:test -in "$pki/alice.key"; } \
  > "$here/corpus/private_key/alice-encrypted"

# Requests to the own origin (own_origin_request): headers, a blank line, the form.
mkdir -p "$here/corpus/own_origin_request"
printf 'origin: https://smime-proxy.invalid\nsec-fetch-site: same-origin\n\ntoken=%064d&passphrase=p%%C3%%A4ss+word' 0 \
  > "$here/corpus/own_origin_request/unlock"
printf 'referer: https://mail.example:8443/?_task=mail\nsec-fetch-dest: iframe\n\ntoken=0123456789abcdef0123456789abcdef' \
  > "$here/corpus/own_origin_request/view"
ls "$here/corpus/" | wc -l
