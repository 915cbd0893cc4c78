#!/usr/bin/env bats
# Hostnames (instance.sh route) against the real front proxy: each route is
# asked by its Host header on the cluster's http_port, on 127.0.0.1.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	kc_setup
	kc_ports
	# The hostnames' port: the one after the test's two.
	HP=$((P1 + 2))
}
teardown() { kc_teardown; }

# A booted cluster whose hostnames are served on $HP.
boot_with_http_port() {
	kc_create
	sed -i "s/^bind = .*/&\nhttp_port = $HP/" "$C/cluster.ini"
	"$C/cluster.sh" boot >/dev/null
}

# GET $2 on the hostnames' port with Host $1: "STATUS BODY", or "000" when
# nothing answers.
host_get() {
	curl -sS -m 10 -o "$T/body" -w '%{http_code}' -H "Host: $1" "http://127.0.0.1:$HP${2:-/}" 2>/dev/null || true
	echo " $(cat "$T/body" 2>/dev/null)"
	rm -f "$T/body"
}

# GETs of / on $1://$2:$3 (with the test CA over https), one after another
# on new connections, in the background until no_failed_get (at most 120 s).
get_loop() {
	python3 - "$1" "$2" "$3" "$T/ca.crt" "$T/stop" >"$T/loop" 2>&1 <<'PY' &
import http.client, os, ssl, sys, time
scheme, host, port, ca, stop = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
ok = failed = 0
end = time.time() + 120
while not os.path.exists(stop) and time.time() < end:
    try:
        if scheme == "https":
            ctx = ssl.create_default_context(cafile=ca)
            c = http.client.HTTPSConnection(host, port, timeout=10, context=ctx)
            # the name is the test's own: it reaches 127.0.0.1
            c.sock = ctx.wrap_socket(__import__("socket").create_connection(("127.0.0.1", port), 10), server_hostname=host)
        else:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", "/", headers={"Host": host})
        r = c.getresponse()
        r.read()
        c.close()
        if r.status == 200:
            ok += 1
        else:
            failed += 1
            print("status", r.status)
    except Exception as e:
        failed += 1
        print("error", e)
print("ok", ok, "failed", failed)
PY
	LOOP=$!
}

# Stop get_loop: no request failed, and more than $1 were answered.
no_failed_get() {
	touch "$T/stop"
	wait "$LOOP"
	cat "$T/loop"
	rm -f "$T/stop"
	grep -q "failed 0$" "$T/loop"
	[ "$(sed -n 's/^ok \([0-9]*\) .*/\1/p' "$T/loop")" -gt "$1" ]
}

