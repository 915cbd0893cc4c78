#!/usr/bin/env bats
# Off-site backups (cluster.sh backup) to S3-compatible object storage:
# s3rver (from the npm registry; tests/setup.sh installs it), started by
# the test on 127.0.0.1 with its built-in account, keeping objects as files
# under $T/s3.  s3rver does not check signatures, only the access key: the
# test of SigV4 itself runs against s3server.py, which checks them as S3
# does.

bats_require_minimum_version 1.5.0
load helpers

S3RVER=/opt/korcluster-tests/s3rver/node_modules/.bin/s3rver

setup() {
	kc_setup
	kc_ports
	S3P=$((P1 + 3))
}
teardown() {
	[ -z "${S3PID:-}" ] || kill "$S3PID" 2>/dev/null || true
	kc_teardown
}

# s3rver on $S3P with bucket kc-backups; its log (a line per part stored)
# in $T/s3rver.log.
with_s3rver() {
	ACCESS=S3RVER SECRET=S3RVER
	"$S3RVER" -d "$T/s3" -a 127.0.0.1 -p "$S3P" --configure-bucket kc-backups >"$T/s3rver.log" 2>&1 &
	S3PID=$!
	for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$S3P) 2>/dev/null && break; sleep 0.1; done
}

# The cluster's login to the test's server, and its target.
with_target() {
	printf 'access_key = %s\nsecret_key = %s\nregion = us-east-1\n' "$ACCESS" "$SECRET" >"$C/secrets/backup_s3"
	chmod 600 "$C/secrets/backup_s3"
	printf '\n[backup]\ntarget = s3+http://127.0.0.1:%s/kc-backups/site1\n' "$S3P" >>"$C/cluster.ini"
}

