/* --config FILE: a run described in a file, one long flag a line, so a
 * run can be versioned and repeated. The file's flags go in front of the
 * command line's, and a flag given on the command line replaces the
 * file's (every use of it there: --target, --field and the other
 * repeatable ones too). */
#ifndef BLAST_CLI_CONFIG_H
#define BLAST_CLI_CONFIG_H

/* The command line with the run file's flags in front. */
struct config_args {
	int argc;
	char **argv;          /* argv itself when there is no --config */
	const char *path;     /* the run file, NULL without one */
	unsigned *line;       /* per argv index: the file's line it came from, 0 for the command line */
	char *text;           /* the file's content */
	char **made;          /* the argv strings made from the file, to free */
	int n_made;
};

/* Reads --config FILE (or --config=FILE) if argv has one. 0, or one
 * "blast: FILE:LINE: ..." line and BLAST_EXIT_USAGE for a line that is not
 * a flag blast knows with a value in its place. */
int config_expand(int argc, char **argv, struct config_args *out);

/* Hands the file's text over (to struct blast_opts) and frees the rest. */
char *config_take_text(struct config_args *ca);
void config_args_free(struct config_args *ca);

#endif
