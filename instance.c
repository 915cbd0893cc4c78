/* instance.c: the instance commands (instance.sh CMD, korcluster -C DIR CMD).
 * One function per command, cmd_NAME; the table is at the end.  Instances
 * (new, start, stop, ...) are not built yet: the table is empty so that
 * instance.sh answers "unknown command" with a clear list. */
#include "common/cli.h"

const struct cmd instance_cmds[] = {
	{NULL, NULL, NULL, NULL, NULL, 0},
};