@test "s3: push seals before sending; list, verify, get, and restore-cluster from the bucket" {
	with_s3rver
	with_items
	"$C/cluster.sh" new --port "$P2" b >/dev/null
	with_target
	run -0 "$C/cluster.sh" backup push
	echo "$output"
	[[ "$output" == *"a: sent a."*".v1.tar.zst"*"b: sent b."* ]]
	[[ "$output" == *"to s3+http://127.0.0.1:$S3P/kc-backups/site1"* ]]
	phrase=$(echo "$output" | sed -n 's/^    \(\([0-9a-f]\{4\}-\)\{15\}[0-9a-f]\{4\}\)$/\1/p')
	store=$T/s3/kc-backups/site1/$NAME
	[ "$(find "$store/cluster" -name '*.tar.kcs._S3rver_object' | wc -l)" = 1 ]
	[ "$(find "$store/instances/a" -name 'a.*.v1.tar.zst.kcs._S3rver_object' | wc -l)" = 1 ]
	# Nothing plain reached the server, nor the login or the database's
	# secrets.
	for f in $(find "$T/s3/kc-backups" -name '*._S3rver_object'); do [ "$(head -c 6 "$f")" = KCSEAL ]; done
	pw=$(cat "$C"/secrets/*_root_password | head -1)
	run ! grep -rqF "$pw" "$T/s3/kc-backups"
	run ! grep -rqF "secret_key" "$T/s3/kc-backups"
	run ! grep -rqF "[cluster]" "$T/s3/kc-backups"

	# (A second later: the configuration's object is named by the second.)
	sleep 1
	run -0 "$C/cluster.sh" backup push a
	[[ "$output" == *"a: a."*" is on the target already"* ]]
	run -0 "$C/cluster.sh" backup list --json
	echo "$output"
	[ "$(echo "$output" | kc_json '[o["instance"] for o in d if o["kind"] == "snapshot"]')" = "['a', 'b']" ]
	[ "$(echo "$output" | kc_json '[o["kind"] for o in d].count("cluster")')" = 2 ]
	run -0 "$C/cluster.sh" backup verify
	[[ "$output" == *"all 4 backup objects of cluster \"$NAME\" are whole and open with its key"* ]]
	file=$(basename "$(find "$store/instances/a" -name '*.kcs._S3rver_object')" .kcs._S3rver_object)
	kc_got_back "$file"
	run -1 "$C/cluster.sh" backup get "${file/.v1./.v9.}"
	[[ "$output" == *"is not on the backup target"* ]]

	# Changed in the bucket: refused by name.
	obj=$(find "$store/instances/a" -name '*.kcs._S3rver_object')
	python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[len(b)//2]^=1; open(p,"wb").write(b)' "$obj"
	run -1 "$C/cluster.sh" backup verify
	[[ "$output" == *"the sealed object was modified, damaged or cut short"* ]]
	python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[len(b)//2]^=1; open(p,"wb").write(b)' "$obj"

	# The host is lost; rebuilt from the bucket in a new folder.
	items=$(kc_get "$P1" /items)
	$DOCKER rm -f $($DOCKER ps -aq --filter "label=korcluster.cluster=$NAME") >/dev/null
	$DOCKER network rm "${NAME}_net" >/dev/null
	cp "$C/secrets/backup_s3" "$T/login"
	rm -rf "$C"
	mkdir -p "$T/new/secrets"
	install -m 600 "$T/login" "$T/new/secrets/backup_s3"
	run "$REPO/korcluster" restore-cluster "s3+http://127.0.0.1:$S3P/kc-backups/site1" "$T/new" <<<"$phrase"
	echo "$output"
	[ "$status" = 0 ]
	[[ "$output" == *"2 of 2 instances, 1 served again"* ]]
	C=$T/new
	[ "$(kc_get "$P1" /items)" = "$items" ]
}

@test "s3: a wrong access key, a login others may read or a bad bucket is refused before anything is sent" {
	with_s3rver
	kc_boot
	with_target
	sed -i "s/^access_key = .*/access_key = AKIAOTHER/" "$C/secrets/backup_s3"
	run -1 "$C/cluster.sh" backup push
	echo "$output"
	[[ "$output" == *"refuses the credentials in $C/secrets/backup_s3: InvalidAccessKeyId (403)"* ]]
	[ -z "$(find "$T/s3/kc-backups" -type f)" ]
	[ ! -e "$C/secrets/backup.key" ]
	chmod 644 "$C/secrets/backup_s3"
	run -1 "$C/cluster.sh" backup list
	[[ "$output" == *"backup_s3 may be read by others than its owner"* ]]
	rm "$C/secrets/backup_s3"
	run -1 "$C/cluster.sh" backup list
	[[ "$output" == *"the login to the backup target (access_key, secret_key, region) is not there"* ]]
	sed -i 's|^target = .*|target = s3://127.0.0.1/Kc_Backups|' "$C/cluster.ini"
	run -1 "$C/cluster.sh" validate
	[[ "$output" == *"its bucket must be 3 to 63 lowercase letters"* ]]
}

@test "s3: every request is signed as S3 checks it (SigV4); a wrong secret key is refused, nothing sent" {
	ACCESS=AKIATEST$(tr -dc 'A-Z0-9' </dev/urandom | head -c 8)
	SECRET=$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c 40)
	# Pages of two names at most: listings go on over several answers.
	python3 "$BATS_TEST_DIRNAME/s3server.py" "$T/s3" "$S3P" "$ACCESS" "$SECRET" --max-keys 2 \
		>"$T/s3server.log" 2>&1 &
	S3PID=$!
	for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/$S3P) 2>/dev/null && break; sleep 0.1; done
	curl -fsS --aws-sigv4 aws:amz:us-east-1:s3 -u "$ACCESS:$SECRET" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
		-X PUT "http://127.0.0.1:$S3P/kc-backups"
	with_items
	with_target
	head -c 20M /dev/urandom >"$C/instances/a/data/$(env_of a)/big.bin"
	run -0 "$C/cluster.sh" backup push
	# Single puts and multipart ones (create, parts, complete), listings
	# over pages, gets: each signed and taken.
	grep -q '^POST .*uploads= 200' "$T/s3/.log"
	grep -q '^PUT .*partNumber=3&uploadId=.* 200' "$T/s3/.log"
	run ! grep -q ' 403 ' "$T/s3/.log"
	run -0 "$C/cluster.sh" backup verify
	[[ "$output" == *"all 2 backup objects"* ]]
	run ! grep -q ' 403 ' "$T/s3/.log"
	sed -i "s/^secret_key = .*/secret_key = wrong$SECRET/" "$C/secrets/backup_s3"
	n=$(find "$T/s3/kc-backups" -type f | wc -l)
	run -1 "$C/cluster.sh" backup push
	echo "$output"
	[[ "$output" == *"the backup target refuses the credentials in $C/secrets/backup_s3: SignatureDoesNotMatch (403)"* ]]
	[[ "$output" != *"$SECRET"* ]]
	[ "$(find "$T/s3/kc-backups" -type f | wc -l)" = "$n" ]
}

@test "s3: a push killed part-way is taken up again: the parts the server took are not sent again" {
	with_s3rver
	with_items
	with_target
	# Killed once the state holds the first of four parts of 8 MiB.
	kc_push_killed 'grep -qs "^part 1 " $C/backup/.a.*.state'
	state=$(compgen -G "$C/backup/.a.*.state")
	[ "$(stat -c %a "$state")" = 600 ]
	grep -q '^upload_id ' "$state"
	took=$(grep -c '^part ' "$state")
	[ "$took" -ge 1 ]
	[ -z "$(find "$T/s3/kc-backups" -name 'a.*.kcs._S3rver_object')" ]
	sealed=${state%.state}
	parts=$(( ($(stat -c %s "$sealed") + 8388607) / 8388608 ))
	before=$(grep -c 'Stored part ' "$T/s3rver.log")

	run -0 "$C/cluster.sh" backup push
	echo "$output"
	[[ "$output" == *"a: sent a."*" (an interrupted send, taken up again: "*" MiB)"* ]]
	[ ! -e "$state" ]
	[ ! -e "$sealed" ]
	# Only the parts the state did not hold went (and the one, at most,
	# that was on its way when the push was killed).
	again=$(($(grep -c 'Stored part ' "$T/s3rver.log") - before))
	echo "# $parts parts; $took taken before the kill; sent again: $again" >&3
	[ "$again" -eq $((parts - took)) ]
	run -0 "$C/cluster.sh" backup verify
	[[ "$output" == *"are whole and open with its key"* ]]
	kc_got_back "$(basename "$(find "$T/s3/kc-backups" -name 'a.*.kcs._S3rver_object')" .kcs._S3rver_object)"
}
