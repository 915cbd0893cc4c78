#!/usr/bin/env bats
# The multi-call binary: names, scopes, help, exit codes.  No engine needed.

bats_require_minimum_version 1.5.0
load helpers

setup() { kc_setup; }
teardown() { kc_teardown; }

@test "help and --help print to stdout and exit 0" {
	run "$REPO/cluster.sh" help
	[ "$status" -eq 0 ]
	[[ "$output" == *"usage: cluster.sh COMMAND"* ]]
	[[ "$output" == *"boot "* ]]
	run "$REPO/cluster.sh" boot --help
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "usage: cluster.sh boot" ]]
	run "$REPO/korcluster" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"usage: korcluster [-C DIR] COMMAND"* ]]
	run "$REPO/korcluster" help status
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "usage: korcluster status [--json] [--live]" ]]
	run "$REPO/korcluster" --version
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^korcluster\ [0-9]+\.[0-9]+ ]]
}

@test "usage errors exit 2, unknown commands 127, failures 1 with one line" {
	run "$REPO/cluster.sh"
	[ "$status" -eq 2 ]
	run -127 "$REPO/cluster.sh" frobnicate
	[[ "${lines[0]}" == 'korcluster: unknown command "frobnicate"' ]]
	[[ "$output" == *"create "* ]]
	kc_create
	run "$C/cluster.sh" status --bogus
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == 'korcluster: unknown option or missing value "--bogus"' ]]
	run "$C/cluster.sh" boot extra
	[ "$status" -eq 2 ]
	run "$REPO/cluster.sh" boot
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == "korcluster: no cluster in \"$REPO\": cluster.ini not found; make one with \"cluster.sh create DIR\"" ]]
}

@test "the link's folder is the scope, wherever it is called from" {
	kc_create
	# Through the link, from elsewhere, by a relative path.
	cd "$T"
	run ./c/cluster.sh validate
	[ "$status" -eq 0 ]
	[ "$output" = "$C/cluster.ini: ok (template sample)" ]
	# A link to the link still names its own folder.
	mkdir "$T/other"
	run "$REPO/korcluster" -C "$T/other" validate
	[ "$status" -eq 1 ]
	# -C DIR and the working folder give the same as the link.
	run "$REPO/korcluster" -C "$C" validate
	[ "$output" = "$C/cluster.ini: ok (template sample)" ]
	cd "$C"
	run "$REPO/korcluster" validate
	[ "$output" = "$C/cluster.ini: ok (template sample)" ]
	run "$REPO/korcluster" -C "$T/nosuch" validate
	[ "$status" -eq 1 ]
	[[ "$output" == *"no such folder"* ]]
}

@test "instance.sh is the instance scope" {
	mkdir -p "$T/i"
	ln -s "$REPO/korcluster" "$T/i/instance.sh"
	run "$T/i/instance.sh" help
	[ "$status" -eq 0 ]
	[[ "$output" == *"instance commands:"* ]]
	run -127 "$T/i/instance.sh" boot
}

# Complete the words of line (the last may be partial) as bash would.
complete_line() {
	bash -c '
		source <("$1" completion bash)
		read -ra COMP_WORDS <<<"$2"
		[[ $2 == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_korcluster
		printf "%s\n" "${COMPREPLY[@]}"
	' _ "$REPO/korcluster" "$1"
}

@test "bash completion knows every scope's commands, their options and the instances" {
	kc_create
	mkdir -p "$C/instances/alpha" "$C/instances/beta" "$C/instances/notone"
	touch "$C/instances/alpha/instance.ini" "$C/instances/beta/instance.ini"
	ln -s "$REPO/korcluster" "$C/instances/alpha/instance.sh"
	run -0 complete_line "$C/cluster.sh pr"
	[ "$output" = prune ]
	run -0 complete_line "$C/cluster.sh "
	[[ "$output" == *boot*destroy*validate* ]]
	[[ "$output" != *rollback* ]]
	run -0 complete_line "$C/cluster.sh new --p"
	[ "$output" = --port ]
	run -0 complete_line "$C/cluster.sh destroy "
	[ "$output" = "$(printf 'alpha\nbeta')" ]
	run -0 complete_line "$C/instances/alpha/instance.sh ro"
	[ "$output" = "$(printf 'rollback\nroute')" ]
	run -0 complete_line "$C/instances/alpha/instance.sh route --"
	[[ "$output" == *--primary*--redirect-to*--tls* ]]
	run -0 complete_line "$C/instances/alpha/instance.sh logs --"
	[[ "$output" == *--follow* && "$output" == *--tail* && "$output" == *--help* ]]
	run -0 complete_line "korcluster -C $C/instances/alpha upg"
	[ "$output" = upgrade ]
	run -0 complete_line "korcluster -C $C li"
	[ "$output" = list ]
}

@test "the man page describes every command" {
	run -0 "$REPO/korcluster" man
	[[ "${lines[0]}" == ".TH KORCLUSTER 1 "* ]]
	for c in create boot shutdown status new list clone snapshots prune destroy validate \
		start stop restart logs run snapshot import upgrade rollback envs; do
		grep -qx ".B $c" <<<"$output" || { echo "no $c"; false; }
	done
	[[ "$output" == *'\-\-keep'* ]]
	# help COMMAND comes from the same table as the man page.
	run -0 "$REPO/korcluster" help prune
	[ "${lines[0]}" = "usage: korcluster prune --keep N [INSTANCE]" ]
}

@test "make install puts the binary, its links and the templates under DESTDIR" {
	# Built from a copy of the sources (the tests' own build stays as it is).
	mkdir "$T/src"
	cp -a "$REPO"/{Makefile,korcluster.c,korcluster.h,cluster.c,instance.c,templates} "$T/src/"
	mkdir "$T/src/common"
	cp "$REPO"/common/*.[ch] "$T/src/common/"
	run make -C "$T/src" -j"$(nproc)" install DESTDIR="$T/dest" PREFIX=/opt/kc
	[ "$status" -eq 0 ]
	[ -x "$T/dest/opt/kc/bin/korcluster" ]
	[ "$(readlink "$T/dest/opt/kc/bin/cluster.sh")" = korcluster ]
	[ "$(readlink "$T/dest/opt/kc/bin/instance.sh")" = korcluster ]
	[ -f "$T/dest/opt/kc/share/korcluster/templates/kor.ini" ]
	[ -f "$T/dest/opt/kc/share/korcluster/templates/sample.ini" ]
	grep -q '^\.TH KORCLUSTER 1' "$T/dest/opt/kc/share/man/man1/korcluster.1"
	grep -q '^complete -F _korcluster' "$T/dest/opt/kc/share/bash-completion/completions/korcluster"
	[ "$(readlink "$T/dest/opt/kc/share/bash-completion/completions/cluster.sh")" = korcluster ]
	run "$T/dest/opt/kc/bin/cluster.sh" help
	[ "$status" -eq 0 ]
	# The installed binary looks for templates where PREFIX put them.
	grep -q /opt/kc/share/korcluster "$T/dest/opt/kc/bin/korcluster"
}
