#!/usr/bin/env bats
# Off-site backups (cluster.sh backup) to S3-compatible object storage:
# s3server.py, started by the test on 127.0.0.1, which checks every
# request's AWS Signature Version 4 as S3 does and keeps its objects as
# files under $T/s3 (and logs each request to $T/s3/.log).

bats_require_minimum_version 1.5.0
load helpers

setup() {
	kc_setup
	kc_ports
	S3P=$((P1 + 3))
	ACCESS=AKIATEST$(tr -dc 'A-Z0-9' </dev/urandom | head -c 8)
	SECRET=$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c 40)
	# Pages of two names at most: listings and lists of parts go on
	# over several answers.
	python3 "$BATS_TEST_DIRNAME/s3server.py" "$T/s3" "$S3P" "$ACCESS" "$SECRET" --max-keys 2 \
		>"$T/s3server.log" 2>&1 &
	S3PID=$!
	for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/$S3P) 2>/dev/null && break; sleep 0.1; done
	# The bucket, made with curl's own signing.
	curl -fsS --aws-sigv4 aws:amz:us-east-1:s3 -u "$ACCESS:$SECRET" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
		-X PUT "http://127.0.0.1:$S3P/kc-backups"
}
teardown() {
	[ -z "${S3PID:-}" ] || kill "$S3PID" 2>/dev/null || true
	kc_teardown
}

# The cluster's login to the test's server, and its target.
with_target() {
	printf 'access_key = %s\nsecret_key = %s\nregion = us-east-1\n' "$ACCESS" "$SECRET" >"$C/secrets/backup_s3"
	chmod 600 "$C/secrets/backup_s3"
	printf '\n[backup]\ntarget = s3+http://127.0.0.1:%s/kc-backups/site1\n' "$S3P" >>"$C/cluster.ini"
}

# Bytes of object bodies the server took (PUT requests answered 200).
put_bytes() {
	awk '$1 == "PUT" && $3 == 200 { n += $4 } END { print n + 0 }' "$T/s3/.log"
}

@test "s3: push seals before sending; list, verify and get give back the same snapshot" {
	with_items
	"$C/cluster.sh" new --port "$P2" b >/dev/null
	with_target
	run -0 "$C/cluster.sh" backup push
	echo "$output"
	[[ "$output" == *"a: sent a."*".v1.tar.zst"*"b: sent b."* ]]
	[[ "$output" == *"to s3+http://127.0.0.1:$S3P/kc-backups/site1"* ]]
	store=$T/s3/kc-backups/site1/$NAME
	[ "$(find "$store/cluster" -name '*.tar.kcs' | wc -l)" = 1 ]
	[ "$(find "$store/instances/a" -name 'a.*.v1.tar.zst.kcs' | wc -l)" = 1 ]
	# Every request was signed (the server refuses any other); nothing
	# plain reached the server, nor the login or the database's secrets.
	! grep -q ' 403 ' "$T/s3/.log"
	for f in $(find "$T/s3/kc-backups" -type f); do [ "$(head -c 6 "$f")" = KCSEAL ]; done
	pw=$(cat "$C"/secrets/*_root_password | head -1)
	! grep -rqF "$pw" "$T/s3/kc-backups"
	! grep -rqF "$SECRET" "$T/s3/kc-backups"
	! grep -rqF "[cluster]" "$T/s3/kc-backups"

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

	file=$(basename "$(find "$store/instances/a" -name '*.kcs')" .kcs)
	kc_got_back "$file"
	run -1 "$C/cluster.sh" backup get "${file/.v1./.v9.}"
	[[ "$output" == *"is not on the backup target"* ]]
}

@test "s3: a wrong secret key, a login others may read or a bad bucket is refused before anything is sent" {
	kc_boot
	with_target
	sed -i "s/^secret_key = .*/secret_key = wrong$SECRET/" "$C/secrets/backup_s3"
	run -1 "$C/cluster.sh" backup push
	echo "$output"
	[[ "$output" == *"the backup target refuses the credentials in $C/secrets/backup_s3: SignatureDoesNotMatch (403)"* ]]
	[[ "$output" != *"$SECRET"* ]]
	[ "$(put_bytes)" = 0 ]
	[ -z "$(find "$T/s3/kc-backups" -type f)" ]
	[ ! -e "$C/secrets/backup.key" ]
	# Another access key: refused as well.
	sed -i "s/^access_key = .*/access_key = AKIAOTHER/; s/^secret_key = .*/secret_key = $SECRET/" \
		"$C/secrets/backup_s3"
	run -1 "$C/cluster.sh" backup list
	[[ "$output" == *"refuses the credentials in $C/secrets/backup_s3: InvalidAccessKeyId (403)"* ]]
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

@test "s3: a push killed part-way is taken up again: the parts on the server are not sent again" {
	with_items
	with_target
	# Killed once the upload's state is kept and the first of four parts
	# of 8 MiB is whole.
	kc_push_killed 'compgen -G "$C/backup/.a.*.state" >/dev/null && grep -q "^PUT .*partNumber=1&uploadId=.* 200 " "$T/s3/.log"'
	state=$(compgen -G "$C/backup/.a.*.state")
	[ "$(stat -c %a "$state")" = 600 ]
	grep -q '^upload_id ' "$state"
	[ -z "$(find "$T/s3/kc-backups" -name 'a.*.kcs')" ]
	sealed=${state%.state}
	size=$(stat -c %s "$sealed")
	before=$(put_bytes)

	run -0 "$C/cluster.sh" backup push
	echo "$output"
	[[ "$output" == *"a: sent a."*" (an interrupted send, taken up again)"* ]]
	[ ! -e "$state" ] && [ ! -e "$sealed" ]
	# The second push listed the parts and sent only what was missing.
	grep -q '^GET .*part-number-marker=0&uploadId=' "$T/s3/.log"
	again=$(($(put_bytes) - before))
	echo "# object: $size bytes; sent again: $again bytes" >&3
	[ "$again" -lt $((size - 8 * 1048576 + 65536)) ]
	run -0 "$C/cluster.sh" backup verify
	[[ "$output" == *"are whole and open with its key"* ]]
	kc_got_back "$(basename "$(find "$T/s3/kc-backups" -name 'a.*.kcs')" .kcs)"
}
