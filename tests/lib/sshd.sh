#!/bin/bash
# Usage: tests/lib/sshd.sh start DIR PORT | login DIR PORT CLUSTER | stop DIR
# An SFTP server for the backup tests and benchmarks: OpenSSH's sshd on
# 127.0.0.1:PORT with keys made here (DIR/ssh/host, the client's
# DIR/ssh/client, authorized in DIR/ssh/authorized_keys), logging to
# DIR/ssh/log; start returns once it answers.  login puts the client's key
# and the server's host key in cluster folder CLUSTER's secrets/, as korcluster
# reads them.  stop ends it.
set -euo pipefail

case ${1:-} in
start)
    d=$2/ssh
    mkdir -p "$d" /run/sshd
    ssh-keygen -q -t ed25519 -N '' -f "$d/host" -C host
    ssh-keygen -q -t ed25519 -N '' -f "$d/client" -C client
    cp "$d/client.pub" "$d/authorized_keys"
    cat >"$d/sshd_config" <<CONF
Port $3
ListenAddress 127.0.0.1
HostKey $d/host
PidFile $d/sshd.pid
AuthorizedKeysFile $d/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
Subsystem sftp internal-sftp
CONF
    /usr/sbin/sshd -f "$d/sshd_config" -E "$d/log"
    for _ in $(seq 1 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$3") 2>/dev/null && exit 0
        sleep 0.1
    done
    echo "sshd.sh: sshd does not answer on 127.0.0.1:$3" >&2
    exit 1
    ;;
login)
    mkdir -p "$4/secrets"
    install -m 600 "$2/ssh/client" "$4/secrets/backup_ssh_key"
    echo "[127.0.0.1]:$3 $(cut -d' ' -f1,2 "$2/ssh/host.pub")" >"$4/secrets/backup_known_hosts"
    ;;
stop)
    [ ! -f "$2/ssh/sshd.pid" ] || kill "$(cat "$2/ssh/sshd.pid")" 2>/dev/null || true
    ;;
*)
    echo "usage: tests/lib/sshd.sh start DIR PORT | login DIR PORT CLUSTER | stop DIR" >&2
    exit 2
    ;;
esac
