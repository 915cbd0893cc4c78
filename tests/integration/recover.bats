#!/usr/bin/env bats
# A whole cluster rebuilt from its off-site backups (korcluster
# restore-cluster) after its folder and containers are gone, from a real
# SFTP server (helpers.bash's kc_sshd).

bats_require_minimum_version 1.5.0
load helpers

setup() {
	kc_setup
	kc_ports
	kc_sshd
}
teardown() {
	kc_sshd_stop
	kc_teardown
}

@test "restore-cluster rebuilds a lost cluster in a new folder: the served instance serves the same rows and files, the stopped one stays stopped" {
	with_items
	"$C/cluster.sh" new --port "$P2" b >/dev/null
	env=$(env_of a)
	head -c 200000 /dev/urandom >"$C/instances/a/data/$env/photo.bin"
	kc_sftp_login "$C"
	printf '\n[backup]\ntarget = %s\n' "$(kc_sftp_url)" >>"$C/cluster.ini"
	run -0 "$C/cluster.sh" backup push
	phrase=$(echo "$output" | sed -n 's/^    \(\([0-9a-f]\{4\}-\)\{15\}[0-9a-f]\{4\}\)$/\1/p')
	[ -n "$phrase" ]
	before=$(fingerprint a)
	echo "$before" | grep -q photo.bin
	items=$(kc_get "$P1" /items)
	[ "$items" = '{"ids": [1, 2, 3]}' ]
	key=$(cat "$C/secrets/backup.key")

	# The host is lost: its containers, its network and its folder.
	$DOCKER rm -f $($DOCKER ps -aq --filter "label=korcluster.cluster=$NAME") >/dev/null
	$DOCKER network rm "${NAME}_net" >/dev/null
	rm -rf "$C"
	! kc_get "$P1" /items

	# The new folder holds only the target's login.
	D=$T/new
	kc_sftp_login "$D"
	# A folder with anything else is refused; so is a wrong phrase, and
	# nothing is made.
	touch "$D/other"
	run -1 "$REPO/korcluster" restore-cluster "$(kc_sftp_url)" "$D" <<<"$phrase"
	[[ "$output" == *"it is not empty"* ]]
	rm "$D/other"
	run -1 "$REPO/korcluster" restore-cluster "$(kc_sftp_url)" "$D" <<<"$(python3 -c 'import os; print(os.urandom(32).hex())')"
	echo "$output"
	[[ "$output" == *"the object was sealed with another key"* ]]
	[ "$(ls "$D")" = secrets ]
	[ "$(ls "$D/secrets")" = "$(printf 'backup_known_hosts\nbackup_ssh_key')" ]
	[ -z "$($DOCKER ps -aq --filter "label=korcluster.cluster=$NAME")" ]
	run -1 "$REPO/korcluster" restore-cluster "$(kc_sftp_url)" "$D" </dev/null
	[[ "$output" == *"no backup key: put it in"* ]]

	run "$REPO/korcluster" restore-cluster "$(kc_sftp_url)" "$D" <<<"$phrase"
	echo "$output"
	[ "$status" = 0 ]
	[[ "$output" == *"cluster \"$NAME\" is restored in $D: 2 of 2 instances, 1 served again"* ]]
	C=$D
	[ "$(kc_get "$P1" /items)" = "$items" ]
	[ "$(fingerprint a)" = "$before" ]
	[ "$(cat "$C/secrets/backup.key")" = "$key" ]
	[ "$(stat -c %a "$C/secrets/backup.key")" = 600 ]
	run -0 "$C/cluster.sh" status --json
	[ "$(echo "$output" | kc_json '[i["state"] for i in d["instances"]]')" = "['running', 'stopped']" ]
	# b, stopped at the push, starts with its data.
	"$C/instances/b/instance.sh" start >/dev/null
	[ "$(kc_get "$P2" /items)" = '{"ids": []}' ]
	# The restored cluster backs up with the same key; its objects open.
	run -0 "$C/cluster.sh" backup verify
	[[ "$output" == *"whole and open with its key"* ]]
	# A target holding more than one cluster needs --cluster.
	mkdir "$T/store/other"
	kc_sftp_login "$T/third"
	run -1 "$REPO/korcluster" restore-cluster "$(kc_sftp_url)" "$T/third" <<<"$phrase"
	echo "$output"
	[[ "$output" == *"say which with --cluster"* ]]
}