@test "routes serve by hostname: aliases, redirects, 404 for others, one instance per hostname, the primary rule, destroy" {
	boot_with_http_port
	"$C/cluster.sh" new --port "$P1" a >/dev/null
	# (b also shows that an instance keeps a description, and a bad one
	# makes nothing.)
	run -1 "$C/cluster.sh" new --port "$P2" --description $'two\nlines' b
	[[ "$output" == *"description holds a control character"* ]]
	[ ! -e "$C/instances/b" ]
	"$C/cluster.sh" new --port "$P2" --description "Training copy, autumn course" b >/dev/null
	"$C/cluster.sh" list | grep -q "^b .*  Training copy, autumn course$"
	[ "$("$C/cluster.sh" list --json | kc_json '[i.get("description") for i in d]')" = \
		"[None, 'Training copy, autumn course']" ]
	"$C/instances/a/instance.sh" start >/dev/null
	kc_post "$P1" "for a" >/dev/null
	page_a=$(kc_get "$P1" /)
	# No route yet: the proxy does not listen on the hostnames' port.
	[ "$(host_get a.example.org)" = "000 " ]
	run -0 "$C/instances/a/instance.sh" route add A.Example.ORG
	echo "$output"
	[[ "$output" == *"http://a.example.org:$HP/ now serves instance a"* ]]
	run -0 "$C/instances/a/instance.sh" route add www.a.example.org
	run -0 "$C/instances/a/instance.sh" route add old.example.org --redirect-to https://a.example.org
	run -0 "$C/instances/a/instance.sh" route add landing.example.org --redirect-to https://a.example.org/welcome
	[ "$(host_get a.example.org)" = "200 $page_a" ]
	[ "$(host_get www.a.example.org)" = "200 $page_a" ]
	# Writes go through a route too.
	curl -fsS -m 10 -H 'Host: www.a.example.org' -X POST -H 'Content-Type: application/json' \
		-d '{"body": "by name"}' "http://127.0.0.1:$HP/items" >/dev/null
	[ "$(kc_get "$P1" /items)" = '{"ids": [1, 2]}' ]
	page_a=$(kc_get "$P1" /)
	[ "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -H 'Host: old.example.org' "http://127.0.0.1:$HP/x/y?z=1")" = \
		"301 https://a.example.org/x/y?z=1" ]
	[ "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -H 'Host: landing.example.org' "http://127.0.0.1:$HP/x")" = \
		"301 https://a.example.org/welcome" ]
	# A hostname no instance has is no instance's.
	[[ "$(host_get nobody.example.org)" == "404 "* ]]
	[[ "$(host_get 127.0.0.1)" == "404 "* ]]
	run -0 "$C/instances/a/instance.sh" route list --json
	[ "$(echo "$output" | kc_json '[(r["host"], r["kind"]) for r in d]')" = \
		"[('a.example.org', 'primary'), ('www.a.example.org', 'alias'), ('old.example.org', 'redirect'), ('landing.example.org', 'redirect')]" ]
	routes_a=$(cat "$C/instances/a/routes")

	# Refused, changing nothing: a hostname taken, here or by another
	# instance; names that are no hostnames; a redirect that is no URL.
	run -1 "$C/instances/a/instance.sh" route add www.a.example.org
	[[ "$output" == *'hostname "www.a.example.org" is already a route of this instance (alias)'* ]]
	run -1 "$C/instances/b/instance.sh" route add WWW.a.example.org
	[[ "$output" == *'hostname "www.a.example.org" is routed to instance "a"; remove it there first'* ]]
	for bad in '*.a.example.org' 'a..example.org' 'a-.example.org' 'a_b.example.org' 'a.example.org;' '127.0.0.1' \
		"$(printf 'a%.0s' $(seq 1 64)).org"; do
		run -1 "$C/instances/b/instance.sh" route add "$bad"
		echo "$bad: $output"
		[[ "$output" == *"korcluster: routing "*"hostname"* || "$output" == *"is an address, not a hostname"* ]]
	done
	run -1 "$C/instances/b/instance.sh" route add x.example.org --redirect-to 'https://a.example.org/$host'
	[[ "$output" == *"its path may hold only"* ]]
	run -2 "$C/instances/b/instance.sh" route add x.example.org --redirect-to https://a.example.org --primary
	[[ "$output" == *"a redirect cannot be the primary route"* ]]
	run -2 "$C/instances/b/instance.sh" route add
	run -2 "$C/instances/b/instance.sh" route move x.example.org
	run -2 "$C/instances/b/instance.sh" route rm x.example.org --json
	[ ! -e "$C/instances/b/routes" ]
	[ "$(cat "$C/instances/a/routes")" = "$routes_a" ]

	# The primary route of an instance being served stays until another
	# is made primary.
	run -1 "$C/instances/a/instance.sh" route rm a.example.org
	[[ "$output" == *"make another route primary first (route add HOST --primary), or stop the instance"* ]]
	[ "$(host_get a.example.org)" = "200 $page_a" ]
	run -0 "$C/instances/a/instance.sh" route add www.a.example.org --primary
	run -0 "$C/instances/a/instance.sh" route rm a.example.org
	[[ "$(host_get a.example.org)" == "404 "* ]]
	[ "$(host_get www.a.example.org)" = "200 $page_a" ]
	run -0 "$C/instances/a/instance.sh" route list
	[[ "$output" == *"www.a.example.org"*"primary"* ]]

	# A stopped instance's hostnames answer 404 until it starts.
	run -0 "$C/instances/b/instance.sh" route add b.example.org
	[[ "$(host_get b.example.org)" == "404 "* ]]
	"$C/instances/b/instance.sh" start >/dev/null
	page_b=$(kc_get "$P2" /)
	[ "$page_b" != "$page_a" ]
	[ "$(host_get b.example.org)" = "200 $page_b" ]

	# Routes go with their instance: its hostnames are free again.
	run -0 "$C/cluster.sh" destroy --yes a
	[[ "$(host_get www.a.example.org)" == "404 "* ]]
	run -0 "$C/instances/b/instance.sh" route add www.a.example.org
	[ "$(host_get www.a.example.org)" = "200 $page_b" ]
	# Without a route left in the cluster the port is let go.
	"$C/instances/b/instance.sh" stop >/dev/null
	run -0 "$C/instances/b/instance.sh" route rm b.example.org
	run -0 "$C/instances/b/instance.sh" route rm www.a.example.org
	[ ! -e "$C/proxy/conf.d/_default.conf" ]
	[ "$(host_get b.example.org)" = "000 " ]
	# A routes file edited by hand is checked whole.
	run -0 "$C/instances/b/instance.sh" validate
	printf 'b.example.org primary\nx..example.org alias\n' >"$C/instances/b/routes"
	run -1 "$C/instances/b/instance.sh" validate
	[[ "$output" == *'routes: reading "'*'/instances/b/routes": line 2: hostname "x..example.org" has an empty label'* ]]
	run -1 "$C/instances/b/instance.sh" start
	[[ "$output" == *"line 2: hostname \"x..example.org\" has an empty label"* ]]
	# Refused before anything started.
	[[ "$(kc_containers)" != *_b_* ]]
	[ "$(host_get b.example.org)" = "000 " ]
}

