/* korcluster.h: the command tables main() dispatches on.
 *
 * cluster.c holds the cluster commands (cluster.sh CMD), instance.c the
 * instance commands (instance.sh CMD); each is one function, cmd_NAME,
 * found by its name in the table at the end of its file. */
#ifndef KC_KORCLUSTER_H
#define KC_KORCLUSTER_H

#include "common/cli.h"

extern const struct cmd cluster_cmds[];
extern const struct cmd instance_cmds[];

#endif
