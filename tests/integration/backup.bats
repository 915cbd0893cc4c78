#!/usr/bin/env bats
# Off-site backups (cluster.sh backup) to a real SFTP server: OpenSSH's
# sshd, started by the test on 127.0.0.1 with keys made by the test
# (helpers.bash's kc_sshd).

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

# The cluster's login to the test's server, and its target.
with_target() {
	kc_sftp_login "$C"
	printf '\n[backup]\ntarget = %s\n' "$(kc_sftp_url)" >>"$C/cluster.ini"
}

@test "push seals the configuration and the snapshots before they leave; list, verify and get; get then import gives the same rows" {
	with_items
	"$C/cluster.sh" new --port "$P2" b >/dev/null
	with_target
	run -0 "$C/cluster.sh" backup push
	echo "$output"
	[[ "$output" == *"its recovery phrase, shown this once:"* ]]
	echo "$output" | grep -Eq '^    ([0-9a-f]{4}-){15}[0-9a-f]{4}$'
	[[ "$output" == *"took a snapshot of \"a\""*"a: sent a."*".v1.tar.zst"*"b: sent b."* ]]
	[ "$(stat -c %a "$C/secrets/backup.key")" = 600 ]
	[ "$(find "$T/store/$NAME/cluster" -name '*.tar.kcs' | wc -l)" = 1 ]
	[ "$(find "$T/store/$NAME/instances/a" -name 'a.*.v1.tar.zst.kcs' | wc -l)" = 1 ]
	[ -z "$(find "$T/store" -name '*.part')" ]
	# Nothing plain reaches the target: each object is sealed, and the
	# configuration's secrets (the MySQL root password) are not in it.
	for f in $(find "$T/store" -type f); do [ "$(head -c 6 "$f")" = KCSEAL ]; done
	pw=$(cat "$C"/secrets/*_root_password | head -1)
	run ! grep -rqF "$pw" "$T/store"
	run ! grep -rqF "[cluster]" "$T/store"

	# An instance that is not there: refused before anything is sent.
	n=$(find "$T/store" -type f | wc -l)
	run -1 "$C/cluster.sh" backup push a nosuch
	[[ "$output" == *'no instance "nosuch"'* ]]
	[ "$(find "$T/store" -type f | wc -l)" = "$n" ]
	# Again: the snapshots are recent and there already; a new
	# configuration goes (a second later: its object is named by the
	# second).
	sleep 1
	run -0 "$C/cluster.sh" backup push a
	[[ "$output" == *"a: a."*" is on the target already"* ]]
	[[ "$output" != *"recovery phrase"* ]]
	run -0 "$C/cluster.sh" backup list --json
	echo "$output"
	[ "$(echo "$output" | kc_json '[o["kind"] for o in d].count("snapshot")')" = 2 ]
	[ "$(echo "$output" | kc_json '[o["instance"] for o in d if o["kind"] == "snapshot"]')" = "['a', 'b']" ]
	run -0 "$C/cluster.sh" backup verify
	[[ "$output" == *"all 4 backup objects of cluster \"$NAME\" are whole and open with its key"* ]]

	# Changed on the target: refused by name; with another key: refused.
	obj=$(find "$T/store/$NAME/instances/a" -name '*.kcs')
	cp "$obj" "$T/obj"
	python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[len(b)//2]^=1; open(p,"wb").write(b)' "$obj"
	run -1 "$C/cluster.sh" backup verify
	[[ "$output" == *"a.v1.tar.zst.kcs: the sealed object was modified, damaged or cut short"* || \
		"$output" == *".v1.tar.zst.kcs: the sealed object was modified, damaged or cut short"* ]]
	[[ "$output" == *"1 of 4 backup objects"* ]]
	cp "$T/obj" "$obj"
	# Moved on the target (a's snapshot passed off as b's): refused too.
	bobj=$(find "$T/store/$NAME/instances/b" -name '*.kcs')
	cp "$bobj" "$T/bobj"
	cp "$obj" "$bobj"
	run -1 "$C/cluster.sh" backup verify
	[[ "$output" == *"$(basename "$bobj"): the sealed object was modified, damaged or cut short, or sealed under another name (moved on the target"* ]]
	cp "$T/bobj" "$bobj"
	mv "$C/secrets/backup.key" "$T/key"
	python3 -c 'import os; print(os.urandom(32).hex())' >"$C/secrets/backup.key"
	chmod 600 "$C/secrets/backup.key"
	run -1 "$C/cluster.sh" backup verify
	[[ "$output" == *"the object was sealed with another key"* ]]
	mv "$T/key" "$C/secrets/backup.key"

	# Fetched back, it is the snapshot that was sent; imported into a new
	# instance, it serves the same rows.
	file=$(basename "$obj" .kcs)
	sum=$(sha256sum <"$C/snapshots/$file")
	rm "$C/snapshots/$file"
	run -0 "$C/cluster.sh" backup get "$file"
	[ "$(sha256sum <"$C/snapshots/$file")" = "$sum" ]
	run -1 "$C/cluster.sh" backup get "$file"
	[[ "$output" == *"is here already"* ]]
	"$C/cluster.sh" destroy --yes b >/dev/null
	"$C/cluster.sh" new --port "$P2" c >/dev/null
	run -0 "$C/instances/c/instance.sh" import "$C/snapshots/$file"
	"$C/instances/c/instance.sh" start >/dev/null
	[ "$(kc_get "$P2" /items)" = '{"ids": [1, 2, 3]}' ]
}

@test "a target that is not the known server, or no target, is refused before anything is sent" {
	kc_boot
	with_target
	ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/other" -C other
	echo "[127.0.0.1]:$SP $(cut -d' ' -f1,2 "$T/ssh/other.pub")" >"$C/secrets/backup_known_hosts"
	run -1 "$C/cluster.sh" backup push
	echo "$output"
	[[ "$output" == *"the server's host key is not the one in secrets/backup_known_hosts"* ]]
	[ -z "$(find "$T/store" -type f)" ]
	[ ! -e "$C/secrets/backup.key" ]
	# A login the server does not take.
	echo "[127.0.0.1]:$SP $(cut -d' ' -f1,2 "$T/ssh/host.pub")" >"$C/secrets/backup_known_hosts"
	install -m 600 "$T/ssh/other" "$C/secrets/backup_ssh_key"
	run -1 "$C/cluster.sh" backup list
	echo "$output"
	[[ "$output" == *"the server refuses the login with secrets/backup_ssh_key"* ]]
	chmod 644 "$C/secrets/backup_ssh_key"
	run -1 "$C/cluster.sh" backup list
	[[ "$output" == *"backup_ssh_key may be read by others than its owner"* ]]
	sed -i '/^\[backup\]/,$d' "$C/cluster.ini"
	run -1 "$C/cluster.sh" backup push
	[[ "$output" == *"no backup target: set [backup] target in cluster.ini"* ]]
	printf '[backup]\ntarget = ftp://x@127.0.0.1/store\n' >>"$C/cluster.ini"
	run -1 "$C/cluster.sh" validate
	[[ "$output" == *"is not sftp://USER@HOST[:PORT]/PATH"* ]]
}

@test "a push stopped part-way (SIGTERM) is taken up again, also after a newer snapshot: the .part on the server goes on from where it ends" {
	with_items
	with_target
	# Stopped once the upload's state is kept and 4 MB are on the server:
	# the transfer ends at once, and so does the push, saying so.
	kc_push_killed 'part=$(find "$T/store/$NAME/instances/a" -name "*.part" -size +4M 2>/dev/null) && [ -n "$part" ] && compgen -G "$C/backup/.a.*.state" >/dev/null' TERM
	grep -q "interrupted" "$T/push1.log"
	state=$(compgen -G "$C/backup/.a.*.state")
	[ "$(stat -c %a "$state")" = 600 ]
	sealed=${state%.state}
	size=$(stat -c %s "$sealed")
	had=$(stat -c %s "$part")
	[ "$had" -lt "$size" ]

	# A newer snapshot meanwhile: the next push first takes up the cut-off
	# send, then sends the newer one.  The .part is never shorter than it
	# was: the push adds to it, it does not write it anew.
	sed -i '/^rate_limit/d' "$C/cluster.ini"
	printf 'rate_limit = 8M\n' >>"$C/cluster.ini"
	"$C/instances/a/instance.sh" snapshot >/dev/null
	"$C/cluster.sh" backup push >"$T/push2.log" 2>&1 &
	pid=$!
	least=$had
	while kill -0 "$pid" 2>/dev/null; do
		now=$(stat -c %s "$part" 2>/dev/null) || now=$least
		[ "$now" -ge "$least" ] || least=$now
		sleep 0.1
	done
	wait "$pid"
	cat "$T/push2.log"
	grep -q "a: sent $(basename "$sealed" .kcs | cut -c2-) (an interrupted send, taken up again: .* MiB)" "$T/push2.log"
	[ "$(grep -c '^a: sent a\.' "$T/push2.log")" = 2 ]
	[ "$(find "$T/store/$NAME/instances/a" -name '*.kcs' | wc -l)" = 2 ]
	echo "# object: $size bytes; on the server before: $had; least seen after: $least" >&3
	[ "$least" -ge "$had" ]
	[ ! -e "$state" ]
	[ ! -e "$sealed" ]
	[ ! -e "$part" ]
	run -0 "$C/cluster.sh" backup verify
	[[ "$output" == *"are whole and open with its key"* ]]
	# The send taken up again gives back the snapshot that was sealed.
	kc_got_back "$(basename "$sealed" .kcs | cut -c2-)"
}