@test "route changes reload without dropping a request; a configuration the proxy refuses changes nothing" {
	boot_with_http_port
	"$C/cluster.sh" new --port "$P1" a >/dev/null
	"$C/instances/a/instance.sh" start >/dev/null
	"$C/instances/a/instance.sh" route add a.example.org >/dev/null
	get_loop http a.example.org "$HP"
	for i in 1 2 3 4 5 6 7 8; do
		"$C/instances/a/instance.sh" route add "x$i.example.org" >/dev/null
		"$C/instances/a/instance.sh" route rm "x$i.example.org" >/dev/null
	done
	no_failed_get 20

	# A configuration nginx -t refuses (here a broken file beside ours) is
	# never loaded: the route is not added and the old one serves.
	printf 'server {\n    listen 127.0.0.1:%s;\n    no_such_directive;\n}\n' "$HP" >"$C/proxy/conf.d/zz.conf"
	routes=$(cat "$C/instances/a/routes")
	run -1 "$C/instances/a/instance.sh" route add y.example.org
	echo "$output"
	[[ "$output" == *"the proxy refuses the new configuration"*"no_such_directive"* ]]
	[ "$(cat "$C/instances/a/routes")" = "$routes" ]
	rm "$C/proxy/conf.d/zz.conf"
	[[ "$(host_get a.example.org)" == "200 "* ]]
	[[ "$(host_get y.example.org)" == "404 "* ]]

	# Locked, the instance serves reads and answers writes 423, by port and
	# by hostname, across a restart and an upgrade, until unlocked.
	kc_post "$P1" "before" >/dev/null
	run -0 "$C/instances/a/instance.sh" lock
	post() { curl -s -o /dev/null -w '%{http_code}' -m 10 -H "Host: $2" -X POST -H 'Content-Type: application/json' \
		-d '{"body": "x"}' "http://127.0.0.1:$1/items"; }
	[ "$(post "$P1" a)" = 423 ]
	[ "$(post "$HP" a.example.org)" = 423 ]
	[[ "$(host_get a.example.org /items)" == '200 {"ids": [1]}' ]]
	[ "$("$C/instances/a/instance.sh" status --json | kc_json 'd["locked"]')" = True ]
	"$C/cluster.sh" list | grep -q "^a .*(locked: read-only)$"
	"$C/instances/a/instance.sh" restart >/dev/null
	[ "$(post "$P1" a)" = 423 ]
	# An upgrade moves the writes to the new environment: still locked.
	run -0 "$C/instances/a/instance.sh" upgrade v2
	[ "$(post "$P1" a)" = 423 ]
	[ "$(post "$HP" a.example.org)" = 423 ]
	[ "$(kc_get "$P1" / | kc_json 'd["version"]')" = v2 ]
	run -0 "$C/instances/a/instance.sh" unlock
	[ "$(post "$P1" a)" = 201 ]
	[ "$("$C/instances/a/instance.sh" status --json | kc_json 'd["locked"]')" = False ]
}

# A throwaway CA ($T/ca.crt) and its certificate for hostname $1 as $2.crt
# and $2.key (mode 0600), serial $3.
make_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/ca.key" \
		-out "$T/ca.crt" -days 2 -subj /CN=korcluster-test-ca 2>/dev/null
}
make_cert() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$2.key" -out "$T/csr" \
		-subj "/CN=$1" 2>/dev/null
	printf 'subjectAltName=DNS:%s\n' "$1" >"$T/ext"
	openssl x509 -req -in "$T/csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -set_serial "$3" -days 2 \
		-extfile "$T/ext" -out "$2.crt" 2>/dev/null
	chmod 600 "$2.key"
}

