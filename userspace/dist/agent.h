/* `blast agent --control mqtt://HOST:PORT [--name NAME]`: waits on the
 * control broker for runs from a coordinator and runs them
 * (docs/distributed.md). */
#ifndef BLAST_DIST_AGENT_H
#define BLAST_DIST_AGENT_H

/* argv[0] is "agent". Runs until SIGINT/SIGTERM or the control link is
 * lost: 0; 3 when the link was lost; 2 after one line for bad flags or an
 * unreachable broker (no retry: a supervisor restarts it). A run under way
 * when it leaves is stopped and its report kept on this machine. */
int agent_main(int argc, char **argv);

#endif
