/* `blast dashboard --control mqtt://HOST:PORT [--listen [ADDR:]PORT]`: a
 * long-lived page that lists the agents on the control broker and starts
 * and stops distributed runs from a form (docs/dashboard.md). */
#ifndef BLAST_DIST_CONTROL_DASH_H
#define BLAST_DIST_CONTROL_DASH_H

/* argv[0] is "dashboard". Serves until SIGINT/SIGTERM: 0, or 2 after one
 * line for bad flags, an unreachable broker or a port in use. */
int control_dash_main(int argc, char **argv);

#endif