# The serial of the certificate the proxy shows for hostname $1.
served_serial() {
	openssl s_client -connect "127.0.0.1:$HPS" -servername "$1" </dev/null 2>/dev/null | openssl x509 -noout -serial
}

@test "routes over TLS: the test CA's certificates, HTTP sent to HTTPS, HSTS, TLS 1.2 and up; a broken certificate is refused while the old one serves, a renewed one is taken by reload" {
	HPS=$((P1 + 3))
	boot_with_http_port
	sed -i "s/^http_port = .*/&\nhttps_port = $HPS/" "$C/cluster.ini"
	"$C/cluster.sh" new --port "$P1" a >/dev/null
	"$C/instances/a/instance.sh" start >/dev/null
	page_a=$(kc_get "$P1" /)
	make_ca
	tls=$C/proxy/tls
	[ "$(stat -c %a "$tls")" = 700 ]
	# A key others may read, or no certificate, is refused.
	make_cert a.example.org "$tls/a.example.org" 1
	chmod 644 "$tls/a.example.org.key"
	run -1 "$C/instances/a/instance.sh" route add a.example.org --tls
	[[ "$output" == *"a.example.org.key\" may be read by others (mode 0644): chmod 600 it"* ]]
	run -1 "$C/instances/a/instance.sh" route add b.example.org --tls
	[[ "$output" == *'no certificate for "b.example.org"'* ]]
	[ ! -e "$C/instances/a/routes" ]
	chmod 600 "$tls/a.example.org.key"
	run -0 "$C/instances/a/instance.sh" route add a.example.org --tls
	[[ "$output" == *"https://a.example.org:$HPS/ now serves instance a"* ]]
	curl() { command curl -sS -m 10 --cacert "$T/ca.crt" --resolve "$1:$HPS:127.0.0.1" "${@:2}"; }
	[ "$(curl a.example.org "https://a.example.org:$HPS/")" = "$page_a" ]
	curl a.example.org -D "$T/h" -o /dev/null "https://a.example.org:$HPS/"
	grep -qi '^Strict-Transport-Security: max-age=31536000' "$T/h"
	[ "$(command curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -H 'Host: a.example.org' "http://127.0.0.1:$HP/x?y=1")" = \
		"301 https://a.example.org:$HPS/x?y=1" ]
	# TLS before 1.2 is not spoken; a hostname without a route gets no handshake.
	run curl a.example.org --tls-max 1.1 "https://a.example.org:$HPS/"
	[ "$status" -ne 0 ]
	run curl nobody.example.org "https://nobody.example.org:$HPS/"
	[ "$status" -ne 0 ]
	# The cluster's certificate serves a hostname without its own.
	make_cert www.a.example.org "$tls/_cluster" 7
	run -0 "$C/instances/a/instance.sh" route add www.a.example.org --tls
	[ "$(curl www.a.example.org "https://www.a.example.org:$HPS/")" = "$page_a" ]
	[ "$(served_serial www.a.example.org)" = serial=07 ]
	[ "$(served_serial a.example.org)" = serial=01 ]
	run -0 "$C/instances/a/instance.sh" route list --json
	[ "$(echo "$output" | kc_json '[(r["host"], r["tls"], r["url"]) for r in d]')" = \
		"[('a.example.org', True, 'https://a.example.org:$HPS/'), ('www.a.example.org', True, 'https://www.a.example.org:$HPS/')]" ]

	# A broken certificate is refused by reload; the proxy goes on with
	# the one it loaded, without a failed request.
	cp "$tls/a.example.org.crt" "$T/good.crt"
	echo "not a certificate" >"$tls/a.example.org.crt"
	get_loop https a.example.org "$HPS"
	run -1 "$C/cluster.sh" reload
	echo "$output"
	[[ "$output" == *"the proxy refuses the new configuration"*"a.example.org.crt"* ]]
	[ "$(served_serial a.example.org)" = serial=01 ]
	# Renewed: reload takes it.
	make_cert a.example.org "$tls/a.example.org" 2
	run -0 "$C/cluster.sh" reload
	[ "$(served_serial a.example.org)" = serial=02 ]
	chmod 640 "$tls/a.example.org.key"
	run -1 "$C/cluster.sh" reload
	[[ "$output" == *"may be read by others (mode 0640)"* ]]
	chmod 600 "$tls/a.example.org.key"
	no_failed_get 5
	[ "$(curl a.example.org "https://a.example.org:$HPS/")" = "$page_a" ]
}
